"""The live pipeline: capture -> engine (one worker thread) <- recognizers (one thread per channel).

Threads and who owns what:

  * the capture's threads (PortAudio's callback, its watchdog, or a recording played as if it were
    captured) put `Chunk`s into the inbox and never wait: the inbox holds at most `backlog_s` of
    audio; a chunk that does not fit is dropped, and the next chunk of that channel carries the
    number of samples lost, so the worker feeds zeros in their place: the sample clock stays the
    call's clock and both channels stay aligned. The worker says so with an `overload` status event
    and on stderr. A recording (`capture.lossless`) waits for room instead: it drops nothing.
  * the worker thread owns the engine (which is not thread-safe): it feeds audio, hands each
    chunk to that channel's recognizer, turns recognizer outputs into engine calls, does the
    agent's controls (they arrive through the inbox like audio does) and reports the call's state
    to a live view (`on_tick`, at most every `tick_gap_s` of wall time).
  * one recognizer per channel (speech.recognizer.ChannelWorker, one shared vosk Model) decodes
    on its own thread and posts its outputs back to the inbox. Its queue is bounded too; when
    it overflows, the lost audio is reported the same way, and the line it was in ends.
  * without a model, a transcript can be the words (`words`, the demo): its lines reach the engine
    at the start, exactly as calls.feed gives them to `analyze` (the engine holds each line until
    the audio has reached its end, and counts only the words said by then), so the events are
    analyze's; its captions go to the view only.

Time is the sample clock throughout: sample n of a channel is n / RATE s into the call. The wall
clock is only read to measure delays (capture -> events) for the benchmark and to space the ticks.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from callcue.audio.capture import Capture, Chunk
from callcue.calls.session import control
from callcue.calls.words import TranscriptWords
from callcue.engine.clock import RATE
from callcue.engine.events import Event, TextSegment
from callcue.engine.pipeline import CallState, Engine
from callcue.speech.heap import MemoryBudget, resident_mb, tame_malloc
from callcue.speech.live import ThriftyRecognizer, default_cache_mb

BACKLOG_S = 2.0  # audio waiting for the worker before chunks are dropped
ASR_BACKLOG_CHUNKS = 50  # chunks (about 5 s) waiting for a recognizer before they are dropped
REPORT_EVERY_S = 5.0  # overload reports on one channel at most this often (call time)
TICK_GAP_S = 0.04  # wall time between ticks at most: a view need not redraw faster than this



class _Inbox:
    """The worker's one queue: audio is bounded (and dropped when full), everything else is not."""

    def __init__(self, max_audio: int, block: bool) -> None:
        self._cond = threading.Condition()
        self._items: deque[tuple] = deque()
        self._audio = 0
        self.max_audio = max_audio
        self.block = block  # a file source waits for room instead (benchmark, tests)
        self._gap: dict[str, int] = defaultdict(int)
        self.dropped: dict[str, int] = defaultdict(int)

    def put_audio(self, chunk: Chunk) -> bool:
        n = len(chunk.pcm)
        with self._cond:
            if not chunk.filler:  # zeros cost nothing to keep and must not be counted as lost audio
                if self.block:
                    while self._audio + n > self.max_audio and self._audio:
                        self._cond.wait()
                elif self._audio + n > self.max_audio:
                    self._gap[chunk.channel] += n
                    self.dropped[chunk.channel] += n
                    return False
                self._audio += n
            chunk.gap_before = self._gap.pop(chunk.channel, 0)
            self._items.append(("audio", chunk))
            self._cond.notify_all()
        return True

    def put(self, item: tuple) -> None:
        with self._cond:
            self._items.append(item)
            self._cond.notify_all()

    def get(self, wait: bool = True) -> tuple | None:
        with self._cond:
            while not self._items:
                if not wait:
                    return None
                self._cond.wait()
            item = self._items.popleft()
            if item[0] == "audio" and not item[1].filler:
                self._audio -= len(item[1].pcm)
                self._cond.notify_all()
            return item

    def take_gaps(self) -> dict[str, int]:
        with self._cond:
            gaps, self._gap = dict(self._gap), defaultdict(int)
        return gaps

    @property
    def audio_s(self) -> float:
        return self._audio / RATE


