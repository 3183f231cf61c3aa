"""`callcue listen`: the live pipeline without a window; events are printed as they happen.

Ctrl-C (SIGINT), SIGTERM or SIGHUP (the terminal closed) ends the call: what was captured is
processed, the recognizers say their last lines, and the summary is printed. The call is set up and
run by callcue.calls, as the overlay's is.
"""

from __future__ import annotations

import argparse
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
    p.add_argument("--json", action="store_true", help="print the event stream as JSON Lines (docs/events.md)")
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
    from callcue.calls.recipe import CallSpec, open_call
    from callcue.calls.runner import stop_on_signals

    spec = CallSpec(playbook=args.playbook, profile=args.profile, agent_device=args.agent,
                    customer_device=args.customer, channels=args.channels, model=args.model,
                    cache_mb=args.cache_mb or settings_or_defaults().speech_cache_mb or "auto",
                    agent_name=args.agent_name, save=not args.no_save, team_dsn=settings_or_defaults().team_dsn)
    call = open_call(spec, on_events=_Printer(args.json), warn=_warn)
    stop = threading.Event()
    with stop_on_signals(stop):  # Ctrl-C, SIGTERM or a closed terminal end the call, finished
        call.run(stop, on_listening=lambda described: _warn(
            f"callcue: listening: {described}{'' if call.model_name else ' (no speech model)'}; Ctrl-C ends the call"))
    return 0
