"""One saved session's report written to a file: the one export that `callcue report` and the
review window's Export buttons both call (so the window needs nothing from `commands/`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from callcue.errors import CallcueError

if TYPE_CHECKING:  # the store and the rest load when an export runs: `callcue --help` stays quick
    from callcue.report.access import AccessPolicy
    from callcue.store import SessionStore, StoredSession

FORMATS = ("html", "pdf", "json")


def load_session(store: SessionStore, session: str, policy: AccessPolicy | None = None) -> StoredSession:
    """The session asked for ("last": the newest this person may see), if the review policy lets
    them see it; None as policy lets everyone see everything."""
    from callcue.report.access import visible

    if session in ("last", "latest"):
        newest = store.list(limit=None if policy else 1)  # with a policy, the newest one allowed
        if not newest:
            raise CallcueError(f"No sessions in {store.path} yet; save one with `callcue analyze CALL --save`.")
        mine = newest if policy is None else visible(newest, policy)
        if not mine and policy is not None:
            raise CallcueError(f"None of the sessions in {store.path} is yours to see ({policy.describe()}); "
                               "ask a supervisor, or IT for the review policy.")
        session = mine[0].id
    found = store.load(session)
    if policy is not None and not policy.allows(found):
        raise CallcueError(f"Session {found.id} is {found.agent or 'another agent'}'s, not yours to see "
                           f"({policy.describe()}); ask a supervisor, or IT for the review policy.")
    return found


def _owner_only(target: Path, what: str) -> None:
    """Make `target` a file only its owner can read before anything is written into it: a report holds a
    call's words, which the store keeps 0600 too."""
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT, 0o600)
        os.close(fd)
        os.chmod(target, 0o600)  # an existing file keeps its mode otherwise
    except OSError as err:
        raise CallcueError(f"Cannot write the {what} {target}: {err.strerror or err}. "
                           "Choose another file with -o, or free some disk space.") from err


def export(store: SessionStore, session: str, fmt: str, output: str | None,
           policy: AccessPolicy | None = None) -> Path | None:
    """Write one session's report; returns the file written (None for standard output)."""
    from callcue.report.data import build_report

    data = build_report(load_session(store, session, policy))
    if output == "-" and fmt == "pdf":
        raise CallcueError("A PDF cannot go to standard output; give a file with -o report.pdf.")
    target = None if output == "-" else Path(output or f"callcue-{data.session.id}.{fmt}")
    if target is not None:
        _owner_only(target, "PDF report" if fmt == "pdf" else "report")
    if fmt == "pdf":
        from callcue.report.pdf import write_pdf

        assert target is not None
        write_pdf(data, target)
        return target
    if fmt == "html":
        from callcue.report.html import render_html

        text = render_html(data)
    else:
        from callcue.report.jsonexport import render_json

        text = render_json(data)
    if target is None:
        sys.stdout.write(text)
        return None
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as err:
        raise CallcueError(f"Cannot write the report {target}: {err.strerror or err}. "
                           "Choose another file with -o, or free some disk space.") from err
    return target