class _Timed:
    """A recognizer that keeps count of the time spent in it (wall and CPU), for the benchmark."""

    def __init__(self, rec: Any) -> None:
        self.rec = rec
        self.wall_s = 0.0
        self.cpu_s = 0.0
        self.samples = 0

    def accept(self, pcm: np.ndarray, first_sample: int) -> list:
        w, c = time.perf_counter(), time.thread_time()
        try:
            return self.rec.accept(pcm, first_sample)
        finally:
            self.wall_s += time.perf_counter() - w
            self.cpu_s += time.thread_time() - c
            self.samples += len(pcm)

    def flush(self) -> list:
        w, c = time.perf_counter(), time.thread_time()
        try:
            return self.rec.flush()
        finally:
            self.wall_s += time.perf_counter() - w
            self.cpu_s += time.thread_time() - c


@dataclass
class LiveStats:
    """What the pipeline measured about itself (the benchmark reads it)."""

    fed: dict[str, int] = field(default_factory=dict)  # samples fed to the engine per channel
    engine_wall_s: float = 0.0  # worker time spent in the engine
    engine_cpu_s: float = 0.0
    event_delays: list[float] = field(default_factory=list)  # capture -> emit, per event made by audio
    word_delays: list[float] = field(default_factory=list)  # capture of a line's last audio -> its utterance
    partial_delays: list[float] = field(default_factory=list)  # capture of the audio a caption covers -> caption
    dropped: dict[str, float] = field(default_factory=dict)  # seconds dropped by an overloaded worker
    asr_dropped: dict[str, float] = field(default_factory=dict)  # seconds a recognizer could not take
    asr: dict[str, _Timed] = field(default_factory=dict)


