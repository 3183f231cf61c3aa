"""`callcue` and its subcommands.

Each subcommand lives in `callcue.commands.<name>` with `register(subparsers)`,
which must stay cheap: heavy imports happen inside the command's run function.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from callcue import __version__
from callcue.errors import CallcueError

# Subcommand modules, in the order `--help` lists them.
COMMANDS = ["run", "demo", "analyze", "listen", "devices", "models", "review", "report", "chat", "team"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="callcue",
        description="Local, private soft-skill cues for support calls and chats.",
    )
    parser.add_argument("--version", action="version", version=f"callcue {__version__}")
    parser.add_argument("--self-test", action="store_true",
                        help="check that Callcue can work on this PC (screen, audio, model, playbook, storage); "
                             "exit code 0 pass, 1 fail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"callcue.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """`argv` None: this process's command line, and Callcue may start itself again on a leaner
    allocator first (callcue.allocator); a list: run in this process as it is (tests)."""
    if argv is None:
        from callcue.allocator import relaunch

        relaunch()
    parser = build_parser()
    args = parser.parse_args(argv)
    from callcue import managed  # IT's system-wide settings: storage, model, playbook (docs/deploy.md)

    it = managed.activate()
    if getattr(args, "self_test", False):
        from callcue.selftest import main as self_test

        return self_test()  # its report shows the managed settings' problems
    for problem in it.problems + managed.apply_to_args(args, it):
        print(f"callcue: warning: {problem}", file=sys.stderr)
    if args.command is None:  # `callcue` alone opens the overlay
        from callcue.commands.run import run as open_overlay

        args.run = open_overlay
    if not getattr(args, "run", None):
        parser.print_help()
        return 0
    try:
        return int(args.run(args) or 0)
    except CallcueError as err:
        print(f"callcue: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("callcue: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
