"""`callcue devices`: the input devices `callcue listen` can capture from."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("devices", help="list the audio input devices (marks monitor/loopback ones)",
                       description="List the input devices PortAudio sees. Monitor and loopback devices "
                                   "capture what the PC plays (the softphone's output: the customer); "
                                   "microphones capture the agent. Pass an index or a name to "
                                   "`callcue listen --agent DEV --customer DEV`.")
    p.add_argument("--json", action="store_true", help="one JSON object per device")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from callcue.audio.devices import input_devices, no_devices_error

    devices = input_devices()
    if args.json:
        for d in devices:
            print(json.dumps({"index": d.index, "name": d.name, "channels": d.channels, "rate": d.rate,
                              "hostapi": d.hostapi, "default": d.default, "loopback": d.loopback},
                             ensure_ascii=False))
        if not devices:
            print(f"callcue: {no_devices_error()}", file=sys.stderr)
        return 0
    if not devices:
        raise no_devices_error()
    print(f"{'':2}{'#':>3}  {'name':40} {'kind':17} {'ch':>3} {'rate':>6}  host API")
    for d in devices:
        kind = "monitor/loopback" if d.loopback else "microphone/input"
        print(f"{'*' if d.default else ' ':2}{d.index:>3}  {d.name:40} {kind:17} {d.channels:>3} "
              f"{d.rate:>6.0f}  {d.hostapi}")
    print("\n* = the system's default input. The agent is usually a microphone and the customer a "
          "monitor/loopback\nof the softphone's output: `callcue listen --agent DEV --customer DEV` "
          "(an index or a name).")
    return 0
