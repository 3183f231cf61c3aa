"""`callcue review`: the review window for saved sessions (or `--list` them on the terminal)."""

from __future__ import annotations

import argparse
import sys

from callcue.commands import access_policy, add_access_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("review", help="review saved calls: timeline, transcript, scorecard, trends",
                       description="Open the review window: the saved sessions with search and filters, each "
                                   "call's timeline, transcript and scorecard, and trends across calls.")
    p.add_argument("--list", action="store_true", help="print the sessions instead of opening the window")
    p.add_argument("--db", metavar="FILE", help="the sessions database (default: the user data folder)")
    p.add_argument("--agent", metavar="NAME", help="only this agent's sessions")
    p.add_argument("--profile", metavar="NAME", help="only this profile's sessions")
    p.add_argument("--since", metavar="DATE", help="from this day (YYYY-MM-DD)")
    p.add_argument("--until", metavar="DATE", help="up to this day, included")
    p.add_argument("--min-peak", metavar="X", type=float, help="peak frustration at least X (0-1)")
    p.add_argument("--flag", action="append", default=[], metavar="F", help="with this flag, e.g. escalation")
    p.add_argument("--search", metavar="TEXT", help="in agent, profile, file name and transcript")
    p.add_argument("--open", metavar="SESSION", help="open this session in the window")
    p.add_argument("--page", metavar="N", type=int, help="with a team store: this page of the list (200 a page)")
    add_access_args(p)
    p.add_argument("--screenshot", metavar="PNG", help=argparse.SUPPRESS)  # docs and bug reports
    p.set_defaults(run=run)


# `review --list`: one line per session under a header that names the columns.
ROW = "{id:<12}  {started:<16}  {state:<9}  {agent:<12}  {profile:<10}  {length:>7}  {peak:<4}  {flags:<10}  {call}"


def _filters(args: argparse.Namespace) -> dict:
    return {"agent": args.agent, "profile": args.profile, "since": args.since, "until": args.until,
            "min_peak": args.min_peak, "flags": tuple(args.flag), "search": args.search}


def run(args: argparse.Namespace) -> int:
    from callcue.report.access import visible
    from callcue.sessions_io import open_store

    if args.list and not args.db:  # the team store when one is set (commands/team.py), under its rules
        from callcue.commands.team import review_list

        if review_list(args, _filters(args)):
            return 0
    store, recovered = open_store(args.db)
    for s in recovered:
        print(f"callcue: recovered the unfinished session {s.id} ({s.duration_s or 0:.0f} s saved)", file=sys.stderr)
    policy = access_policy(args)
    if args.list:
        try:
            sessions = visible(store.list(**_filters(args)), policy)
        finally:
            store.close()
        if not sessions:
            print(f"callcue: no sessions match in {store.path}", file=sys.stderr)
            return 0
        out = sys.stdout
        out.write(ROW.format(id="session", started="started", state="state", agent="agent", profile="profile",
                             length="length", peak="peak", flags="flags", call="call").rstrip() + "\n")
        for s in sessions:
            out.write(ROW.format(id=s.id, started=s.started().strftime("%Y-%m-%d %H:%M"), state=s.state,
                                 agent=s.agent or "-", profile=s.profile or "-",
                                 length="-" if s.duration_s is None else f"{s.duration_s:.0f}s",
                                 peak="-" if s.peak_frustration is None else f"{s.peak_frustration:.2f}",
                                 flags=",".join(s.flags) or "-", call=(s.source or s.kind).rsplit("/", 1)[-1]) + "\n")
        return 0
    import os

    if (sys.platform.startswith("linux") and not args.screenshot and not os.environ.get("QT_QPA_PLATFORM")
            and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")):
        store.close()
        from callcue.errors import CallcueError

        raise CallcueError("No display to open the review window on (DISPLAY is not set); run it in your "
                           "desktop session, or use `callcue review --list` and `callcue report SESSION`.")
    if args.screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from callcue.ui.review import run_review

    return run_review(store, policy, filters=_filters(args), open_session=args.open, screenshot=args.screenshot)
