import numpy as np
import pytest
import soundfile as sf

from callcue.audio.recording import RATE, parse_channel_order, read_recording
from callcue.errors import CallcueError
from tests.conftest import CALLS


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


def bad_inputs(tmp_path):
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio\n")
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros((0, 2)), 16000)
    zero = tmp_path / "zero.wav"
    zero.write_bytes(b"")
    trunc = tmp_path / "trunc.wav"
    data = (CALLS / "password-reset.wav").read_bytes()
    trunc.write_bytes(data[: len(data) // 3])
    four = tmp_path / "four.wav"
    sf.write(four, np.zeros((1600, 4)), 16000)
    return {
        "missing": (tmp_path / "nope.wav", "no such file"),
        "text": (text, "not a readable"),
        "empty": (empty, "no audio"),
        "zero bytes": (zero, "empty"),
        "truncated": (trunc, "truncated"),
        "four channels": (four, "4 channels"),
    }


@pytest.mark.parametrize("case", ["missing", "text", "empty", "zero bytes", "truncated", "four channels"])
def test_bad_recordings_get_a_clear_message(tmp_path, case):
    path, words = bad_inputs(tmp_path)[case]
    with pytest.raises(CallcueError) as err:
        read_recording(path)
    assert str(path) in str(err.value) and words in str(err.value)
