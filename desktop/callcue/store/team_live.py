"""The floor view: the calls in progress that this login may see (row-level security decides), as the
agents' PCs last reported them. A PC that has not reported for `stale_after_s` is shown as stale, not
as a finished call: its call may go on with the network down, or the PC may have died."""

from __future__ import annotations

from dataclasses import dataclass, field

from callcue.store import team


@dataclass
class LiveCall:
    id: str
    login: str
    agent: str | None
    team: str | None
    duration_s: float  # audio time the server has of the call
    frustration: float | None
    trend: str | None
    last_cue: str | None
    quiet_s: float  # since the PC last reported
    stale: bool
    flags: list[str] = field(default_factory=list)


def live_calls(dsn: str, *, stale_after_s: float = 15.0) -> list[LiveCall]:
    with team.connect(dsn, action="reading the calls in progress") as conn, \
            team.errors(dsn, "reading the calls in progress"):
        team.check_schema(conn, dsn)
        rows = conn.execute(
            "SELECT id, login, agent, team, greatest(coalesce(last_event_t, 0), coalesce(duration_s, 0)),"
            " frustration, frustration_trend, last_cue, extract(epoch FROM now() - seen_at), flags"
            " FROM callcue.sessions WHERE state = 'open' ORDER BY started_at").fetchall()
    return [LiveCall(id=r[0], login=r[1], agent=r[2], team=r[3], duration_s=float(r[4]), frustration=r[5],
                     trend=r[6], last_cue=r[7], quiet_s=float(r[8]), stale=float(r[8]) > stale_after_s,
                     flags=list(r[9] or [])) for r in rows]
