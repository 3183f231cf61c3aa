import tracemalloc

import numpy as np
import pytest
import soundfile as sf

from callcue.audio.recording import BLOCK, RATE, open_recording, parse_channel_order, read_recording
from callcue.errors import CallcueError
from tests.conftest import CALL_NAMES, CALLS, USES_CALLS, make_bad_recordings


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


# --------------------------------------------------------------------------- in blocks


def joined(reader, size: int = BLOCK) -> dict[str, np.ndarray]:
    blocks = list(reader.blocks(size))
    assert all(len(x) == size for b in blocks[:-1] for x in b.values())
    assert all(0 < len(x) <= size for x in blocks[-1].values())
    return {who: np.concatenate([b[who] for b in blocks]) for who in blocks[0]}


@pytest.mark.parametrize("name", CALL_NAMES)
def test_blocks_are_the_samples_of_read_recording(name):
    whole = read_recording(CALLS / f"{name}.wav")
    reader = open_recording(CALLS / f"{name}.wav")
    assert reader.channels == tuple(whole.channels) and reader.samples == len(whole.channels["agent"])
    assert reader.duration_s == whole.duration_s and reader.source_rate == whole.source_rate == RATE
    for size in (BLOCK, 3 * 1600, 12345):
        got = joined(reader, size)
        assert list(got) == list(whole.channels)
        assert all(np.array_equal(got[who], whole.channels[who]) for who in got), size


def test_blocks_keep_the_channel_order():
    order = parse_channel_order("customer,agent")
    whole = read_recording(CALLS / "billing-dispute.wav", order)
    got = joined(open_recording(CALLS / "billing-dispute.wav", order), 16000)
    assert list(got) == ["agent", "customer"] and np.array_equal(got["agent"], whole.channels["agent"])
    assert np.array_equal(got["agent"], read_recording(CALLS / "billing-dispute.wav").channels["customer"])


@pytest.mark.parametrize("rate, fmt, ext, channels", [(8000, "WAV", "wav", 2), (44100, "FLAC", "flac", 2),
                                                      (48000, "OGG", "ogg", 2), (22050, "WAV", "wav", 1),
                                                      (11025, "FLAC", "flac", 1), (16000, "OGG", "ogg", 1)])
def test_blocks_of_other_rates_are_resampled_to_the_same_samples(tmp_path, rate, fmt, ext, channels):
    """soxr's stream, flushed at the end, gives its one-shot's samples exactly (the same HQ filter over
    the same input), and as many: block by block is read_recording's recording, bit for bit."""
    rng = np.random.default_rng(rate)
    n = int(rate * 23.7) + 7  # 23.7 s: more than two blocks, and a length that does not divide evenly
    t = np.arange(n) / rate
    left = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(n)
    data = np.stack([left, 0.2 * rng.standard_normal(n)], 1)[:, :channels]
    path = tmp_path / f"x.{ext}"
    sf.write(path, data, rate, format=fmt)
    whole = read_recording(path)
    reader = open_recording(path)
    assert reader.source_rate == whole.source_rate == rate
    for size in (BLOCK, 1600 * 7):
        got = joined(reader, size)
        assert list(got) == list(whole.channels)
        for who, pcm in whole.channels.items():
            assert len(got[who]) == len(pcm) == reader.samples
            assert np.array_equal(got[who], pcm), (who, size)


@pytest.mark.parametrize("case", ["missing file", "text named wav", "empty wav", "zero bytes", "truncated wav",
                                  "three channels"])
def test_a_bad_recording_gets_the_same_message_in_blocks(tmp_path, case):
    path, words = make_bad_recordings(tmp_path)[case]
    with pytest.raises(CallcueError) as whole:
        read_recording(path)
    with pytest.raises(CallcueError) as blocks:
        list(open_recording(path).blocks())
    assert str(blocks.value) == str(whole.value) and words in str(blocks.value)


def test_reading_in_blocks_holds_one_block_not_the_recording(tmp_path):
    """Ten minutes of stereo: read at once, the decoding holds hundreds of MB (float32, rounding, int16);
    in blocks, a few blocks' worth whatever the length. numpy's buffers are seen by tracemalloc."""
    path = tmp_path / "long.wav"
    rng = np.random.default_rng(3)
    with sf.SoundFile(path, "w", RATE, 2, subtype="PCM_16") as f:
        for _ in range(60):  # 10 s at a time: the test itself holds little
            f.write(rng.integers(-3000, 3000, (10 * RATE, 2), dtype=np.int16))
    tracemalloc.start()
    try:
        total = 0
        for b in open_recording(path).blocks():
            total += len(b["agent"])
        _, in_blocks = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        whole = read_recording(path)
        _, at_once = tracemalloc.get_traced_memory()
        del whole
    finally:
        tracemalloc.stop()
    assert total == 600 * RATE
    mb = 1 << 20
    assert at_once > 100 * mb  # the check can tell: a whole read is seen
    assert in_blocks < 12 * mb, in_blocks / mb  # a 10 s block is 1.3 MB as float32 stereo
