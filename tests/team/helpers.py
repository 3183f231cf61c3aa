"""Building agent PCs (local stores) and a set-up team database for the team tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from callcue.engine import events as ev
from callcue.store import SessionMeta, SessionStore
from tests.team.pg import PgServer

# Who is who on the test floor: (login, role, team).
FLOOR = [("alice", "agent", "red"), ("bob", "agent", "red"), ("carol", "agent", "blue"),
         ("sam", "supervisor", "red"), ("quinn", "qa", None)]


@dataclass
class Team:
    pg: PgServer
    db: str
    logins: dict[str, str] = field(default_factory=dict)

    def dsn(self, login: str) -> str:
        return self.pg.dsn(user=login, dbname=self.db)

    @property
    def admin(self) -> str:
        return self.pg.dsn(dbname=self.db)

    def query(self, sql: str, params: tuple = (), login: str | None = None) -> list[tuple]:
        with psycopg.connect(self.dsn(login) if login else self.admin) as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def server_events(self, sid: str) -> list[tuple]:
        return self.query("SELECT seq, type, data::text FROM callcue.events WHERE session_id = %s ORDER BY seq",
                          (sid,))


def call_events(n: int, start: float = 0.0, who_said: str = "I have waited a long time") -> list[ev.Event]:
    out: list[ev.Event] = []
    for i in range(n):
        t = start + 2.0 * i
        # the number mid-line: one that ends a line is held as [digits] until settled, and synced then
        out.append(ev.Utterance("customer" if i % 2 else "agent", t, t + 1.5, f"{who_said}, line {i} of the call"))
        if i % 3 == 0:
            out.append(ev.Frustration(t + 1.5, min(1.0, 0.1 * (i % 10)), "rising"))
        if i % 5 == 4:
            out.append(ev.Cue(t + 1.6, "acknowledge", "empathy", "info", "Acknowledge the wait"))
    return out


def agent_pc(folder: Path, agent: str, calls: int = 2, events: int = 12, open_call: bool = False) -> Path:
    """A PC's local store with `calls` finished calls of `agent` (and one in progress if asked)."""
    path = folder / agent / "sessions.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    with SessionStore(path) as store:
        for c in range(calls):
            sid = store.begin(SessionMeta(kind="live", agent=agent, profile="default"))
            store.append(sid, call_events(events, who_said=f"{agent} call {c}"))
            store.flush()
            store.finish(sid, {"duration_s": 2.0 * events, "frustration_peak": 0.5, "cues": []})
        if open_call:
            sid = store.begin(SessionMeta(kind="live", agent=agent))
            store.append(sid, call_events(events))
            store.flush()
        demo = store.begin(SessionMeta(kind="demo", agent=agent))
        store.append(demo, call_events(2))
        store.finish(demo)
    return path


def local_events(path: Path, sid: str) -> list[tuple]:
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT seq, type, json FROM events WHERE session_id = ? ORDER BY seq", (sid,)).fetchall()
    finally:
        conn.close()
    return rows


def local_ids(path: Path, kind: str = "live") -> list[str]:
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT id FROM sessions WHERE kind = ? ORDER BY started_at, rowid",
                                           (kind,))]
    finally:
        conn.close()


def same_events(team: Team, path: Path, sid: str) -> bool:
    """The server holds exactly the PC's events of a session: none lost, none doubled, same content."""
    import json

    here = [(seq, kind, json.loads(text)) for seq, kind, text in local_events(path, sid)]
    there = [(seq, kind, json.loads(text)) for seq, kind, text in team.server_events(sid)]
    return here == there
