"""`callcue team`: the team store on PostgreSQL (store/team.py, docs/deploy.md "Team store").

  team setup                      IT: schema, group roles, row-level security on an empty database
  team grant LOGIN --role R       IT: make a login an agent, supervisor or QA (--team T)
  team sync                       send what waits in this PC's store, once, and exit
  team status                     what waits on this PC, since when, the last error (no server needed)
  team forget --agent L|--session ID|--older-than D   IT: erase on the server, then on each PC
  team live                       supervisors: the team's calls in progress, and PCs gone quiet
"""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("team", help="the team store on PostgreSQL: setup, grant, sync, status, live",
                       description="Every agent's calls in one PostgreSQL database for supervisors and QA. "
                                   "The DSN is the settings' team_dsn (CALLCUE_TEAM_DSN overrides; --dsn here).")
    tsub = p.add_subparsers(dest="team_command", metavar="ACTION", required=True)

    def add(name: str, help_: str) -> argparse.ArgumentParser:
        q = tsub.add_parser(name, help=help_, description=help_)
        q.add_argument("--dsn", metavar="DSN", help="a libpq DSN or service name (default: team_dsn)")
        return q

    add("setup", "IT: create the schema, group roles and row-level security on the team database "
                 "(with a login that may create roles), or upgrade it").set_defaults(run=run_setup)
    g = add("grant", "IT: make LOGIN an agent, supervisor or QA")
    g.add_argument("login", metavar="LOGIN", help="the person's database login (created without a password "
                                                  "if missing)")
    g.add_argument("--role", required=True, choices=("agent", "supervisor", "qa"))
    g.add_argument("--team", metavar="T", help="the team (agents: whose supervisor sees them; supervisors: "
                                               "whose calls they see)")
    g.set_defaults(run=run_grant)
    s = add("sync", "send what this PC's store holds and the team server does not, once, and exit")
    s.add_argument("--db", metavar="FILE", help="the sessions database (default: the user data folder)")
    s.set_defaults(run=run_sync)
    st = add("status", "what waits on this PC to be sent, since when, and the last error")
    st.add_argument("--db", metavar="FILE", help="the sessions database (default: the user data folder)")
    st.set_defaults(run=run_status)
    f = add("forget", "IT: erase sessions on the team server; each PC erases its copies at its next sync")
    which = f.add_mutually_exclusive_group(required=True)
    which.add_argument("--agent", metavar="LOGIN", help="every session of this login")
    which.add_argument("--session", metavar="ID", help="one session")
    which.add_argument("--older-than", metavar="DAYS", type=float, help="the retention: sessions older than DAYS")
    f.set_defaults(run=run_forget)
    lv = add("live", "supervisors: the team's calls in progress (agent, duration, frustration, last cue)")
    lv.add_argument("--stale-after", metavar="S", type=float, default=15.0,
                    help="a PC silent this many seconds is shown as stale (default 15)")
    lv.set_defaults(run=run_live)


def _dsn(args: argparse.Namespace) -> str:
    from callcue.commands import settings_or_defaults
    from callcue.store.team import conninfo

    dsn = args.dsn or settings_or_defaults().team_dsn or ""
    conninfo(dsn)  # one clear line for a missing or bad DSN, before anything else
    return dsn


def run_setup(args: argparse.Namespace) -> int:
    from callcue.store import team

    dsn = _dsn(args)
    for line in team.setup(dsn):
        print(f"{team.where(dsn)}: {line}")
    return 0


def run_grant(args: argparse.Namespace) -> int:
    from callcue.store import team

    dsn = _dsn(args)
    for line in team.grant(dsn, args.login, args.role, args.team):
        print(f"{team.where(dsn)}: {line}")
    return 0


def run_forget(args: argparse.Namespace) -> int:
    from callcue.store import team

    dsn = _dsn(args)
    for line in team.forget(dsn, agent=args.agent, session=args.session, older_than_days=args.older_than):
        print(f"{team.where(dsn)}: {line}")
    return 0


