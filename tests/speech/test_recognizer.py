"""Streaming recognition on the call's sample clock, with the real Korean model, and the channel workers."""

from __future__ import annotations

import difflib
import threading

import numpy as np
import pytest

from callcue.engine.events import TextSegment
from callcue.speech.recognizer import (
    ChannelWorker,
    Overload,
    PartialText,
    StreamingRecognizer,
    recognize_channels,
)
from tests.conftest import calls

RATE = 16000


def customer_audio(seconds: float, call: str = "billing-dispute") -> np.ndarray:
    """The right (customer) channel of a test call (tests/data/calls), as 16 kHz int16."""
    from callcue.audio.recording import read_recording

    rec = read_recording(calls() / f"{call}.wav")
    return rec.channels["customer"][: int(seconds * RATE)]


def run(rec: StreamingRecognizer, pcm: np.ndarray, first: int, chunk: int = 1600) -> list:
    out = []
    for i in range(0, pcm.size, chunk):
        out += rec.accept(pcm[i:i + chunk], first + i)
    return out + rec.flush()


def finals(outputs) -> list[TextSegment]:
    return [o for o in outputs if isinstance(o, TextSegment)]


def assert_similar_lines(got, want, shift: float = 0.0) -> None:
    """The same recognition as another run, up to Vosk's run-to-run jitter.

    Vosk is not deterministic: the same audio through a fresh recognizer on the
    same model gave "세일 유커 ..." then "세이디 유커 ..." then "세일 육 서 ...", word
    starts 0.75 or 0.78 s, confidences 1.0 or 0.86. So compare the whole text
    loosely and the times to within a few frames.
    """
    got, want = finals(got), finals(want)
    assert got and want
    ratio = difflib.SequenceMatcher(None, " ".join(s.text for s in got), " ".join(s.text for s in want)).ratio()
    assert ratio > 0.7, ratio
    assert got[0].start == pytest.approx(want[0].start + shift, abs=0.2)
    assert got[-1].end == pytest.approx(want[-1].end + shift, abs=0.2)


def check_structure(outputs, who: str, start_s: float, end_s: float) -> None:
    segs = finals(outputs)
    assert segs, "the customer speaks in this stretch: some line must be recognised"
    prev_end = start_s
    for seg in segs:
        assert seg.who == who
        assert seg.words and seg.text.strip()
        assert seg.start == seg.words[0].start and seg.end == seg.words[-1].end
        assert start_s <= seg.start <= seg.end <= end_s + 0.05
        assert seg.start >= prev_end - 0.05  # lines follow one another
        prev_end = seg.end
        for a, b in zip(seg.words, seg.words[1:], strict=False):
            assert a.start <= a.end <= b.start + 1e-6
        assert all(0.0 <= w.conf <= 1.0 for w in seg.words)
    partials = [o for o in outputs if isinstance(o, PartialText)]
    assert partials
    assert all(p.who == who and start_s < p.at <= end_s + 1e-6 and p.text for p in partials)
    assert [p.at for p in partials] == sorted(p.at for p in partials)


@pytest.mark.slow
def test_words_are_on_the_call_clock(korean_model):
    pcm = customer_audio(20)
    at_zero = run(StreamingRecognizer(korean_model, who="customer"), pcm, 0)
    check_structure(at_zero, "customer", 0.0, 20.0)

    # The same audio, as if this recognizer started 65 s into the call: same lines, shifted by 65 s.
    offset = 65 * RATE
    later = run(StreamingRecognizer(korean_model, who="customer"), pcm, offset)
    check_structure(later, "customer", 65.0, 85.0)
    assert_similar_lines(later, at_zero, shift=65.0)


@pytest.mark.slow
def test_a_gap_ends_the_line_and_later_words_come_after_it(korean_model):
    pcm = customer_audio(20)
    rec = StreamingRecognizer(korean_model, who="customer")
    first = run_no_flush(rec, pcm[: 9 * RATE], 0)
    # 9 s in, the audio stops (a lost device) and comes back at 30 s of the call.
    resumed = rec.accept(pcm[9 * RATE: 9 * RATE + 1600], 30 * RATE)
    assert finals(resumed), "the line being spoken at the gap is finished at the gap"
    assert all(s.end <= 9.0 + 0.05 for s in finals(first + resumed))
    rest = []
    for i in range(9 * RATE + 1600, pcm.size, 1600):
        rest += rec.accept(pcm[i:i + 1600], 30 * RATE + (i - 9 * RATE))
    rest += rec.flush()
    assert finals(rest)
    assert all(s.start >= 30.0 for s in finals(rest))
    assert all(p.at > 30.0 for p in rest if isinstance(p, PartialText))


def run_no_flush(rec, pcm, first, chunk=1600):
    out = []
    for i in range(0, pcm.size, chunk):
        out += rec.accept(pcm[i:i + chunk], first + i)
    return out


@pytest.mark.slow
def test_overlapping_audio_is_skipped_and_input_is_checked(korean_model):
    rec = StreamingRecognizer(korean_model, who="agent")
    silence = np.zeros(3200, dtype=np.int16)
    rec.accept(silence, 0)
    rec.accept(silence, 1600)  # half of it was heard already
    assert rec.next_sample == 4800
    with pytest.raises(TypeError, match="mono int16"):
        rec.accept(np.zeros(100, dtype=np.float32), 4800)
    assert rec.flush() == []  # silence only: no line


