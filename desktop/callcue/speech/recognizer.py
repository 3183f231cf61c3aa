"""Vosk streaming recognition on the call's sample clock.

`StreamingRecognizer` wraps one KaldiRecognizer (one per channel; the loaded
model is shared). Its outputs are plain dataclasses:

  * `PartialText(who, at, text)`: the line still being spoken, `at` = end of the
    audio heard so far. Emitted only when the text changes.
  * `TextSegment(who, start, end, text, words)` (callcue.engine.events): a final
    line with per-word times and confidences.

Times are seconds on the call's clock: sample n of the channel is n / rate,
whatever sample this recognizer's audio began at and whatever gaps the audio
had (a gap ends the current line, so no line spans it).

`ChannelWorker` runs one recognizer on its own thread behind a bounded queue.
Vosk decodes in C and releases the GIL, so two channels decode in parallel.
When the queue is full the audio is dropped and `on_overload` hears about it:
never a silent lag, never a blocked audio callback.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from callcue.engine.clock import RATE
from callcue.engine.events import TextSegment, Word

# Decode in 0.2 s pieces: endpoints are found promptly however big the caller's chunks, and a
# device's 0.1 s blocks are gathered in pairs (Kaldi's per-call overhead made 0.1 s pieces cost
# about 15% more CPU).
STEP = 3200
# A partial result costs a best-path search over the line so far: asked every 0.1 s block it took
# an eighth of the decoding time. Four a second is plenty for a caption that is read, not watched.
PARTIAL_EVERY = 4000


@dataclass
class PartialText:
    who: str
    at: float
    text: str


RecognizerOutput = TextSegment | PartialText


class StreamingRecognizer:
    def __init__(self, model: Any, rate: int = RATE, who: str = "", partials: bool = True) -> None:
        """`model` is a speech.models.SpeechModel (or a bare vosk.Model made for `rate`)."""
        from .models import SpeechModel, new_kaldi_recognizer

        self.who = who
        self.rate = int(rate)
        self.partials = partials
        if isinstance(model, SpeechModel):
            self.model_rate = model.sample_rate
            self._rec = new_kaldi_recognizer(model)
        else:
            import vosk

            self.model_rate = self.rate
            self._rec = vosk.KaldiRecognizer(model, float(self.rate))
            self._rec.SetWords(True)
        self._resampler = None
        if self.model_rate != self.rate:
            import soxr

            self._resampler = soxr.ResampleStream(self.rate, self.model_rate, 1, dtype="int16")
        self._fed = 0  # samples (at `rate`) given to Vosk: its own clock
        self._next: int | None = None  # the call sample expected next
        self._spans: list[tuple[int, int]] = []  # (Vosk clock, call sample) where each unbroken run began
        self._last_partial = ""
        self.ended = False  # the last audio decoded ended a line (an endpoint, with words or not), or a flush did
        self._since_partial = 0  # samples decoded since the last partial result was asked for
        self._buf = np.zeros(0, dtype=np.int16)  # audio taken but not decoded yet (less than STEP)

    # ---------------------------------------------------------------- clock

    @property
    def next_sample(self) -> int | None:
        """The call sample the next `accept` is expected to start at."""
        return self._next

    def _call_seconds(self, vosk_seconds: float) -> float:
        fed = vosk_seconds * self.rate
        base_fed, base_call = self._spans[0]
        for span_fed, span_call in self._spans:
            if span_fed <= fed + 1e-6:
                base_fed, base_call = span_fed, span_call
            else:
                break
        return (base_call + (fed - base_fed)) / self.rate

    # ---------------------------------------------------------------- decoding

    def accept(self, pcm_int16: np.ndarray, first_sample: int) -> list[RecognizerOutput]:
        """Decode audio that starts at call sample `first_sample`; return what became known.

        Audio is expected to follow on from the previous call. A gap (dropped or
        lost audio) ends the current line first; audio overlapping what was
        already decoded is skipped.
        """
        pcm = np.asarray(pcm_int16)
        if pcm.dtype != np.int16 or pcm.ndim != 1:
            raise TypeError(f"accept() wants mono int16 samples, not {pcm.dtype} {pcm.shape}")
        first_sample = int(first_sample)
        out: list[RecognizerOutput] = []
        if self._next is None:
            self._spans.append((self._fed, first_sample))
        elif first_sample > self._next:
            out.extend(self._finish())
            self._spans.append((self._fed, first_sample))
        elif first_sample < self._next:
            skip = self._next - first_sample
            pcm = pcm[skip:]
            first_sample = self._next
        if pcm.size == 0:
            self._next = first_sample if self._next is None else self._next
            return out
        self._next = first_sample + pcm.size
        buf = np.concatenate([self._buf, pcm]) if self._buf.size else pcm
        whole = buf.size // STEP * STEP
        for i in range(0, whole, STEP):
            out.extend(self._decode(buf[i:i + STEP]))
        self._buf = buf[whole:].copy()
        return out

    def take_pending(self) -> tuple[np.ndarray, int] | None:
        """The audio taken but not decoded yet (less than STEP) and its first call sample; this
        recognizer gives it up (a recognizer that replaces it decodes it instead)."""
        if not self._buf.size or self._next is None:
            return None
        pcm, self._buf = self._buf, np.zeros(0, dtype=np.int16)
        self._next -= pcm.size
        return pcm, self._next

    def skip_to(self, first_sample: int) -> None:
        """Leave the audio up to `first_sample` undecoded, between lines (the last one has ended):
        Vosk goes on where it was, with no line ended and nothing finalized, and its clock skips
        the gap. What was taken but not decoded yet is dropped with it."""
        if self._next is None or first_sample <= self._next:
            return
        self._buf = np.zeros(0, dtype=np.int16)
        self._spans.append((self._fed, first_sample))
        self._next = first_sample

    def _decode(self, piece: np.ndarray, last: bool = False) -> list[RecognizerOutput]:
        self._fed += piece.size
        data = piece
        if self._resampler is not None:
            data = self._resampler.resample_chunk(piece, last=last)
        if data.size == 0:
            return []
        self.ended = bool(self._rec.AcceptWaveform(np.ascontiguousarray(data, dtype=np.int16).tobytes()))
        if self.ended:
            self._last_partial = ""
            self._since_partial = 0
            seg = self._segment(self._rec.Result())
            return [seg] if seg else []
        self._since_partial += piece.size
        if not self.partials or self._since_partial < PARTIAL_EVERY:
            return []
        self._since_partial = 0
        text = json.loads(self._rec.PartialResult()).get("partial", "")
        if text == self._last_partial:
            return []
        self._last_partial = text
        if not text:
            return []
        return [PartialText(self.who, self._call_seconds(self._fed / self.rate), text)]

    def _segment(self, result_json: str) -> TextSegment | None:
        res = json.loads(result_json)
        raw = res.get("result") or []
        if not raw:
            return None  # an endpoint after silence: {"text": ""}
        words = [Word(word=str(w["word"]), start=self._call_seconds(float(w["start"])),
                      end=self._call_seconds(float(w["end"])), conf=float(w.get("conf", 1.0)))
                 for w in raw]
        text = res.get("text") or " ".join(w.word for w in words)
        return TextSegment(who=self.who, start=words[0].start, end=words[-1].end, text=text, words=words)

    def _finish(self) -> list[RecognizerOutput]:
        out: list[RecognizerOutput] = []
        if self._buf.size:
            out += [o for o in self._decode(self._buf) if not isinstance(o, PartialText)]
            self._buf = np.zeros(0, dtype=np.int16)
        if self._resampler is not None:
            tail = self._resampler.resample_chunk(np.zeros(0, dtype=np.int16), last=True)
            if tail.size and self._rec.AcceptWaveform(np.ascontiguousarray(tail, dtype=np.int16).tobytes()):
                seg = self._segment(self._rec.Result())
                if seg:
                    out.append(seg)
            self._resampler.clear()
        self._last_partial = ""
        self.ended = True
        seg = self._segment(self._rec.FinalResult())
        if seg:
            out.append(seg)
        return out

    def flush(self) -> list[RecognizerOutput]:
        """End of audio (or of a call): the last line, if one was being spoken."""
        if self._next is None:
            return []
        return self._finish()


# -------------------------------------------------------------------- threads


@dataclass
class Overload:
    """Audio that was dropped because the recognizer could not keep up."""

    who: str
    at: float  # call time of the first dropped sample
    dropped_s: float  # this time
    total_dropped_s: float  # since the worker started
    queued: int  # chunks waiting when it happened


_STOP = object()


class ChannelWorker:
    """One channel's recognizer on its own thread, fed through a bounded queue.

    `submit` never blocks (unless made with `wait`): when the queue is full the chunk is dropped and
    `on_overload(Overload)` is called on the submitting thread (keep it cheap).
    `on_results(who, outputs)` and `on_error(who, exc)` are called on the worker
    thread; hand the outputs to the engine's thread (e.g. through a queue).
    """

    def __init__(self, who: str, recognizer: Any,
                 on_results: Callable[[str, list[RecognizerOutput]], None],
                 on_overload: Callable[[Overload], None] | None = None,
                 on_error: Callable[[str, BaseException], None] | None = None,
                 maxsize: int = 50, rate: int = RATE, wait: bool = False) -> None:
        """`wait`: `submit` waits for room instead of dropping (a recording played as fast as it is
        decoded: the channels stay within `maxsize` chunks of each other, as live ones do)."""
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1: the queue is bounded on purpose")
        self.who = who
        self.rate = rate
        self._rec = recognizer
        self._on_results = on_results
        self._on_overload = on_overload
        self._on_error = on_error
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=maxsize)
        self._thread = threading.Thread(target=self._run, name=f"callcue-asr-{who}", daemon=True)
        self._closing = False
        self.error: BaseException | None = None
        self.dropped_samples = 0
        self.wait = wait

    def start(self) -> ChannelWorker:
        self._thread.start()
        return self

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    def submit(self, pcm_int16: np.ndarray, first_sample: int) -> bool:
        """Queue a chunk; False (and an overload report) when it had to be dropped."""
        if self._closing or self.error is not None:
            return False
        chunk = np.array(pcm_int16, dtype=np.int16, copy=True)  # the caller may reuse its buffer
        try:
            self._queue.put((chunk, int(first_sample)), block=self.wait)
            return True
        except queue.Full:
            self.dropped_samples += chunk.size
            if self._on_overload is not None:
                self._on_overload(Overload(who=self.who, at=first_sample / self.rate,
                                           dropped_s=chunk.size / self.rate,
                                           total_dropped_s=self.dropped_samples / self.rate,
                                           queued=self._queue.qsize()))
            return False

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is _STOP:
                    results = self._rec.flush()
                else:
                    results = self._rec.accept(*item)
                if results:
                    self._on_results(self.who, results)
            except BaseException as err:  # reported, never lost in a dead thread
                self.error = err
                if self._on_error is not None:
                    self._on_error(self.who, err)
                self._drain()
                return
            if item is _STOP:
                return

    def _drain(self) -> None:
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return

    def close(self, timeout: float | None = None) -> bool:
        """Decode what is queued, flush the last line, stop. False if the thread is still busy."""
        self._closing = True
        if not self._thread.is_alive():
            return True
        self._queue.put(_STOP)  # blocking is fine: the worker is draining
        self._thread.join(timeout)
        return not self._thread.is_alive()


# -------------------------------------------------------------------- whole recordings


@dataclass
class Recognized:
    """An output and the channel sample after which it was known (for feeding an engine in order)."""

    ready: int
    who: str
    output: RecognizerOutput


def recognize_channels(model: Any, channels: Mapping[str, np.ndarray], *, rate: int = RATE,
                       chunk: int = STEP, partials: bool = True) -> list[Recognized]:
    """Run each channel of a recording through its own recognizer, in parallel.

    Returns every output with `ready`, the sample count after which a live run
    would have had it, sorted by (ready, channel order). Feed an engine the audio
    up to `ready` before giving it the output, and a replay matches live.
    """
    names = list(channels)

    def one(who: str) -> list[Recognized]:
        rec = StreamingRecognizer(model, rate=rate, who=who, partials=partials)
        pcm = np.asarray(channels[who], dtype=np.int16)
        found: list[Recognized] = []
        for i in range(0, pcm.size, chunk):
            piece = pcm[i:i + chunk]
            found += [Recognized(i + piece.size, who, o) for o in rec.accept(piece, i)]
        found += [Recognized(pcm.size, who, o) for o in rec.flush()]
        return found

    with ThreadPoolExecutor(max_workers=max(1, len(names)), thread_name_prefix="callcue-asr") as pool:
        per_channel = list(pool.map(one, names))
    order = {who: k for k, who in enumerate(names)}
    merged = [r for rs in per_channel for r in rs]
    merged.sort(key=lambda r: (r.ready, order[r.who]))  # stable: a channel's own order is kept
    return merged
