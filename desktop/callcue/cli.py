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
COMMANDS = ["analyze", "models"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="callcue",
        description="Local, private soft-skill cues for support calls and chats.",
    )
    parser.add_argument("--version", action="version", version=f"callcue {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"callcue.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
