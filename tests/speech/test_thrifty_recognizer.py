"""A channel's recognizer leaves long silences undecoded (CPU) and is replaced at a line's end once it
is RENEW_S old (memory): at Vosk's endpoint, at a pause or in a silence, never in the middle of a word."""

from __future__ import annotations

import numpy as np
import pytest

from callcue.audio.recording import read_recording
from callcue.calls.offline import _reset_dither
from callcue.engine.events import TextSegment, Word
from callcue.speech.heap import MemoryBudget, give_back_memory, tame_malloc
from callcue.speech.live import IDLE_S, LEAST_S, PREROLL_S, ThriftyRecognizer
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
        self.skips: list[int] = []
        self.talking = False  # heard a voice since the last line ended

    def accept(self, pcm, first_sample):  # noqa: ANN001, ANN201
        self.fed += len(pcm)
        self.talking = self.talking or bool(np.any(pcm))
        end = first_sample + len(pcm)
        self.ended = end in self.ends_at
        self.talking = self.talking and not self.ended
        return [TextSegment("agent", 0, 0, "w", [Word("w", 0, 0, 1.0)])] if self.ended else []

    def take_pending(self):  # noqa: ANN201
        return None  # decodes all it is given at once

    def skip_to(self, first_sample: int) -> None:
        self.skips.append(first_sample)

    def flush(self):  # noqa: ANN201
        self.flushed += 1
        self.ended = True
        words, self.talking = self.talking, False
        return [TextSegment("agent", 0, 0, "cut", [Word("cut", 0, 0, 1.0)])] if words else []


def voice(seconds: float) -> np.ndarray:
    """Loud harmonic noise that webrtcvad calls speech."""
    t = np.arange(int(seconds * RATE)) / RATE
    rng = np.random.default_rng(1)
    x = sum(np.sin(2 * np.pi * f * t) for f in (180, 360, 540, 900)) + rng.normal(0, 0.3, t.size)
    return (x / np.abs(x).max() * 12000).astype(np.int16)


def feed(rec: ThriftyRecognizer, audio: np.ndarray, start: int = 0, block: int = 1600) -> list:
    out = []
    for i in range(0, len(audio), block):
        out += rec.accept(audio[i:i + block], start + i)
    return out


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), np.int16)


def test_renewed_at_an_endpoint_only_once_old_enough():
    FakeRecognizer.made = 0
    ends = {RATE * 2, RATE * 6, RATE * 7}  # Vosk's endpoints at 2 s, 6 s and 7 s
    rec = ThriftyRecognizer(lambda: FakeRecognizer(ends), renew_s=5.0)
    first = rec.rec
    feed(rec, voice(8.0))
    assert rec.renewals == 1 and FakeRecognizer.made == 2  # not at 2 s (too early), at 6 s, not at 7 s
    assert first.fed == 6 * RATE and first.flushed == 0  # the old one heard up to its endpoint, no cut


def test_a_speaker_without_endpoints_is_cut_at_a_pause_not_mid_word():
    FakeRecognizer.made = 0
    rec = ThriftyRecognizer(lambda: FakeRecognizer(set()), renew_s=5.0)
    first = rec.rec
    talk = np.concatenate([voice(6.0), np.zeros(int(0.5 * RATE), np.int16), voice(3.0)])
    out = feed(rec, talk)
    assert rec.renewals == 1
    assert first.flushed == 1 and [o.text for o in out] == ["cut"]  # the line so far came out whole
    # cut inside the pause, after 0.3 s of it: not before the pause began, not after it ended
    assert 6.0 * RATE + 0.3 * RATE <= first.fed <= 6.5 * RATE


def test_no_pause_no_cut():
    rec = ThriftyRecognizer(lambda: FakeRecognizer(set()), renew_s=2.0)
    feed(rec, voice(6.0))
    assert rec.renewals == 0 and rec.rec.flushed == 0


def test_a_silence_is_not_decoded_and_speech_resumes_with_what_came_just_before():
    rec = ThriftyRecognizer(lambda: BufferingFake(set()), renew_s=100.0)
    first = rec.rec
    out = feed(rec, np.concatenate([voice(2.0), silence(4.0), voice(2.0)]))
    assert rec.renewals == 0 and rec.rec is first
    # decoded until webrtcvad had heard IDLE_S without speech (it holds on to speech for a few frames)
    stop = max(a + n for a, n in first.given if a < 4 * RATE)
    assert (2 + IDLE_S) * RATE <= stop <= (2 + IDLE_S + 0.3) * RATE
    assert first.flushed == 1 and [o.text for o in out] == ["cut"]  # the line was ended there
    # resumed PREROLL_S before the block in which the voice came back, and told where the gap ends
    resumed = next(g for g in first.given if g[0] >= 4 * RATE)
    assert resumed == (6 * RATE - PREROLL_S * RATE, PREROLL_S * RATE + 1600) and first.skips == [resumed[0]]
    assert first.fed == stop + (PREROLL_S + 2) * RATE
    assert rec.skipped == 6 * RATE - PREROLL_S * RATE - stop


def test_a_recognizer_grown_old_in_a_silence_is_replaced_there():
    made: list[FakeRecognizer] = []
    rec = ThriftyRecognizer(lambda: made.append(FakeRecognizer(set())) or made[-1], renew_s=10.0)
    feed(rec, np.concatenate([voice(4.0), silence(12.0)]))
    assert rec.renewals == 1 and len(made) == 2
    assert made[1].fed == 0  # replaced in the silence, at 10 s: its memory is back before the next line
    feed(rec, silence(20.0), start=16 * RATE)
    assert rec.renewals == 1  # a fresh one that has heard nothing is not replaced


