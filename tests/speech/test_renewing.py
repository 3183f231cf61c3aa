"""A channel's recognizer is replaced at a line's end once it has decoded RENEW_S of audio (memory),
at Vosk's endpoint or at a pause, and never in the middle of a word."""

from __future__ import annotations

import numpy as np
import pytest

from callcue.audio.recording import read_recording
from callcue.engine.events import TextSegment, Word
from callcue.speech.heap import give_back_memory, tame_malloc
from callcue.speech.live import Renewing
from callcue.speech.recognizer import PARTIAL_EVERY, PartialText, StreamingRecognizer
from tests.pulse import short_call  # noqa: F401 - a fixture

RATE = 16000


class FakeRecognizer:
    """Says a line ended where the test says so; remembers what it was given."""

    made = 0

    def __init__(self, ends_at: set[int]) -> None:
        FakeRecognizer.made += 1
        self.ends_at = ends_at
        self.ended = False
        self.flushed = 0
        self.fed = 0

    def accept(self, pcm, first_sample):  # noqa: ANN001, ANN201
        self.fed += len(pcm)
        end = first_sample + len(pcm)
        self.ended = end in self.ends_at
        return [TextSegment("agent", 0, 0, "w", [Word("w", 0, 0, 1.0)])] if self.ended else []

    def take_pending(self):  # noqa: ANN201
        return None  # decodes all it is given at once

    def flush(self):  # noqa: ANN201
        self.flushed += 1
        return [TextSegment("agent", 0, 0, "cut", [Word("cut", 0, 0, 1.0)])]


def voice(seconds: float) -> np.ndarray:
    """Loud harmonic noise that webrtcvad calls speech."""
    t = np.arange(int(seconds * RATE)) / RATE
    rng = np.random.default_rng(1)
    x = sum(np.sin(2 * np.pi * f * t) for f in (180, 360, 540, 900)) + rng.normal(0, 0.3, t.size)
    return (x / np.abs(x).max() * 12000).astype(np.int16)


def feed(rec: Renewing, audio: np.ndarray, start: int = 0, block: int = 1600) -> list:
    out = []
    for i in range(0, len(audio), block):
        out += rec.accept(audio[i:i + block], start + i)
    return out


def test_renewed_at_an_endpoint_only_once_enough_audio_was_decoded():
    FakeRecognizer.made = 0
    ends = {RATE * 2, RATE * 6, RATE * 7}  # Vosk's endpoints at 2 s, 6 s and 7 s
    rec = Renewing(lambda: FakeRecognizer(ends), renew_s=5.0)
    first = rec.rec
    feed(rec, voice(8.0))
    assert rec.renewals == 1 and FakeRecognizer.made == 2  # not at 2 s (too early), at 6 s, not at 7 s
    assert first.fed == 6 * RATE and first.flushed == 0  # the old one heard up to its endpoint, no cut


def test_a_speaker_without_endpoints_is_cut_at_a_pause_not_mid_word():
    FakeRecognizer.made = 0
    rec = Renewing(lambda: FakeRecognizer(set()), renew_s=5.0)
    first = rec.rec
    talk = np.concatenate([voice(6.0), np.zeros(int(0.5 * RATE), np.int16), voice(3.0)])
    out = feed(rec, talk)
    assert rec.renewals == 1
    assert first.flushed == 1 and [o.text for o in out] == ["cut"]  # the line so far came out whole
    # cut inside the pause, after 0.3 s of it: not before the pause began, not after it ended
    assert 6.0 * RATE + 0.3 * RATE <= first.fed <= 6.5 * RATE


def test_no_pause_no_cut():
    rec = Renewing(lambda: FakeRecognizer(set()), renew_s=2.0)
    feed(rec, voice(6.0))
    assert rec.renewals == 0 and rec.rec.flushed == 0


def test_malloc_settings_are_harmless_to_repeat():
    tame_malloc()
    tame_malloc()
    give_back_memory()


@pytest.mark.slow
def test_a_renewing_recognizer_keeps_the_call_clock(korean_model, short_call):  # noqa: F811
    pcm = read_recording(short_call.wav).channels["agent"]
    rec = Renewing(lambda: StreamingRecognizer(korean_model, who="agent"), renew_s=2.0)
    out = feed(rec, pcm)
    out += rec.flush()
    lines = [o for o in out if isinstance(o, TextSegment)]
    assert rec.renewals >= 2 and lines
    words = [w for line in lines for w in line.words]
    assert all(a.end <= b.start + 1e-6 for a, b in zip(words, words[1:], strict=False))  # in order, on one clock
    assert 0 <= words[0].start and words[-1].end <= len(pcm) / RATE
    partials = [o.at for o in out if isinstance(o, PartialText)]
    # a partial result is asked for at most every PARTIAL_EVERY samples of one line
    assert all(b - a >= PARTIAL_EVERY / RATE - 1e-6 for a, b in zip(partials, partials[1:], strict=False)
               if not any(a < line.end <= b for line in lines))


class BufferingFake(FakeRecognizer):
    """Keeps the last 0.1 s it was given undecoded, as StreamingRecognizer gathers 0.2 s pieces."""

    def __init__(self, ends_at: set[int]) -> None:
        super().__init__(ends_at)
        self.given: list[tuple[int, int]] = []  # (first sample, samples) of each accept

    def accept(self, pcm, first_sample):  # noqa: ANN001, ANN201
        self.given.append((first_sample, len(pcm)))
        return super().accept(pcm, first_sample)

    def take_pending(self):  # noqa: ANN201
        return np.full(RATE // 10, 7, np.int16), self.fed - RATE // 10


def test_a_new_recognizer_decodes_what_the_old_one_had_not_yet():
    made: list[BufferingFake] = []
    rec = Renewing(lambda: made.append(BufferingFake({RATE * 6})) or made[-1], renew_s=5.0)
    feed(rec, voice(7.0))
    assert rec.renewals == 1
    assert made[1].given[0] == (6 * RATE - RATE // 10, RATE // 10)  # the old one's last 0.1 s, first


def test_pending_audio_is_handed_over_with_its_place(korean_model):
    rec = StreamingRecognizer(korean_model, who="agent")
    assert rec.take_pending() is None
    pcm = voice(0.3)
    rec.accept(pcm, 8000)  # 0.2 s decoded, 0.1 s waiting for the next piece
    left, first = rec.take_pending()
    assert first == 8000 + 3200 and np.array_equal(left, pcm[3200:])
    assert rec.next_sample == first and rec.take_pending() is None
