"""One live call, set up in one place: the playbook, the devices (or a recording played as if it were
captured: the demo), the speech model and its check, the engine, the recorder and the pipeline.

`callcue listen`, the overlay and `callcue demo` (in the overlay or headless) all open their call
here, so a call is made the same way whatever started it:

    call = open_call(CallSpec.from_settings(settings), on_events=show, warn=log)
    call.run(stop)                    # until `stop` is set, the capture ends, or the pipeline fails

A problem with the setup raises `SetupError`, whose `fix` says what the user should look at
("settings", "devices", "model").
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from callcue import paths
from callcue.calls.live import TICK_GAP_S, LivePipeline
from callcue.engine.events import Event
from callcue.engine.pipeline import CallState, Engine
from callcue.errors import CallcueError

if TYPE_CHECKING:
    from callcue.settings import Settings

LOG = logging.getLogger("callcue.call")
CHANNEL_ORDER = ("agent", "customer", "mixed")


class SetupError(CallcueError):
    """The call could not start: `fix` names what to look at ("settings", "devices", "model")."""

    def __init__(self, message: str, fix: str = "settings") -> None:
        super().__init__(message)
        self.fix = fix


def demo_files() -> tuple[Path, Path]:
    """The bundled demo call: its recording and its transcript."""
    demo = paths.resources_dir() / "demo"
    return demo / "demo-call.flac", demo / "demo-call.vtt"


@dataclass
class CallSpec:
    """What a call is made of: where its audio and words come from, and how it is coached and kept."""

    kind: str = "live"  # "live": the sound devices; "demo": the bundled recording, in real time
    playbook: str | None = None
    profile: str | None = None
    agent_device: str | None = None  # a device index, name or sound-server source; None: the default
    customer_device: str | None = None
    channels: str | None = None  # with one stereo device: who is left and right ("agent,customer")
    capture: Any = None  # a source to use instead of the devices or the demo (tests, benchmark)
    speed: float = 1.0  # demo: times real time (0: as fast as the pipeline takes it)
    model: str | None = None  # a model name or folder; None: the lookup's choice
    use_model: bool = True  # False: no speech model (the demo then takes its transcript's words)
    any_language: bool = False  # demo: decode with `model` even if it is not English (benchmark)
    cache_mb: float | str | None = "auto"  # what the recognizers may add for their caches
    agent_name: str | None = None  # who takes the call, saved with the session
    save: bool = True  # keep the call as a session (review, reports)
    team_dsn: str | None = None  # the team store: a saved call is sent there in the background
    retention_days: int | None = None  # and the PC's sessions older than this are erased by it

    @classmethod
    def from_settings(cls, settings: Settings, kind: str = "live", **overrides: Any) -> CallSpec:
        """A call as the user's settings make it. A demo is not kept among the real calls unless asked
        (`save=True`), and then its session says it was a demo."""
        spec = cls(kind=kind, playbook=settings.playbook, profile=settings.profile,
                   agent_device=settings.agent_device, customer_device=settings.customer_device,
                   model=settings.model, cache_mb=settings.speech_cache_mb or "auto",
                   agent_name=settings.review_user, save=kind != "demo", team_dsn=settings.team_dsn,
                   retention_days=settings.retention_days)
        return dataclasses.replace(spec, **overrides)


@dataclass
class LiveCall:
    """A call ready to run: the engine, its source of audio and words, and the recorder."""

    spec: CallSpec
    engine: Engine
    capture: Any
    pipeline: LivePipeline
    model_name: str | None  # the speech model that gives the words, if one does
    words_from: str  # where the words come from, in a few words for the agent
    recorder: Any = None  # sessions_io.Recorder, when the call is saved
    warn: Callable[[str], None] = LOG.warning
    team_sync: Any = None  # store.team_sync.SyncWorker, when the call is saved and a team store is set

    def run(self, stop: threading.Event, on_listening: Callable[[str], None] = lambda described: None) -> None:
        """Run the call until `stop` is set (or Ctrl-C), the capture has played to its end, or the
        pipeline fails; the call is then finished (its summary made) and the session saved as such."""
        finished = False
        try:
            self.pipeline.start()
            wait_ready = getattr(self.capture, "wait_ready", None)
            if wait_ready is not None:
                wait_ready(10.0)
            if not stop.is_set():
                on_listening(self.capture.describe())
            done = getattr(self.capture, "done", None)
            try:
                while not stop.wait(0.1) and not self.pipeline.finished.is_set():
                    # saved here, not on the engine's thread, so a slow disk never holds the audio up; what
                    # waits through a silence is saved too
                    if self.recorder is not None:
                        self.recorder.advance(self.engine.now)
                    if done is not None and done.is_set():
                        break  # a recording has been played to its end
            except KeyboardInterrupt:
                pass  # Ctrl-C ends the call like any stop: what was heard is kept and summed up
            self.pipeline.stop()
            finished = self.pipeline.error is None
        finally:
            if self.recorder is not None:
                self.recorder.end(finished=finished, warn=self.warn)
            if self.team_sync is not None:
                self.team_sync.stop()  # a last round for the call's end; what is left waits for the next
        error = self.pipeline.error
        if error is not None:
            if isinstance(error, CallcueError):
                raise error
            raise CallcueError(f"the live pipeline failed ({type(error).__name__}: {error}); "
                               "what was shown is what was heard") from None

    def act(self, action: str) -> None:
        self.pipeline.act(action)


def open_call(spec: CallSpec, *, on_events: Callable[[list[Event]], None] = lambda events: None,
              on_tick: Callable[[CallState], None] | None = None, tick_gap_s: float | None = None,
              warn: Callable[[str], None] = LOG.warning,
              say: Callable[[str], None] = lambda message: None) -> LiveCall:
    """Set a call up (nothing is captured yet). `say(message)` hears what is being loaded."""
    from callcue.engine.playbook import load_playbook

    try:
        playbook = load_playbook(spec.playbook, spec.profile)
    except CallcueError as err:
        raise SetupError(str(err), "settings") from None
    capture, devices, words_segments = _source(spec, say)
    channels = tuple(sorted(capture.channels, key=CHANNEL_ORDER.index))
    ref, model = _model(spec, say, warn)
    words = None
    if model is not None:
        words_from = f"transcribed live by {ref.name}" if spec.kind == "demo" else f"words by {ref.name}"
        note = f"demo call: {words_from}" if spec.kind == "demo" else None
    elif words_segments is not None:
        from callcue.calls.words import TranscriptWords

        words = TranscriptWords(words_segments, channels)
        words_from = "words from the bundled transcript (no English speech model installed)"
        note = f"demo call: {words_from}"
    else:
        from callcue.speech.live import no_model_note

        words_from, note = "no speech model: cues from the voice only", no_model_note()
    engine = Engine(playbook, channels=channels, words="vosk" if model else "file" if words else None,
                    model=os.path.abspath(ref.path) if model is not None else None)
    recorder = None
    if spec.save:  # saved while it happens: a crash loses at most the last second or two
        from callcue.sessions_io import start_recording
        from callcue.store import SessionMeta

        recorder = start_recording(SessionMeta(kind=spec.kind, agent=spec.agent_name,
                                               profile=spec.profile or "default", devices=devices,
                                               model=ref.name if model is not None else None), warn=warn,
                                   engine=engine)  # the turn in progress is saved too
    team_sync = None
    if recorder is not None and spec.team_dsn:  # its own thread and connections: never in the call's way
        from callcue.store.team_sync import start_background

        rec = recorder
        team_sync = start_background(rec.store.path, spec.team_dsn, on_status=warn, retention_days=spec.retention_days,
                                     live=lambda: [rec.session_id] if rec.session_id else [])
    show = on_events if recorder is None else recorder.tee(on_events)
    pipeline = LivePipeline(engine, capture, model, words=words, on_events=show, on_tick=on_tick,
                            tick_gap_s=TICK_GAP_S if tick_gap_s is None else tick_gap_s,
                            warn=warn, note=note,
                            duration_s=getattr(capture, "duration_s", None), cache_mb=spec.cache_mb)
    return LiveCall(spec, engine, capture, pipeline, ref.name if model is not None else None, words_from,
                    recorder, warn, team_sync)


def _source(spec: CallSpec, say: Callable[[str], None]) -> tuple[Any, dict[str, str] | None, list | None]:
    """The call's audio: (capture, the devices to save with the session, the demo's transcript lines)."""
    if spec.kind == "demo":
        from callcue.audio.capture import FileCapture
        from callcue.audio.recording import read_recording
        from callcue.speech.transcript import read_transcript

        say("Loading the demo call\u2026")
        audio, transcript = demo_files()
        if not audio.is_file() or not transcript.is_file():
            raise SetupError(f"the demo call is missing ({audio} and {transcript}); reinstall Callcue or run "
                             "`python tools/make_demo_call.py` in the checkout")
        segments = read_transcript(transcript)
        capture = spec.capture or FileCapture(read_recording(audio).channels, speed=spec.speed, lossless=True)
        return capture, None, segments
    if spec.capture is not None:
        return spec.capture, None, None
    from callcue.audio.capture import DeviceCapture, plan_routes
    from callcue.audio.recording import parse_channel_order

    say("Opening the sound devices\u2026")
    try:
        routes = plan_routes(spec.agent_device, spec.customer_device, parse_channel_order(spec.channels))
    except CallcueError as err:
        raise SetupError(str(err), "devices") from None
    devices = {who: getattr(r.device, "name", str(r.device)) for r in routes for who in r.channels}
    return DeviceCapture(routes), devices, None


def _model(spec: CallSpec, say: Callable[[str], None], warn: Callable[[str], None]) -> tuple[Any, Any]:
    """The speech model that gives the call's words, loaded and checked: (ModelRef, vosk Model) or
    (None, None), by the one rule of speech.models.model_choice. The demo's call is English: a model for
    another language gives way to its transcript, and a broken model must not spoil it; for a live
    call a broken one is an error the user must fix, and one for another language a warning first."""
    if not spec.use_model:
        return None, None
    from callcue.speech import models

    try:
        if spec.kind == "demo" and spec.any_language and spec.model:  # the benchmark: this model, whatever
            choice = models.ModelChoice(models.find_model(spec.model))
        else:
            choice = models.model_choice(spec.model)  # the one rule every command goes by
        if spec.kind == "demo" and choice.warning:
            return None, None  # the demo call is English and has its transcript: better than foreign words
        ref = choice.ref
        if ref is None:
            return None, None
        say(f"Loading the speech model {ref.name}\u2026")
        model = models.load_model(ref)
        models.new_kaldi_recognizer(model)  # a damaged model can load and fail only here: say so before listening
        if choice.warning:  # before the call, not after; and only for a model that works (else one error line)
            warn(f"callcue: warning: {choice.warning}")
        return ref, model
    except CallcueError as err:
        if spec.kind == "demo":
            return None, None  # the transcript still works
        raise SetupError(str(err), "model") from None


def preload() -> None:
    """Import what a call needs before a window's event loop runs.

    Importing a C extension (Praat, libsndfile, soxr) holds the GIL for tens of milliseconds; done in
    the worker while the panel runs, that would freeze the panel. Done first, it only delays the start.
    """
    import parselmouth  # noqa: F401
    import soundfile  # noqa: F401
    import soxr  # noqa: F401

    import callcue.audio.recording  # noqa: F401
    import callcue.calls.feed  # noqa: F401
    import callcue.engine.pipeline  # noqa: F401
    import callcue.speech.transcript  # noqa: F401
