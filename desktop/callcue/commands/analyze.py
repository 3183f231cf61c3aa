"""`callcue analyze CALL`: run the engine on a recording and print its events."""

from __future__ import annotations

import argparse
import sys

from callcue.commands import add_playbook_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help="analyse a recorded call (WAV, FLAC, OGG)",
                       description="Run the call engine on a recording: speech, talk-over, silences, "
                                   "the customer's frustration and the cues, on the audio's own clock.")
    p.add_argument("call", metavar="CALL|DIR",
                   help="the recording: stereo (left agent, right customer) or mono; with --save, a folder of "
                        "recordings (each with its NAME.vtt/.srt/.json transcript if any)")
    p.add_argument("--transcript", metavar="F", help="WebVTT, SRT or Vosk JSON transcript of the call")
    p.add_argument("--model", metavar="M", help="without --transcript: the Vosk model that transcribes the call "
                                                "(default: CALLCUE_MODEL, then an English model that lookup finds)")
    p.add_argument("--json", action="store_true", help="print the event stream as JSON Lines (docs/events.md)")
    add_playbook_args(p)
    p.add_argument("--channels", metavar="L,R", help="who is on the left and right channel "
                                                     "(default agent,customer)")
    p.add_argument("--save", action="store_true", help="save as a session for `callcue review` and "
                                                       "`callcue report`, written during the analysis")
    p.add_argument("--agent-name", dest="agent", metavar="NAME", help="with --save: the agent on the call(s)")
    # The old spelling still works, with a note: in `listen`, --agent is the agent's microphone.
    p.add_argument("--agent", dest="agent", action=_DeprecatedAgent, help=argparse.SUPPRESS)
    p.add_argument("-v", "--verbose", action="store_true", help="with --save: print each save to stderr")
    p.set_defaults(run=run)


class _DeprecatedAgent(argparse.Action):
    """`analyze --agent NAME`: the agent's name as before, and a note on stderr to say --agent-name."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:  # noqa: ANN001
        print("callcue: warning: `analyze --agent NAME` is deprecated, use --agent-name NAME (in `listen`, "
              "--agent is the agent's microphone)", file=sys.stderr)
        setattr(namespace, self.dest, values)


def run(args: argparse.Namespace) -> int:
    if args.save:
        from callcue.commands.save import save_recordings

        return save_recordings(args)
    model = None
    if not args.transcript:
        from callcue.speech.models import model_choice

        choice = model_choice(args.model)
        if choice.warning:
            print(f"callcue: warning: {choice.warning}", file=sys.stderr)
        model = choice.ref
    from callcue.calls.offline import analyze_recording

    events = analyze_recording(args.call, args.transcript, args.playbook, args.profile, args.channels, model=model,
                               warn=lambda line: print(line, file=sys.stderr))
    out = sys.stdout
    if args.json:
        for ev in events:
            out.write(ev.to_json() + "\n")
    else:
        from callcue.report.timeline import render_timeline

        out.write(render_timeline(events))
    return 0