@pytest.mark.slow
def test_an_8khz_model_gets_resampled_audio_on_the_same_clock(tmp_path, korean_model):
    from callcue.speech.models import SpeechModel

    # The Korean model pretending to be an 8 kHz model: the recognizer must resample, and times stay right.
    as_8k = SpeechModel(path=korean_model.path, name="ko-as-8k", sample_rate=8000, vosk=korean_model.vosk)
    rec = StreamingRecognizer(as_8k, who="customer")
    assert rec.model_rate == 8000
    outputs = run(rec, customer_audio(15), 2 * RATE)
    for seg in finals(outputs):
        assert 2.0 <= seg.start <= seg.end <= 17.05


@pytest.mark.slow
def test_recognize_channels_shares_one_model_and_orders_by_availability(korean_model):
    from callcue.audio.recording import read_recording

    rec = read_recording(calls() / "billing-dispute.wav")
    chans = {k: v[: 14 * RATE] for k, v in rec.channels.items()}
    found = recognize_channels(korean_model, chans, partials=False)
    assert {r.who for r in found} == {"agent", "customer"}
    readies = [r.ready for r in found]
    assert readies == sorted(readies)
    for r in found:
        assert isinstance(r.output, TextSegment) and r.output.who == r.who
        assert r.output.end <= r.ready / RATE + 1e-6  # known only after its audio was heard
    # The same as one recognizer per channel on its own.
    alone = finals(run(StreamingRecognizer(korean_model, who="customer", partials=False),
                       chans["customer"], 0, chunk=3200))
    assert_similar_lines([r.output for r in found if r.who == "customer"], alone)


@pytest.mark.slow
def test_two_channel_workers_share_one_model(korean_model):
    from callcue.audio.recording import read_recording

    rec = read_recording(calls() / "billing-dispute.wav")
    got: dict[str, list] = {"agent": [], "customer": []}
    lock = threading.Lock()

    def on_results(who, outputs):
        with lock:
            got[who].extend(outputs)

    workers = {who: ChannelWorker(who, StreamingRecognizer(korean_model, who=who), on_results,
                                  maxsize=1000).start() for who in got}
    n = 12 * RATE
    for i in range(0, n, 1600):
        for who, w in workers.items():
            assert w.submit(rec.channels[who][i:i + 1600], i)
    for w in workers.values():
        assert w.close(timeout=120)
        assert w.error is None and w.dropped_samples == 0
    for who in got:
        check_structure(got[who], who, 0.0, n / RATE)
        direct = run(StreamingRecognizer(korean_model, who=who), rec.channels[who][:n], 0)
        assert_similar_lines(got[who], direct)


class BlockingRecognizer:
    """A stand-in recognizer that holds the worker until the test lets it go."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()
        self.accepted: list[int] = []
        self.flushed = False

    def accept(self, pcm, first_sample):
        self.entered.set()
        self.release.wait()
        self.accepted.append(first_sample)
        return [PartialText("agent", (first_sample + pcm.size) / RATE, "x")]

    def flush(self):
        self.flushed = True
        return [TextSegment("agent", 0.0, 0.1, "done")]


def test_a_full_queue_reports_overload_instead_of_blocking():
    fake = BlockingRecognizer()
    overloads: list[Overload] = []
    results = []
    w = ChannelWorker("agent", fake, lambda who, out: results.extend(out), on_overload=overloads.append,
                      maxsize=2).start()
    chunk = np.zeros(1600, dtype=np.int16)
    assert w.submit(chunk, 0)
    assert fake.entered.wait(10)  # the worker holds chunk 0; the queue is empty again
    assert w.submit(chunk, 1600) and w.submit(chunk, 3200)  # fills the queue (2)
    assert not w.submit(chunk, 4800)  # dropped, at once
    assert not w.submit(chunk, 6400)
    assert [(o.who, o.at, o.dropped_s, o.queued) for o in overloads] == [
        ("agent", 0.3, 0.1, 2), ("agent", 0.4, 0.1, 2)]
    assert overloads[-1].total_dropped_s == pytest.approx(0.2)
    fake.release.set()
    assert w.close(timeout=10)
    assert fake.accepted == [0, 1600, 3200] and fake.flushed
    assert results[-1] == TextSegment("agent", 0.0, 0.1, "done")
    assert not w.submit(chunk, 8000)  # closed


def test_a_recording_waits_for_the_recognizer_instead_of_dropping():
    fake = BlockingRecognizer()
    overloads: list[Overload] = []
    w = ChannelWorker("agent", fake, lambda who, out: None, on_overload=overloads.append, maxsize=1,
                      wait=True).start()
    chunk = np.zeros(1600, dtype=np.int16)
    producer = threading.Thread(target=lambda: [w.submit(chunk, k * 1600) for k in range(6)])
    producer.start()
    assert fake.entered.wait(10)
    assert producer.is_alive()  # held at the full queue, not dropping
    fake.release.set()
    producer.join(10)
    assert w.close(timeout=10)
    assert fake.accepted == [k * 1600 for k in range(6)] and not overloads and w.dropped_samples == 0


def test_a_failing_recognizer_is_reported_not_lost():
    class Broken:
        def accept(self, pcm, first_sample):
            raise RuntimeError("decoder exploded")

        def flush(self):
            return []

    errors = []
    w = ChannelWorker("customer", Broken(), lambda who, out: None,
                      on_error=lambda who, err: errors.append((who, str(err)))).start()
    w.submit(np.zeros(160, dtype=np.int16), 0)
    assert w.close(timeout=10)
    assert errors == [("customer", "decoder exploded")]
    assert isinstance(w.error, RuntimeError)
    assert not w.submit(np.zeros(160, dtype=np.int16), 160)


def test_the_queue_must_be_bounded():
    with pytest.raises(ValueError, match="bounded"):
        ChannelWorker("agent", BlockingRecognizer(), lambda who, out: None, maxsize=0)