def test_a_long_line_is_ended_and_its_recognizer_replaced_in_the_pause_after_it():
    made: list[FakeRecognizer] = []
    rec = ThriftyRecognizer(lambda: made.append(FakeRecognizer(set())) or made[-1], renew_s=10.0)
    out = feed(rec, np.concatenate([voice(11.0), silence(3.0)]))
    assert [o.text for o in out] == ["cut"] and made[0].flushed == 1  # the line came out once, whole
    assert rec.renewals == 1 and 11 * RATE < made[0].fed < (11 + IDLE_S) * RATE  # replaced within the pause
    assert rec.idle and made[1].fed < IDLE_S * RATE  # and then the silence was left undecoded


def test_without_idling_every_sample_is_decoded():
    rec = ThriftyRecognizer(lambda: FakeRecognizer(set()), renew_s=100.0, idle_s=None)
    feed(rec, np.concatenate([voice(1.0), silence(5.0), voice(1.0)]))
    assert rec.rec.fed == 7 * RATE and rec.skipped == 0 and not rec.rec.skips


def budget_at(mb: float) -> MemoryBudget:
    return MemoryBudget(800, gauge=lambda: mb)  # margins: pressed at 720, over at 755, critical at 780


def made_list() -> tuple[list[FakeRecognizer], object]:
    made: list[FakeRecognizer] = []
    return made, lambda: made.append(FakeRecognizer({RATE * 3})) or made[-1]


def test_with_memory_to_spare_a_recognizer_lives_on_however_old():
    made, make = made_list()
    rec = ThriftyRecognizer(make, renew_s=2.0, budget=budget_at(600))
    feed(rec, np.concatenate([voice(4.0), silence(30.0), voice(4.0)]))
    assert rec.renewals == 0 and len(made) == 1  # its cache stays warm: cheaper decoding


def test_near_the_limit_a_quiet_channel_gives_its_cache_back_and_a_speaking_one_keeps_it():
    made, make = made_list()
    rec = ThriftyRecognizer(make, budget=budget_at(730))
    feed(rec, voice(5.0))
    assert rec.renewals == 0  # speaking, past an endpoint (at 3 s): not yet
    feed(rec, silence(2.0), start=5 * RATE)
    assert rec.renewals == 1 and rec.idle and made[1].fed == 0  # replaced in the silence


def test_nearer_a_speaking_channel_is_replaced_at_its_line_end():
    made, make = made_list()
    rec = ThriftyRecognizer(make, budget=budget_at(760))
    feed(rec, voice(5.0))
    assert rec.renewals == 1 and made[0].fed == 3 * RATE and made[0].flushed == 0  # at Vosk's endpoint


def test_at_the_limit_a_line_without_a_pause_is_cut_where_it_is():
    made: list[FakeRecognizer] = []
    rec = ThriftyRecognizer(lambda: made.append(FakeRecognizer(set())) or made[-1], budget=budget_at(790))
    out = feed(rec, voice(3.0))
    assert [o.text for o in out] == ["cut"] and made[0].flushed == 1 and rec.renewals == 1
    assert made[0].fed == LEAST_S * RATE  # not before it held enough for its cache to be the problem


def test_where_memory_cannot_be_read_recognizers_are_replaced_by_age():
    made, make = made_list()
    rec = ThriftyRecognizer(make, renew_s=2.0, budget=MemoryBudget(800, gauge=lambda: None))
    assert rec.budget is None
    feed(rec, voice(4.0))
    assert rec.renewals == 1 and made[0].fed == 3 * RATE


@pytest.mark.slow
def test_leaving_silences_undecoded_keeps_the_words_and_their_times(korean_model, short_call):  # noqa: F811
    pcm = read_recording(short_call.wav).channels["agent"]

    def lines(idle_s: float | None) -> tuple[list[TextSegment], ThriftyRecognizer]:
        _reset_dither()
        rec = ThriftyRecognizer(lambda: StreamingRecognizer(korean_model, who="agent"), renew_s=100.0,
                                idle_s=idle_s)
        out = feed(rec, pcm) + rec.flush()
        return [o for o in out if isinstance(o, TextSegment)], rec

    everything, _ = lines(None)
    thrifty, rec = lines(IDLE_S)
    assert rec.skipped > 2 * RATE  # the agent listens for several seconds in this call
    assert thrifty and len(thrifty) == len(everything)
    for a, b in zip(thrifty, everything, strict=True):
        # the same lines on the call's clock: a wrong clock would be off by the seconds skipped (the
        # Korean model's words for English speech, and so where a line starts, may differ)
        assert abs(a.end - b.end) < 0.25
    for line in thrifty:  # no line spans a silence that was left undecoded
        assert all(w2.start - w1.end < IDLE_S + PREROLL_S for w1, w2 in zip(line.words, line.words[1:], strict=False))


def test_malloc_settings_are_harmless_to_repeat():
    tame_malloc()
    tame_malloc()
    give_back_memory()


@pytest.mark.slow
def test_a_renewing_recognizer_keeps_the_call_clock(korean_model, short_call):  # noqa: F811
    pcm = read_recording(short_call.wav).channels["agent"]
    rec = ThriftyRecognizer(lambda: StreamingRecognizer(korean_model, who="agent"), renew_s=2.0)
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
    rec = ThriftyRecognizer(lambda: made.append(BufferingFake({RATE * 6})) or made[-1], renew_s=5.0)
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
