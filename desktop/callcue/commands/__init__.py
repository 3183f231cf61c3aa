"""Subcommands of `callcue`, one module each, with `register(subparsers)`."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def whole_number(lo: int, hi: int, unit: str = "") -> Callable[[str], int]:
    """An argparse `type=` for a whole number from lo to hi: anything else is argparse's one error line
    ("argument --cache-mb: ...") and exit code 2, like any other bad option."""
    what = f"a whole number{f' of {unit}' if unit else ''} from {lo} to {hi}"

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, not {text!r}") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must be {what}, not {value}")
        return value

    parse.__name__ = "whole number"  # argparse names the type in some messages
    return parse


def add_playbook_args(parser: argparse.ArgumentParser) -> None:
    """`--playbook F` and `--profile NAME`: every command that runs the engine takes them."""
    parser.add_argument("--playbook", metavar="F", help="a playbook TOML (default: the bundled one)")
    parser.add_argument("--profile", metavar="NAME", help="a profile of the playbook")


def add_access_args(parser: argparse.ArgumentParser) -> None:
    """`--role` and `--user`: override the settings' review access for this run."""
    parser.add_argument("--role", choices=("agent", "supervisor"), help="override the settings' review role")
    parser.add_argument("--user", metavar="NAME", help="override the settings' agent name")


def settings_or_defaults():  # type: ignore[no-untyped-def]
    """The user's settings (with IT's managed layer), or the defaults when they cannot be read: a
    command-line tool goes on; the overlay is where their problems are reported."""
    from callcue.settings import Settings

    try:
        from callcue.commands.run import load_settings

        return load_settings()[0]
    except Exception:  # noqa: BLE001
        return Settings()


def access_policy(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """Whose sessions this person may see: the settings' review policy (IT's pinned one included),
    with --role/--user on top. The review window, `review --list` and `report` all go by it."""
    from dataclasses import replace

    from callcue.report.access import AccessPolicy

    policy = AccessPolicy.from_settings(settings_or_defaults())
    return replace(policy, role=args.role or policy.role, user=args.user or policy.user)
