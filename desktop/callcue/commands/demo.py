"""`callcue demo`: the bundled demo call through the live pipeline, in real time, in the overlay."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="play the bundled demo call in the overlay (no microphone, no model needed)",
                       description="Play resources/demo/demo-call.flac through the live pipeline at the pace of "
                                   "a real call, so you see the cues appear. With an English Vosk model "
                                   "installed it is transcribed live; otherwise the bundled transcript is used, "
                                   "and the window says which.")
    p.add_argument("--headless", action="store_true",
                   help="no window: print what the panel would show (for machines without a display)")
    p.add_argument("--speed", type=_speed, default=1.0, metavar="X",
                   help="play X times faster than real time (default 1; 0 = as fast as possible)")
    p.add_argument("--no-model", action="store_true",
                   help="use the bundled transcript even when an English speech model is installed")
    p.add_argument("--no-captions", action="store_true", help="--headless: leave out what was said")
    p.set_defaults(run=run)


def _speed(text: str) -> float:
    try:
        value = float(text.rstrip("xX"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number (e.g. 1, 2.5 or 20)") from None
    if value < 0 or value > 1000:
        raise argparse.ArgumentTypeError(f"{text}: give a speed from 0 (as fast as possible) to 1000")
    return value


def run(args: argparse.Namespace) -> int:
    from callcue.calls.recipe import demo_files

    audio, transcript = demo_files()
    if not audio.is_file() or not transcript.is_file():
        from callcue.errors import CallcueError

        raise CallcueError(f"the demo call is missing ({audio} and {transcript}); reinstall Callcue or run "
                           "`python tools/make_demo_call.py` in the checkout")
    from callcue.commands.run import check_display, open_overlay
    from callcue.errors import CallcueError

    headless = args.headless
    if not headless:
        try:
            check_display()
        except CallcueError:
            # A newcomer on a server runs the README's first command: show the demo, not an error.
            print("callcue: no display here, so the demo prints what the panel would show (--headless)",
                  file=sys.stderr)
            headless = True
    if headless:
        return run_headless(args.speed, use_model=not args.no_model, captions=not args.no_captions)

    return open_overlay(demo=True, speed=args.speed, use_model=not args.no_model)


def run_headless(speed: float, use_model: bool = True, captions: bool = True) -> int:
    from callcue.calls.recipe import CallSpec
    from callcue.calls.runner import run_call, stop_on_signals
    from callcue.calls.session import CallSession, Outlet
    from callcue.commands.run import load_settings
    from callcue.ui.headless import HeadlessPanel

    settings, notice = load_settings()
    panel = HeadlessPanel(captions=captions)
    if notice:
        panel.out.write(f"note: {notice}\n")
    # The demo is saved like a live call while it plays (the recipe records it): `callcue review` shows it.
    session = CallSession(Outlet(panel.events, panel.tick, panel.phase))
    with stop_on_signals(session):  # Ctrl-C ends the demo as a finished call, with its summary
        run_call(session, CallSpec.from_settings(settings, "demo", speed=speed, use_model=use_model), tick_gap_s=0.0)
    return 1 if panel.state.phase.name == "error" else 0
