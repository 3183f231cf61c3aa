"""`callcue listen`: the live pipeline without a window; events are printed as they happen.

Ctrl-C (SIGINT) or SIGTERM ends the call: what was captured is processed, the recognizers say
their last lines, and the summary is printed.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from callcue.commands import add_playbook_args, settings_or_defaults, whole_number


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("listen", help="coach a live call from the sound devices (no window)",
                       description="Capture the agent's microphone and the customer's audio (a monitor or "
                                   "loopback of the softphone's output), transcribe both with Vosk and print "
                                   "the events as they happen, on the audio's clock. Ctrl-C ends the call "
                                   "and prints the summary. `callcue devices` lists the devices.")
    p.add_argument("--agent", metavar="DEV", help="the agent's microphone: a device index or name")
    p.add_argument("--customer", metavar="DEV", help="the customer's audio: a device index or name (give the "
                                                     "same stereo device as --agent for left/right channels)")
    p.add_argument("--channels", metavar="L,R", help="with one stereo device: who is left and right "
                                                     "(default agent,customer)")
    p.add_argument("--model", metavar="M", help="a Vosk model folder or installed model name (default: "
                                                "CALLCUE_MODEL, then the lookup of `callcue models list`)")
    p.add_argument("--json", action="store_true", help="print the event stream as JSON Lines (EVENTS.md)")
    add_playbook_args(p)
    p.add_argument("--agent-name", metavar="NAME", help="who takes the call, saved with the session")
    p.add_argument("--cache-mb", metavar="MB", type=whole_number(30, 65536, "MB"), help="memory the speech "
                   "recognizers may add during the call (default: the speech_cache_mb setting, else 150, or 200 on "
                   "jemalloc): they decode more cheaply the more they may keep")
    p.add_argument("--no-save", action="store_true", help="do not save the call as a session (`callcue review`)")
    p.set_defaults(run=run)


class _Printer:
    """Events to stdout as they come: JSON Lines, or short lines a person can follow."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.lock = threading.Lock()

    def __call__(self, events: list) -> None:
        from callcue.engine.events import Partial, Speech, Utterance
        from callcue.report.timeline import clock, render_timeline

        lines = []
        for ev in events:
            if self.as_json:
                lines.append(ev.to_json())
            elif isinstance(ev, Utterance) and ev.text:
                lines.append(f"{clock(ev.start)}  {ev.who}: {ev.text}")
            elif not isinstance(ev, (Partial, Speech, Utterance)):
                text = render_timeline([ev]).rstrip("\n")
                if text:
                    lines.append(text)
        if not lines:
            return
        with self.lock:
            try:
                sys.stdout.write("\n".join(lines) + "\n")
                sys.stdout.flush()
            except BrokenPipeError:
                pass  # the reader went away; the call still ends properly on the signal


def _warn(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from callcue.audio.capture import DeviceCapture, plan_routes
    from callcue.audio.recording import parse_channel_order
    from callcue.engine.pipeline import Engine
    from callcue.engine.playbook import load_playbook
    from callcue.errors import CallcueError
    from callcue.speech.live import LivePipeline, choose_model, no_model_note

    playbook = load_playbook(args.playbook, args.profile)
    order = parse_channel_order(args.channels)
    routes = plan_routes(args.agent, args.customer, order)
    ref = choose_model(args.model)
    model = None
    if ref is not None:
        from callcue.speech.models import load_model, new_kaldi_recognizer

        model = load_model(ref)
        new_kaldi_recognizer(model)  # a damaged model can load and fail only here: say so before listening
    channels = tuple(c for r in routes for c in r.channels)
    channels = tuple(sorted(channels, key=lambda c: ("agent", "customer", "mixed").index(c)))
    engine = Engine(playbook, channels=channels, words="vosk" if model else None,
                    model=os.path.abspath(ref.path) if ref is not None else None)
    capture = DeviceCapture(routes)
    saver = None
    if not args.no_save:  # saved while it happens: a crash loses at most the last second or two
        from callcue.sessions_io import start_recording
        from callcue.store import SessionMeta

        saver = start_recording(SessionMeta(kind="live", agent=args.agent_name, profile=args.profile or "default",
                                            devices={who: getattr(r.device, "name", str(r.device))
                                                     for r in routes for who in r.channels},
                                            model=ref.name if ref else None), warn=_warn)
    on_events = _Printer(args.json) if saver is None else saver.tee(_Printer(args.json))
    pipeline = LivePipeline(engine, capture, model, on_events=on_events, warn=_warn,
                            note=None if model else no_model_note(),
                            cache_mb=args.cache_mb or settings_or_defaults().speech_cache_mb or "auto")

    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        pipeline.start()
        capture.wait_ready(10.0)
        if not stop.is_set():
            _warn(f"callcue: listening: {capture.describe()}"
                  f"{'' if model else ' (no speech model)'}; Ctrl-C ends the call")
        while not stop.is_set() and not pipeline.finished.is_set():
            stop.wait(0.5)  # the signal handler sets `stop`; the timeout only notices a failed worker
            if saver is not None:
                saver.advance(engine.now)  # events waiting through a silence are saved too
        pipeline.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if saver is not None:
            saver.end(finished=pipeline.error is None and pipeline.finished.is_set(), warn=_warn)
    if pipeline.error is not None:
        if isinstance(pipeline.error, CallcueError):
            raise pipeline.error
        raise CallcueError(f"the live pipeline failed ({type(pipeline.error).__name__}: {pipeline.error}); "
                           "what was printed above is what was heard") from None
    return 0
