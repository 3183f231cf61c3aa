import numpy as np
import pytest
import soundfile as sf

from callcue.audio.recording import RATE, parse_channel_order, read_recording
from callcue.errors import CallcueError
from tests.conftest import CALLS, USES_CALLS, make_bad_recordings


@USES_CALLS
def test_stereo_left_agent_right_customer_and_swap():
    rec = read_recording(CALLS / "billing-dispute.wav")
    assert list(rec.channels) == ["agent", "customer"]
    swapped = read_recording(CALLS / "billing-dispute.wav", parse_channel_order("customer,agent"))
    assert np.array_equal(swapped.channels["agent"], rec.channels["customer"])
    with pytest.raises(CallcueError):
        parse_channel_order("agent,agent")


@pytest.mark.parametrize("rate, fmt, ext", [(8000, "WAV", "wav"), (44100, "FLAC", "flac"), (16000, "OGG", "ogg"),
                                            (22050, "WAV", "wav")])
def test_formats_and_rates_are_resampled_to_16k(tmp_path, rate, fmt, ext):
    t = np.arange(rate * 2) / rate
    tone = 0.3 * np.sin(2 * np.pi * 440 * t)
    path = tmp_path / f"x.{ext}"
    sf.write(path, np.stack([tone, 0 * tone], 1), rate, format=fmt)
    rec = read_recording(path)
    assert rec.source_rate == rate
    assert abs(len(rec.channels["agent"]) - 2 * RATE) <= 2
    spectrum = np.abs(np.fft.rfft(rec.channels["agent"][: RATE]))
    assert abs(np.argmax(spectrum) - 440) <= 2  # the tone is still 440 Hz at 16 kHz


def test_mono_is_one_mixed_channel(tmp_path):
    path = tmp_path / "m.wav"
    sf.write(path, np.zeros(16000), 16000)
    assert list(read_recording(path).channels) == ["mixed"]


@pytest.mark.parametrize("case", ["missing file", "text named wav", "empty wav", "zero bytes", "truncated wav",
                                  "three channels"])
def test_bad_recordings_get_a_clear_message(tmp_path, case):
    path, words = make_bad_recordings(tmp_path)[case]
    with pytest.raises(CallcueError) as err:
        read_recording(path)
    assert str(path) in str(err.value) and words in str(err.value)