def _store_path(args: argparse.Namespace) -> str:
    from callcue.store import SessionStore

    with SessionStore(args.db) as store:  # brings an older local store to the schema with the bookkeeping
        if store.read_only:
            from callcue.errors import CallcueError

            raise CallcueError(f"The sessions database {store.path} was written by a newer Callcue; update "
                               "Callcue to sync it.")
        return str(store.path)


def run_sync(args: argparse.Namespace) -> int:
    from callcue.store import team_sync

    dsn = _dsn(args)
    path = _store_path(args)
    from callcue.commands import settings_or_defaults

    report = team_sync.sync(path, dsn, retention_days=settings_or_defaults().retention_days)
    for line in report.errors:
        print(f"callcue: warning: {line}", file=sys.stderr)
    print(f"sent {report.sessions} session(s), {report.events} event(s) to {team_sync.team.where(dsn)}")
    if report.forgotten or report.expired:
        print(f"erased on this PC: {report.forgotten} session(s) forgotten on the server, {report.expired} past "
              "the retention days")
    return 1 if report.errors else 0


def run_status(args: argparse.Namespace) -> int:
    from callcue.store import team_sync

    path = _store_path(args)
    local = team_sync.open_local(path)
    try:
        w = team_sync.waiting(local)
    finally:
        local.close()
    print(f"sessions waiting: {w.sessions}")
    print(f"events waiting: {w.events}")
    print(f"waiting since: {w.since or '-'}")
    print(f"last sync: {w.last_ok or 'never'}")
    print(f"last error: {(w.last_error_at or '') + ' ' + w.last_error if w.last_error else '-'}")
    return 0


def run_live(args: argparse.Namespace) -> int:
    from callcue.store import team_live

    dsn = _dsn(args)
    calls = team_live.live_calls(dsn, stale_after_s=args.stale_after)
    if not calls:
        print("no calls in progress")
    for c in calls:
        level = "-" if c.frustration is None else f"{c.frustration:.2f} {c.trend or ''}".strip()
        print(f"{c.id}  {c.agent or c.login:<12}  {c.duration_s:6.0f}s  frustration {level:<14}  "
              f"{'STALE ' + format(c.quiet_s, '.0f') + 's' if c.stale else 'live':<10}  "
              f"{'ESCALATION  ' if 'escalation' in c.flags else ''}{c.last_cue or '-'}")
    return 0


def review_list(args: argparse.Namespace, filters: dict) -> bool:
    """`callcue review --list` when a team store is configured: its sessions under the database's rules
    (False: none is configured, the local store is listed as before)."""
    from callcue.commands import settings_or_defaults

    dsn = settings_or_defaults().team_dsn
    if not dsn:
        return False
    from callcue.store import team
    from callcue.store.team_review import PAGE, list_sessions

    page = max(1, int(getattr(args, "page", None) or 1))
    sessions = list_sessions(dsn, **filters, limit=PAGE, offset=(page - 1) * PAGE)
    for s in sessions:
        peak = "-" if s.peak_frustration is None else f"{s.peak_frustration:.2f}"
        dur = "-" if s.duration_s is None else f"{s.duration_s:6.0f}s"
        sys.stdout.write(f"{s.id}  {s.started().strftime('%Y-%m-%d %H:%M')}  {s.state:<9}  {(s.agent or '-'):<12}  "
                         f"{(s.profile or '-'):<10}  {dur}  peak {peak:<4}  {','.join(s.flags) or '-':<10}  "
                         f"{s.kind}\n")
    if not sessions:
        print(f"callcue: no sessions match in the team store {team.where(dsn)}", file=sys.stderr)
    elif len(sessions) == PAGE:
        print(f"callcue: page {page} of the team store {team.where(dsn)}; --page {page + 1} for more", file=sys.stderr)
    return True
