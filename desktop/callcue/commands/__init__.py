"""Subcommands of `callcue`, one module each, with `register(subparsers)`."""

from __future__ import annotations

import argparse


def add_playbook_args(parser: argparse.ArgumentParser) -> None:
    """`--playbook F` and `--profile NAME`: every command that runs the engine takes them."""
    parser.add_argument("--playbook", metavar="F", help="a playbook TOML (default: the bundled one)")
    parser.add_argument("--profile", metavar="NAME", help="a profile of the playbook")
