"""The session database's schema, versioned with `PRAGMA user_version`.

Each migration takes the database from version N-1 to N and runs inside the
caller's transaction, so an interrupted upgrade leaves the old version intact.
Never edit a released migration: add the next one.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]


def _v1(conn: sqlite3.Connection) -> None:
    conn.execute(
        """CREATE TABLE sessions (
            id          TEXT PRIMARY KEY,
            kind        TEXT NOT NULL CHECK (kind IN ('live', 'demo', 'analyze', 'chat')),
            agent       TEXT,
            profile     TEXT,
            started_at  TEXT NOT NULL,
            duration_s  REAL,
            devices     TEXT,
            model       TEXT,
            source      TEXT,
            state       TEXT NOT NULL CHECK (state IN ('open', 'finished', 'recovered')),
            summary     TEXT
        )"""
    )
    conn.execute(
        """CREATE TABLE events (
            session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            seq         INTEGER NOT NULL,
            type        TEXT NOT NULL,
            t           REAL NOT NULL,
            json        TEXT NOT NULL,
            PRIMARY KEY (session_id, seq)
        )"""
    )


_ESCALATION = re.compile(r"\b(supervisor|manager|escalat\w*|complaint|complain|lawyer|ombudsman)\b", re.I)


def escalation_in(event: dict) -> bool:
    """Did this event (as stored JSON) show the customer asking to escalate?

    The engine's `escalation-request` cue is the main signal; the words are a fallback for
    streams without cues (chats, cues switched off)."""
    if event.get("type") == "cue":
        return "escalat" in str(event.get("id", ""))
    if event.get("type") == "utterance" and event.get("who") in ("customer", "mixed"):
        if any("escalat" in str(s) for s in event.get("signals") or []):
            return True
        return bool(_ESCALATION.search(str(event.get("text", ""))))
    return False


def _v2(conn: sqlite3.Connection) -> None:
    """List filters without reading every event: peak frustration, flags, who owns an open session."""
    conn.execute("ALTER TABLE sessions ADD COLUMN peak_frustration REAL")
    conn.execute("ALTER TABLE sessions ADD COLUMN owner TEXT")
    conn.execute(
        """CREATE TABLE session_flags (
            session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            flag        TEXT NOT NULL,
            PRIMARY KEY (session_id, flag)
        )"""
    )
    conn.execute("CREATE INDEX sessions_started ON sessions (started_at)")
    conn.execute("CREATE INDEX sessions_agent ON sessions (agent, started_at)")
    conn.execute("CREATE INDEX events_time ON events (session_id, t)")
    # Backfill what version 1 already holds.
    ids = [row[0] for row in conn.execute("SELECT id FROM sessions")]
    for sid in ids:
        peak: float | None = None
        escalation = False
        for type_, text in conn.execute(
            "SELECT type, json FROM events WHERE session_id = ? AND type IN ('frustration', 'cue', 'utterance')",
            (sid,),
        ):
            try:
                event = json.loads(text)
            except ValueError:
                continue
            if type_ == "frustration" and isinstance(event.get("level"), (int, float)):
                peak = max(peak or 0.0, float(event["level"]))
            escalation = escalation or escalation_in(event)
        summary = conn.execute("SELECT summary FROM sessions WHERE id = ?", (sid,)).fetchone()[0]
        if summary:
            try:
                value = json.loads(summary).get("frustration_peak")
            except (ValueError, AttributeError):
                value = None
            if isinstance(value, (int, float)):
                peak = max(peak or 0.0, float(value))
        conn.execute("UPDATE sessions SET peak_frustration = ? WHERE id = ?", (peak, sid))
        if escalation:
            conn.execute("INSERT OR IGNORE INTO session_flags VALUES (?, 'escalation')", (sid,))


def _v3(conn: sqlite3.Connection) -> None:
    """The team store's bookkeeping (store/team_sync.py): how far the team server holds each session, so
    what waits is known without the server; the server's own record stays the truth it resumes from."""
    conn.execute(
        """CREATE TABLE team_sync (
            session_id  TEXT PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
            seq         INTEGER NOT NULL DEFAULT -1,
            meta        TEXT,
            synced_at   TEXT
        )"""
    )
    conn.execute("CREATE TABLE team_sync_state (key TEXT PRIMARY KEY, value TEXT)")


# Index i holds the migration to version i + 1.
MIGRATIONS: list[Migration] = [_v1, _v2, _v3]
LATEST = len(MIGRATIONS)


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> tuple[int, int]:
    """Bring the database to LATEST inside one transaction; returns (from, to).

    The caller has checked that the version is not newer than LATEST."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Read again under the write lock: another process may have migrated meanwhile.
        current = user_version(conn)
        for version in range(current + 1, LATEST + 1):
            MIGRATIONS[version - 1](conn)
            conn.execute(f"PRAGMA user_version = {version:d}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return current, max(current, LATEST)
