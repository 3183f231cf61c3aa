"""The JSON export: the session's metadata, its event stream (docs/events.md, `call` first and
`summary` last) and the summary, redacted."""

from __future__ import annotations

import json
from typing import Any

from callcue.report.data import ReportData, session_meta

FORMAT = "callcue-session"
VERSION = 1


def export_dict(data: ReportData) -> dict[str, Any]:
    events = [e.to_dict() for e in data.events if e.type != "summary"]
    summary = {"type": "summary", **data.summary}
    return {
        "format": FORMAT,
        "version": VERSION,
        "session": session_meta(data.session),
        "summary_recovered": data.recovered_summary,
        "summary": data.summary,
        "events": [*events, summary],
    }


def render_json(data: ReportData) -> str:
    return json.dumps(export_dict(data), ensure_ascii=False, indent=1) + "\n"
