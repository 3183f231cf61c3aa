"""`callcue report SESSION --format html|pdf|json [-o FILE]`: export a saved session."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from callcue.commands import access_policy, add_access_args

FORMATS = ("html", "pdf", "json")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="export a saved session as HTML, PDF or JSON",
                       description="Export a saved session: HTML (self-contained, with its charts), a paginated "
                                   "PDF, or JSON (the event stream plus the summary). Identifiers are redacted.")
    p.add_argument("session", help="a session id, or the first characters of one, or 'last' "
                                   "(see `callcue review --list`)")
    p.add_argument("--format", "-f", choices=FORMATS, default="html", help="default: html")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="where to write (default: callcue-ID.FORMAT in the current folder; '-' for standard output, "
                        "not for pdf)")
    p.add_argument("--db", metavar="FILE", help="the sessions database (default: the user data folder)")
    add_access_args(p)
    p.set_defaults(run=run)


def load_session(store, session: str, policy=None):  # type: ignore[no-untyped-def]
    """The session asked for ("last": the newest this person may see), if the review policy lets
    them see it; None as policy lets everyone see everything."""
    from callcue.errors import CallcueError
    from callcue.report.access import visible

    if session in ("last", "latest"):
        newest = store.list(limit=None if policy else 1)  # with a policy, the newest one allowed
        if not newest:
            raise CallcueError(f"No sessions in {store.path} yet; save one with `callcue analyze CALL --save`.")
        mine = newest if policy is None else visible(newest, policy)
        if not mine:
            raise CallcueError(f"None of the sessions in {store.path} is yours to see ({policy.describe()}); "
                               "ask a supervisor, or IT for the review policy.")
        session = mine[0].id
    found = store.load(session)
    if policy is not None and not policy.allows(found):
        raise CallcueError(f"Session {found.id} is {found.agent or 'another agent'}'s, not yours to see "
                           f"({policy.describe()}); ask a supervisor, or IT for the review policy.")
    return found


def export(store, session: str, fmt: str, output: str | None, policy=None) -> Path | None:  # type: ignore[no-untyped-def]
    """Write one session's report; returns the file written (None for standard output)."""
    from callcue.errors import CallcueError
    from callcue.report.data import build_report

    data = build_report(load_session(store, session, policy))
    if output == "-" and fmt == "pdf":
        raise CallcueError("A PDF cannot go to standard output; give a file with -o report.pdf.")
    target = None if output == "-" else Path(output or f"callcue-{data.session.id}.{fmt}")
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


def run(args: argparse.Namespace) -> int:
    from callcue.sessions_io import open_store

    store, recovered = open_store(args.db)
    try:
        for s in recovered:
            print(f"callcue: recovered the unfinished session {s.id} ({s.duration_s or 0:.0f} s saved)",
                  file=sys.stderr)
        target = export(store, args.session, args.format, args.output, access_policy(args))
    finally:
        store.close()
    if target is not None:  # the full path: without -o the report lands in the current folder
        where = "" if args.output else " (the current folder; -o FILE writes it elsewhere)"
        print(f"callcue: wrote {target.resolve()}{where}", file=sys.stderr)
    return 0
