"""One call through the engine, in plain Python: no Qt here.

`CallSession` runs a call in whatever thread calls `run_demo()` and reports through an `Outlet`
(three callbacks). `callcue demo --headless` runs it in the main thread; the overlay runs it in a
QThread (ui.workers.CallWorker), whose signals carry the same reports to the UI thread. Controls
(dismiss, snooze, hold) go the other way through a thread-safe queue that the session drains
between audio chunks, so the engine is only ever touched by its own thread.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callcue import paths
from callcue.engine.events import Event, Partial, TextSegment
from callcue.errors import CallcueError
from callcue.settings import Settings
from callcue.ui.panel import Phase, Tick

CHUNK_S = 0.1
TICK_GAP_S = 0.04  # wall time between ticks at most: the UI need not redraw faster than this


def demo_files() -> tuple[Path, Path]:
    demo = paths.resources_dir() / "demo"
    return demo / "demo-call.flac", demo / "demo-call.vtt"


@dataclass
class Outlet:
    """Where a session's reports go. Each callback may be called from the session's thread."""

    events: Callable[[list[Event]], None]
    tick: Callable[[Tick], None]
    phase: Callable[[Phase], None]


class _Stopped(Exception):
    pass


@dataclass
class CallSession:
    """One call: the bundled demo replayed in real time (`speed` x), or live capture."""

    out: Outlet
    settings: Settings = field(default_factory=Settings)
    speed: float = 1.0  # 0: as fast as the machine goes
    use_model: bool = True  # the demo may transcribe with an English model when one is installed
    tick_gap_s: float = TICK_GAP_S
    model_override: str | None = None  # demo: decode with this model even if it is not English (benchmark)
    capture: Any = None  # live mode: a capture to use instead of the devices in the settings (tests)
    save: bool = True  # keep the call as a session in the store (review, reports)
    engine: Any = None  # callcue.engine.pipeline.Engine, once the call has started
    _pipeline: Any = None
    _actions: queue.Queue[str] = field(default_factory=queue.Queue)
    _stop: threading.Event = field(default_factory=threading.Event)

    # ---- from any thread -------------------------------------------------------------------

    def request(self, action: str) -> None:
        """A control from the agent, done between chunks: "dismiss" (or "dismiss:CUE-ID" to dismiss only
        that cue), "snooze", "hold", "resume"."""
        pipeline = self._pipeline
        if pipeline is not None:
            pipeline.inbox.put(("act", action))  # the live pipeline's thread owns the engine
        else:
            self._actions.put(action)

    def stop(self) -> None:
        self._stop.set()

    # ---- in the session's thread -----------------------------------------------------------

    def _recorded(self, kind: str) -> Any:
        """Save the call as a session while it runs (so a crash loses at most 2 s): the outlet is
        wrapped so every batch of events is written before the panel gets it. None: not saved (said)."""
        import logging

        from callcue.sessions_io import start_recording
        from callcue.store import SessionMeta

        if not self.save:
            return None
        log = logging.getLogger("callcue.session")
        s = self.settings
        devices = None if kind == "demo" else {"agent": s.agent_device, "customer": s.customer_device}
        recorder = start_recording(SessionMeta(kind=kind, profile=s.profile or "default", devices=devices,
                                               model=s.model), warn=log.warning)
        if recorder is not None:
            out = self.out
            self.out = Outlet(recorder.tee(out.events), lambda t: (recorder.advance(t.at), out.tick(t))[-1],
                              out.phase)
        return recorder

    def _end_recording(self, recorder: Any, finished: bool) -> None:
        if recorder is not None:
            import logging

            recorder.end(finished=finished, warn=logging.getLogger("callcue.session").warning)

    def run_demo(self) -> None:
        recorder = self._recorded("demo")
        finished = False
        try:
            self._run_demo()
            finished = True
        except _Stopped:
            pass
        except CallcueError as err:
            self.out.phase(Phase("error", str(err), fix="settings"))
        except Exception as err:  # the UI must hear about it: a silent dead worker looks like a frozen call
            self.out.phase(Phase("error", f"The call stopped on an internal error: {err!r}"))
        finally:
            self._end_recording(recorder, finished)

    def _load(self) -> tuple[Any, Any, list[TextSegment], Any]:
        from callcue.audio.recording import read_recording
        from callcue.engine.playbook import load_playbook
        from callcue.speech.transcript import read_transcript

        audio_path, vtt_path = demo_files()
        playbook = load_playbook(self.settings.playbook, self.settings.profile)
        rec = read_recording(audio_path)
        segments = read_transcript(vtt_path)
        model = self._english_model() if self.use_model else None
        return playbook, rec, segments, model

    def _english_model(self) -> Any:
        """An English model if one is installed and loads; None otherwise (the transcript is used)."""
        from callcue.speech.models import find_model, load_model, model_lang

        if self.model_override:  # the benchmark: decode with this model whatever its language
            return load_model(find_model(self.model_override))
        try:
            ref = find_model(self.settings.model) if self.settings.model else None
            if ref is not None and not (model_lang(ref.name) or "").startswith("en"):
                ref = None  # the user's model is for another language; the demo call is English
            ref = ref or find_model(lang="en")
            return load_model(ref) if ref is not None else None
        except CallcueError:
            return None  # a broken model must not spoil the demo; the transcript still works

    def _run_demo(self) -> None:
        from callcue.engine.pipeline import Engine
        from callcue.engine.replay import replay

        self.out.phase(Phase("loading", "Loading the demo call\u2026"))
        playbook, rec, segments, model = self._load()
        if model is not None:
            from callcue.speech.recognizer import StreamingRecognizer

            recognizers = {c: StreamingRecognizer(model, who=c) for c in rec.channels}
            engine = Engine(playbook, channels=tuple(rec.channels), words="vosk", model=model.name)
            words_from = f"transcribed live by {model.name}"
            given: list[TextSegment] = []
        else:
            recognizers = {}
            engine = Engine(playbook, channels=tuple(rec.channels), words="file")
            words_from = "words from the bundled transcript (no English speech model installed)"
            given = segments
        self.engine = engine
        engine.warm_up()
        self.out.events(engine.start(duration_s=rec.duration_s, note=f"demo call: {words_from}"))
        self.out.phase(Phase("listening", f"Demo call \u00b7 {words_from}"))

        chunk = int(CHUNK_S * 16000)
        total = max(len(a) for a in rec.channels.values())
        batch: list[Event] = []
        shown: dict[str, str] = {}
        start = time.perf_counter()
        last_tick = [-1.0]

        def on_chunk(t: float) -> None:
            if self._stop.is_set():
                raise _Stopped
            self._do_actions(batch)
            if recognizers:
                pos = int(round(t * 16000))
                for who, rec_ in recognizers.items():
                    outs = rec_.accept(rec.channels[who][pos:pos + chunk], pos)
                    if pos + chunk >= total:  # the last chunk: the last words, before the engine finishes
                        outs += rec_.flush()
                    for out in outs:
                        if isinstance(out, TextSegment):
                            batch.extend(engine.add_result(who, out))
                        else:
                            batch.extend(engine.add_partial(who, out.text))
            else:
                batch.extend(_transcript_captions(segments, t, shown))
            self._flush(batch, t, last_tick)
            self._pace(start, t)

        try:
            for ev in replay(engine, rec.channels, given, CHUNK_S, on_chunk):
                batch.append(ev)
        except _Stopped:
            batch.extend(engine.finish())
        self._flush(batch, engine.now, last_tick, force=True)
        self.out.phase(Phase("ended", f"Demo call ended \u00b7 {words_from}"))

    # ---- live: the devices, through speech.live's pipeline ------------------------------------

    def run_live(self) -> None:
        recorder = self._recorded("live")
        finished = False
        try:
            self._run_live()
            finished = True
        except CallcueError as err:
            text = str(err)
            fix = "devices" if any(w in text for w in ("device", "PortAudio", "microphone")) else "settings"
            self.out.phase(Phase("error", text, fix=fix))
        except Exception as err:
            self.out.phase(Phase("error", f"The call stopped on an internal error: {err!r}"))
        finally:
            self._end_recording(recorder, finished)

    def _run_live(self) -> None:
        from callcue.engine.pipeline import Engine
        from callcue.engine.playbook import load_playbook
        from callcue.speech.live import choose_model, no_model_note

        s = self.settings
        self.out.phase(Phase("loading", "Opening the sound devices\u2026"))
        playbook = load_playbook(s.playbook, s.profile)
        capture, channels = self.capture, None
        if capture is None:
            from callcue.audio.capture import DeviceCapture, plan_routes

            routes = plan_routes(s.agent_device, s.customer_device)
            channels = tuple(c for r in routes for c in r.channels)
            capture = DeviceCapture(routes)
        channels = tuple(sorted(channels or capture.channels, key=lambda c: ("agent", "customer", "mixed").index(c)))
        model, words_from = None, "no speech model: cues from the voice only"
        try:
            ref = choose_model(s.model) if self.use_model else None
        except CallcueError as err:
            self.out.phase(Phase("error", str(err), fix="model"))
            return
        if ref is not None:
            from callcue.speech.models import load_model, new_kaldi_recognizer

            self.out.phase(Phase("loading", f"Loading the speech model {ref.name}\u2026"))
            try:
                model = load_model(ref)
                new_kaldi_recognizer(model)  # a damaged model can load and fail only here
                words_from = f"words by {ref.name}"
            except CallcueError as err:
                self.out.phase(Phase("error", str(err), fix="model"))
                return
        engine = Engine(playbook, channels=channels, words="vosk" if model else None,
                        model=ref.name if model is not None and ref is not None else None)
        self.engine = engine  # the pipeline warms it up as it starts
        pipeline = _overlay_pipeline(self, engine, capture, model, None if model else no_model_note())
        self._pipeline = pipeline
        pipeline.start()
        if hasattr(capture, "wait_ready"):
            capture.wait_ready(10.0)
        self.out.phase(Phase("listening", f"Listening: {capture.describe()} \u00b7 {words_from}",
                             fix=None if model else "model"))
        while not self._stop.wait(0.1) and not pipeline.finished.is_set():
            if getattr(capture, "done", None) is not None and capture.done.is_set():
                break  # a recording (tests, benchmark) has been played to its end
        pipeline.stop()
        self._pipeline = None
        if pipeline.error is not None:
            raise pipeline.error if isinstance(pipeline.error, CallcueError) else CallcueError(
                f"listening failed ({type(pipeline.error).__name__}: {pipeline.error})")
        self.out.tick(engine_tick(engine, engine.now))
        self.out.phase(Phase("ended", f"The call ended \u00b7 {capture.describe()}"))

    def _do_actions(self, batch: list[Event]) -> None:
        while True:
            try:
                action = self._actions.get_nowait()
            except queue.Empty:
                return
            batch.extend(act_on(self.engine, action))

    def _flush(self, batch: list[Event], t: float, last_tick: list[float], force: bool = False) -> None:
        if batch:
            self.out.events(list(batch))
            batch.clear()
        wall = time.perf_counter()
        if force or wall - last_tick[0] >= self.tick_gap_s:
            last_tick[0] = wall
            self.out.tick(engine_tick(self.engine, t))

    def _pace(self, start: float, t: float) -> None:
        """Wait until the wall clock reaches audio time `t` (scaled by speed); stop promptly if asked."""
        if self.speed <= 0:
            return
        target = start + (t + CHUNK_S) / self.speed
        while True:
            left = target - time.perf_counter()
            if left <= 0:
                return
            if self._stop.wait(min(left, 0.05)):
                raise _Stopped


def preload() -> None:
    """Import what a call needs before the window's event loop runs.

    Importing a C extension (Praat, libsndfile, soxr) holds the GIL for tens of milliseconds; done in
    the worker while the panel runs, that would freeze the panel. Done first, it only delays the start.
    """
    import parselmouth  # noqa: F401
    import soundfile  # noqa: F401
    import soxr  # noqa: F401

    import callcue.audio.recording  # noqa: F401
    import callcue.engine.pipeline  # noqa: F401
    import callcue.engine.replay  # noqa: F401
    import callcue.speech.transcript  # noqa: F401


def act_on(engine: Any, action: str) -> list[Event]:
    """Do one control on the engine (in the engine's thread)."""
    name, _, cue_id = action.partition(":")
    if name == "dismiss" and cue_id:
        active = engine.board.active
        if active is None or active.id != cue_id:
            return []  # the cue the agent saw has already gone: do not dismiss its successor
    return engine.act(name)


def engine_tick(engine: Any, t: float) -> Tick:
    """What the panel needs from the engine between events: its silence clock and live talk times."""
    conv = engine.conversation
    now = max(t, engine.now)
    quiet = conv.silence_so_far(engine.now) if conv.anyone_spoke else 0.0
    talk = dict(conv.talk_s)
    for seg in getattr(conv, "_open", {}).values():  # who is speaking now counts, not only finished turns
        talk[seg.who] = talk.get(seg.who, 0.0) + max(0.0, seg.end - seg.start)
    commitments = [c.text for c in engine.commitments]
    return Tick(at=round(now, 3), quiet_s=round(quiet, 3), talk_s={k: round(v, 2) for k, v in talk.items()},
                commitments=commitments)


def _transcript_captions(segments: list[TextSegment], t: float, shown: dict[str, str]) -> list[Event]:
    """Live captions from the bundled transcript: the words said by time `t` of each line in progress.

    These are for the panel only and never reach the engine: the engine gets the whole lines, as a
    transcript gives them, so the demo's events are exactly `callcue analyze`'s.
    """
    out: list[Event] = []
    for seg in segments:
        if not seg.start <= t < seg.end:
            continue
        said = " ".join(w.word for w in seg.words if w.end <= t) if seg.words else ""
        if said and shown.get(seg.who) != said:
            shown[seg.who] = said
            out.append(Partial(who=seg.who, at=round(t, 3), text=said))
    return out


def _overlay_pipeline(session: CallSession, engine: Any, capture: Any, model: Any, note: str | None) -> Any:
    """speech.live's pipeline, taught two things the overlay needs: controls and the clock.

    Both happen on the pipeline's own thread, which owns the engine: a control arrives through its
    inbox like audio does, and a tick follows the audio (at most every TICK_GAP_S of wall time).
    """
    from callcue.speech.live import LivePipeline

    class OverlayPipeline(LivePipeline):
        _last_tick = 0.0

        def _handle(self, item: tuple) -> None:
            if item[0] == "act":
                self._emit(act_on(self.engine, item[1]))
                return
            super()._handle(item)
            if item[0] == "audio":
                wall = time.perf_counter()
                if wall - self._last_tick >= session.tick_gap_s:
                    self._last_tick = wall
                    session.out.tick(engine_tick(self.engine, self.engine.now))

    return OverlayPipeline(engine, capture, model, on_events=session.out.events, note=note,
                           cache_mb=session.settings.speech_cache_mb or "auto")
