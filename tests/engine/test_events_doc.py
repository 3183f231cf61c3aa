"""docs/events.md is the event stream's specification: it names every event type and every field the
code has, in the code's order, and nothing else."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from callcue.engine.events import EVENT_TYPES

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def documented() -> dict[str, list[str]]:
    """type -> its fields, as the page's `## `type`` sections and their tables list them."""
    out: dict[str, list[str]] = {}
    current = None
    for line in DOC.read_text().splitlines():
        head = re.match(r"^## `(\w+)`$", line)
        if head:
            current = out.setdefault(head.group(1), [])
            continue
        row = re.match(r"^\| `(\w+)` \|", line)
        if row and current is not None:
            current.append(row.group(1))
    return out


def test_every_event_and_field_is_documented_and_nothing_else():
    code = {name: [f.name for f in fields(cls)] for name, cls in EVENT_TYPES.items()}
    assert documented() == code


def test_the_commands_json_help_points_to_the_specification(capsys):
    import pytest

    from callcue.cli import main

    for command in ("analyze", "listen"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "docs/events.md" in capsys.readouterr().out
