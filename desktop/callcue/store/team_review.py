"""The team store read for review: sessions listed with the review's filters, under the database's rules
(row-level security: an agent's own, a supervisor's team, QA all), newest first, a page at a time.

Transcripts are not searched here: another person's events are read only through the audited
`callcue.read_events`, one call at a time (`load`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from callcue.engine import events as ev
from callcue.errors import CallcueError
from callcue.store import team
from callcue.store.sessions import StoredSession

PAGE = 200


def _day(value: str | date | datetime | None, end: bool) -> tuple[datetime, bool] | None:
    """A filter bound: a plain date is that local day, included (as an upper bound: the next midnight)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
        except ValueError:
            raise CallcueError(f"Date {value!r} is not ISO 8601 (like 2024-05-01); fix the filter.") from None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.astimezone()), False
    day = value + timedelta(days=1) if end else value
    return datetime.combine(day, time.min).astimezone(), end


def list_sessions(dsn: str, *, agent: str | None = None, profile: str | None = None,
                  since: str | date | None = None, until: str | date | None = None,
                  min_peak: float | None = None, flags: Iterable[str] = (), search: str | None = None,
                  ids: Iterable[str] | None = None, limit: int = PAGE, offset: int = 0) -> list[StoredSession]:
    where: list[str] = []
    args: list[Any] = []
    if ids is not None:
        where.append("id = ANY(%s)")
        args.append(list(ids))
    if agent is not None:
        where.append("(agent = %s OR login = %s)")
        args += [agent, agent]
    if profile is not None:
        where.append("profile = %s")
        args.append(profile)
    low, high = _day(since, False), _day(until, True)
    if low:
        where.append("started_at >= %s")
        args.append(low[0])
    if high:
        where.append("started_at < %s" if high[1] else "started_at <= %s")
        args.append(high[0])
    if min_peak is not None:
        where.append("peak_frustration >= %s")
        args.append(float(min_peak))
    for flag in flags:
        where.append("%s = ANY(flags)")
        args.append(flag)
    if search:
        where.append("(agent ILIKE %s OR profile ILIKE %s OR login ILIKE %s)")
        like = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        args += [like] * 3
    sql = ("SELECT id, kind, coalesce(agent, login), profile, started_at, duration_s, model, state, summary,"
           " peak_frustration, flags FROM callcue.sessions")
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY started_at DESC, id LIMIT %s OFFSET %s"
    args += [int(limit), int(offset)]
    with team.connect(dsn, action="listing the team's sessions") as conn, \
            team.errors(dsn, "listing the team's sessions"):
        team.check_schema(conn, dsn)
        rows = conn.execute(sql, args).fetchall()
    return [StoredSession(id=r[0], kind=r[1], agent=r[2], profile=r[3], started_at=r[4].isoformat(),
                          duration_s=r[5], devices=None, model=r[6], source=None, state=r[7], summary=r[8],
                          peak_frustration=r[9], flags=sorted(r[10] or [])) for r in rows]


def load(dsn: str, session_id: str, action: str = "view") -> StoredSession:
    """One call with its events, through the audited function (a view or an export of another's call is
    written to the audit table before the events are returned)."""
    found = list_sessions(dsn, ids=[session_id])
    if not found:
        raise CallcueError(f"No session {session_id!r} that this login may read on {team.where(dsn)}.")
    session = found[0]
    with team.connect(dsn, action="reading a session") as conn, team.errors(dsn, "reading a session"):
        rows = conn.execute("SELECT data FROM callcue.read_events(%s, %s)", (session_id, action)).fetchall()
        conn.commit()
    for (data,) in rows:
        data = data if isinstance(data, dict) else json.loads(data)
        if data.get("type") in ev.EVENT_TYPES:
            session.events.append(ev.from_dict(data))
        else:
            session.skipped_events += 1
    return session
