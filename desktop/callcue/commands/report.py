"""`callcue report SESSION --format html|pdf|json [-o FILE]`: export a saved session."""

from __future__ import annotations

import argparse
import sys

from callcue.commands import access_policy, add_access_args
from callcue.report.export import FORMATS, export


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
