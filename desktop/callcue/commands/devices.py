"""`callcue devices`: the input devices `callcue listen` can capture from."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("devices", help="list the audio input devices and sound server sources (marks monitors)",
                       description="List the input devices PortAudio sees and, when a PulseAudio or PipeWire "
                                   "server runs, its sources. Monitor and loopback devices capture what the PC "
                                   "plays (the softphone's output: the customer); microphones capture the "
                                   "agent. Pass an index or a name (a source's name or description, or a "
                                   "part of one) to `callcue listen --agent DEV --customer DEV`.")
    p.add_argument("--json", action="store_true", help="one JSON object per device (JSON Lines)")
    p.set_defaults(run=run)


def _unreachable_sources(devices: list) -> int:
    """How many sources the sound server has that PortAudio cannot open (it has no `pulse` device)."""
    from callcue.audio.devices import PULSE_DEVICE

    if any(d.name == PULSE_DEVICE and d.source is None for d in devices):
        return 0
    from callcue.audio.pulse import list_sources

    return len(list_sources())


NO_PLUGIN = ("the sound server has {n} source(s), but PortAudio has no `pulse` device to record them through: "
             "install the ALSA pulse plugin (Debian/Ubuntu: `sudo apt-get install libasound2-plugins`)")


def run(args: argparse.Namespace) -> int:
    from callcue.audio.devices import LISTING_HINT, input_devices, no_devices_error
    from callcue.errors import CallcueError

    try:
        devices = input_devices()
        if not devices:  # exit 2 with --json too: a script learns it as a person does
            raise no_devices_error()
    except CallcueError as err:  # not "run `callcue devices`": this is it
        raise CallcueError(str(err).replace(LISTING_HINT, "")) from None
    unreachable = _unreachable_sources(devices)
    if args.json:
        for d in devices:
            print(json.dumps({"index": None if d.source else d.index, "name": d.name, "description": d.description,
                              "channels": d.channels, "rate": d.rate, "hostapi": d.hostapi, "default": d.default,
                              "loopback": d.loopback, "source": d.source is not None}, ensure_ascii=False))
        if unreachable:
            print(f"callcue: {NO_PLUGIN.format(n=unreachable)}", file=sys.stderr)
        return 0
    ports = [d for d in devices if d.source is None]
    sources = [d for d in devices if d.source is not None]
    print(f"{'':2}{'#':>3}  {'name':40} {'kind':17} {'ch':>3} {'rate':>6}  host API")
    for d in ports:
        print(f"{'*' if d.default else ' ':2}{d.index:>3}  {d.name:40} {_kind(d):17} {d.channels:>3} "
              f"{d.rate:>6.0f}  {d.hostapi}")
    if sources:
        print(f"\nPulseAudio/PipeWire sources (recorded through device {sources[0].index}, `pulse`):")
        print(f"{'':2}{'name':44} {'description':36} {'kind':17} {'ch':>3} {'rate':>6}")
        for d in sources:
            print(f"{'*' if d.default else ' ':2}{d.name:44} {d.description:36} {_kind(d):17} {d.channels:>3} "
                  f"{d.rate:>6.0f}")
    print("\n* = the system's default input" + (" and the sound server's default source" if sources else "") +
          ". The agent is usually a microphone and the customer a monitor/loopback\nof the softphone's output: "
          "`callcue listen --agent DEV --customer DEV` (an index, a name" +
          (", a source's description" if sources else "") + " or a part of one).")
    if unreachable:
        print(f"\nNote: {NO_PLUGIN.format(n=unreachable)}.")
    return 0


def _kind(d) -> str:  # noqa: ANN001
    return "monitor/loopback" if d.loopback else "microphone/input"