class LivePipeline:
    """Run an engine on live audio. `on_events(list)` is called on the worker thread as events happen;
    `warn(str)` gets one-line reports (stderr in `callcue listen`)."""

    def __init__(self, engine: Engine, capture: Capture, model: Any = None, *,
                 words: TranscriptWords | None = None,
                 on_events: Callable[[list[Event]], None] = lambda evs: None,
                 on_tick: Callable[[CallState], None] | None = None, tick_gap_s: float = TICK_GAP_S,
                 on_clock: Callable[[float], None] | None = None,
                 warn: Callable[[str], None] = lambda line: None,
                 note: str | None = None, duration_s: float | None = None, backlog_s: float = BACKLOG_S,
                 asr_backlog: int = ASR_BACKLOG_CHUNKS, cache_mb: float | str | None = "auto",
                 make_recognizer: Callable[[str], Any] | None = None) -> None:
        """`cache_mb`: the memory the recognizers may add to what the process holds when the call
        starts, for their caches ("auto": default_cache_mb(); None: they are renewed by age alone).
        `make_recognizer(who)` replaces the Vosk recognizer made from `model` (tests). `words`: a
        transcript as the words, when there is no model. `on_tick(state)`: the call's state after
        audio, at most every `tick_gap_s` of wall time; `on_clock(t)`: the engine's clock after each
        chunk of audio (a recorder saves on it)."""
        self.engine = engine
        self.duration_s = duration_s  # known for a recording, said in the `call` event
        self.words = words
        self.on_tick = on_tick
        self.tick_gap_s = tick_gap_s
        self.on_clock = on_clock
        self._last_tick = -1e9
        self.cache_mb: float | None = default_cache_mb() if isinstance(cache_mb, str) else cache_mb
        self.budget: MemoryBudget | None = None
        self.make_recognizer = make_recognizer
        self.capture = capture
        self.model = model
        self.on_events = on_events
        self.warn = warn
        self.note = note
        self.stats = LiveStats(fed={c: 0 for c in engine.channels})
        lossless = bool(getattr(capture, "lossless", False))  # a file: wait for the workers, drop nothing
        self.inbox = _Inbox(int(backlog_s * RATE), block=lossless)
        self.lossless = lossless
        self.asr_backlog = asr_backlog
        self._workers: dict[str, Any] = {}
        self._thread = threading.Thread(target=self._run, name="callcue-engine", daemon=True)
        self.finished = threading.Event()  # the worker has ended (stopped, or failed: see .error)
        self.error: BaseException | None = None
        self._recent: dict[str, deque[tuple[int, float]]] = {c: deque(maxlen=600) for c in engine.channels}
        self._overload: dict[tuple[str, str], list[float]] = {}  # (source, who) -> [pending s, last report]
        self._stopping = False

    # ---------------------------------------------------------------- life cycle

    def start(self) -> list[Event]:
        """Start recognizers, the worker and the capture; returns the `call` event(s)."""
        tame_malloc()
        self.engine.warm_up()  # before the recognizers: their memory budget is on top of the rest
        held = resident_mb()
        if self.cache_mb and held is not None:
            self.budget = MemoryBudget(held + self.cache_mb)
        head: list[Event] = []
        if not self.engine.started:
            head = self.engine.start(duration_s=self.duration_s, note=self.note)
            self.on_events(head)
        if self.words is not None:  # the engine holds each line until the audio has reached its end
            for channel, seg in self.words.lines():
                self._emit(self.engine.add_result(channel, seg))
        if self.model is not None or self.make_recognizer is not None:
            from callcue.speech.recognizer import ChannelWorker, StreamingRecognizer

            for who in self.engine.channels:
                rec = self.make_recognizer(who) if self.make_recognizer else \
                    ThriftyRecognizer(partial(StreamingRecognizer, self.model, who=who), budget=self.budget)
                timed = _Timed(rec)
                self.stats.asr[who] = timed
                self._workers[who] = ChannelWorker(
                    who, timed, on_results=lambda w, outs: self.inbox.put(("asr", w, outs)),
                    on_overload=self._asr_overload, on_error=lambda w, e: self.inbox.put(("asr-error", w, e)),
                    maxsize=self.asr_backlog, wait=self.lossless).start()
        self._thread.start()
        try:
            self.capture.start(self.inbox.put_audio, lambda k, m, w: self.inbox.put(("status", k, m, w)))
        except BaseException:
            self.inbox.put(("abort",))  # no call took place: no summary
            self._thread.join()
            self._close_workers()
            raise
        return head

    def act(self, action: str) -> None:
        """Thread-safe: a control from the agent ("dismiss", "dismiss:CUE-ID" to dismiss only the cue the
        agent saw, "snooze", "hold", "resume"), done by the worker between two chunks."""
        self.inbox.put(("act", action))

    def stop(self) -> None:
        """End the call: stop capturing, process what is queued, flush the recognizers, finish the engine."""
        if self._stopping:
            self._thread.join()
            return
        self._stopping = True
        try:
            self.capture.stop()
        finally:
            self.inbox.put(("stop",))
            self._thread.join()

    # ---------------------------------------------------------------- the worker

    def _run(self) -> None:
        try:
            while True:
                item = self.inbox.get()
                assert item is not None  # get() waits for one
                if item[0] == "stop":
                    self._finish()
                    return
                if item[0] == "abort":
                    return
                self._handle(item)
        except BaseException as err:  # reported by the caller; the thread must not die silently
            self.error = err
            self._close_workers()
        finally:
            self.finished.set()

    def _handle(self, item: tuple) -> None:
        kind = item[0]
        if kind == "audio":
            self._audio(item[1])
        elif kind == "asr":
            self._asr(item[1], item[2])
        elif kind == "status":
            self._status(item[1], item[2], item[3])
        elif kind == "act":
            self._emit(self.engine.act(*control(item[1])))
        elif kind == "asr-error":
            who, err = item[1], item[2]
            self._status("speech-error", f"speech recognition on the {who} channel stopped ({err}); the call "
                         "goes on without its words", who)

    def _emit(self, events: list[Event], captured: float | None = None, words: bool = False) -> None:
        if not events:
            return
        if captured is not None:
            delay = time.monotonic() - captured
            (self.stats.word_delays if words else self.stats.event_delays).extend([delay] * len(events))
        self.on_events(events)

    def _timed(self, fn: Callable[..., list[Event]], *args: Any) -> list[Event]:
        w, c = time.perf_counter(), time.thread_time()
        try:
            return fn(*args)
        finally:
            self.stats.engine_wall_s += time.perf_counter() - w
            self.stats.engine_cpu_s += time.thread_time() - c

    def _audio(self, chunk: Chunk) -> None:
        who = chunk.channel
        if who not in self.stats.fed:
            return
        if chunk.gap_before:
            self._feed(who, np.zeros(chunk.gap_before, np.int16), None)
            self._report_overload("worker", who, chunk.gap_before / RATE)
        self._feed(who, chunk.pcm, None if chunk.filler else chunk)
        if self.words is not None:
            self._emit(self.words.captions(self.engine.now))  # for the view only: the engine has the lines
        if self.on_clock is not None:
            self.on_clock(self.engine.now)
        if self.on_tick is not None:
            wall = time.perf_counter()
            if wall - self._last_tick >= self.tick_gap_s:
                self._last_tick = wall
                self.on_tick(self.engine.snapshot())

    def _feed(self, who: str, pcm: np.ndarray, chunk: Chunk | None) -> None:
        first = self.stats.fed[who]
        if chunk is not None:
            worker = self._workers.get(who)
            if worker is not None:
                worker.submit(pcm, first)
            self._recent[who].append((first + len(pcm), chunk.captured))
        events = self._timed(self.engine.feed, who, pcm)
        self.stats.fed[who] = first + len(pcm)
        self._emit(events, chunk.captured if chunk is not None else None)

    def _asr(self, who: str, outputs: list) -> None:
        from callcue.speech.recognizer import PartialText

        for out in outputs:
            if isinstance(out, PartialText):
                events = self._timed(self.engine.add_partial, who, out.text)
                captured = self._captured_at(who, int(out.at * RATE)) if events else None
                if captured is not None:
                    self.stats.partial_delays.append(time.monotonic() - captured)
                self._emit(events)
            elif isinstance(out, TextSegment):
                # The line is over: the next partial starts from no words. The engine counts the words of
                # a partial since talk-over began to tell it from a backchannel, so it must see the reset.
                self._timed(self.engine.add_partial, who, "")
                events = self._timed(self.engine.add_result, who, out)
                self._emit(events, self._captured_at(who, int(out.end * RATE)), words=True)

    def _captured_at(self, who: str, sample: int) -> float | None:
        """When the chunk holding `sample` of `who` was captured (None if it is no longer remembered)."""
        for end, captured in self._recent[who]:
            if end >= sample:
                return captured
        return None

    def _asr_overload(self, over: Any) -> None:  # called on this worker thread by ChannelWorker.submit
        self.stats.asr_dropped[over.who] = over.total_dropped_s
        self._report_overload("recognizer", over.who, over.dropped_s)

    def _report_overload(self, source: str, who: str, seconds: float) -> None:
        key = (source, who)
        if source == "worker":
            self.stats.dropped[who] = self.stats.dropped.get(who, 0.0) + seconds
        pending, last = self._overload.get(key, [0.0, -1e9])
        pending += seconds
        now = self.engine.now
        if now - last < REPORT_EVERY_S:
            self._overload[key] = [pending, last]
            return
        self._overload[key] = [0.0, now]
        self._overload_status(source, who, pending)

    def _overload_status(self, source: str, who: str, seconds: float) -> None:
        if source == "worker":
            total = self.stats.dropped.get(who, 0.0)
            msg = (f"the computer cannot keep up: {seconds:.1f} s of the {who} channel were dropped "
                   f"({total:.1f} s in this call) and counted as silence; close other programs")
        else:
            total = self.stats.asr_dropped.get(who, 0.0)
            msg = (f"speech recognition cannot keep up: {seconds:.1f} s of the {who} channel were not "
                   f"transcribed ({total:.1f} s in this call); use a smaller model or close other programs")
        self._status("overload", msg, who)

    def _status(self, kind: str, message: str, who: str | None) -> None:
        self.warn(f"callcue: {kind}: {message}")
        self._emit(self.engine.status(kind, message, who))

    def _close_workers(self) -> None:
        for worker in self._workers.values():
            worker.close()

    def _finish(self) -> None:
        self._close_workers()  # decodes what is queued and flushes the last lines into the inbox
        while (item := self.inbox.get(wait=False)) is not None:
            if item[0] != "stop":
                self._handle(item)
        for who, gap in self.inbox.take_gaps().items():  # audio dropped at the very end still took time
            if who in self.stats.fed and gap:
                self._feed(who, np.zeros(gap, np.int16), None)
                self._report_overload("worker", who, gap / RATE)
        for (source, who), (pending, _last) in self._overload.items():
            if pending > 0:
                self._overload_status(source, who, pending)
        self._emit(self._timed(self.engine.finish))
        if self.on_tick is not None:
            self.on_tick(self.engine.snapshot())


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return float(np.percentile(np.asarray(values), q))
