"""Schema versions: a version-1 database made by hand is upgraded in place, data kept."""

from __future__ import annotations

import json
import sqlite3

import pytest

from callcue.engine import events as ev
from callcue.errors import CallcueError
from callcue.store import SCHEMA_VERSION, SessionStore, schema

# Version 1 exactly as it was released: a frozen copy, not an import, so this test keeps
# checking upgrades from real old files if schema.py changes.
V1 = """
CREATE TABLE sessions (
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
);
CREATE TABLE events (
    session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    type        TEXT NOT NULL,
    t           REAL NOT NULL,
    json        TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
);
PRAGMA user_version = 1;
"""


def make_v1(path):
    conn = sqlite3.connect(path)
    conn.executescript(V1)
    rows = [
        ("aaaa00000001", "live", "kim", "acme", "2024-05-01T08:00:00+00:00", 60.0, '{"agent": "Headset"}',
         "vosk-small-en", None, "finished", json.dumps({"frustration_peak": 0.4, "cues": []})),
        ("bbbb00000002", "analyze", "lee", "acme", "2024-05-02T08:00:00+00:00", 30.0, None, None,
         "/calls/b.wav", "finished", None),
    ]
    conn.executemany("INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    events = [
        ("aaaa00000001", 0, ev.Utterance("customer", 1.0, 2.0, "hello there")),
        ("aaaa00000001", 1, ev.Frustration(2.0, 0.3, "rising")),
        ("bbbb00000002", 0, ev.Utterance("customer", 1.0, 3.0, "I want your manager")),
        ("bbbb00000002", 1, ev.Frustration(3.0, 0.7, "rising")),
        ("bbbb00000002", 2, ev.Frustration(4.0, 0.5, "falling")),
    ]
    conn.executemany(
        "INSERT INTO events VALUES (?, ?, ?, ?, ?)",
        [(sid, seq, e.type, e.time, json.dumps(e.to_dict())) for sid, seq, e in events],
    )
    conn.commit()
    conn.close()


def test_v1_database_is_upgraded(tmp_path):
    path = tmp_path / "sessions.db"
    make_v1(path)
    store = SessionStore(path)
    assert store.migrated_from == 1 and store.version == SCHEMA_VERSION == schema.LATEST
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    columns = {row[1] for row in raw.execute("PRAGMA table_info(sessions)")}
    assert {"peak_frustration", "owner"} <= columns
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw.close()
    # Old data is all there, with the new columns filled from it.
    a, b = store.load("aaaa00000001"), store.load("bbbb00000002")
    assert [e.to_dict() for e in a.events][0]["text"] == "hello there"
    assert a.peak_frustration == 0.4  # from the summary, above the events' 0.3
    assert b.peak_frustration == 0.7
    assert a.flags == [] and b.flags == ["escalation"]
    assert [s.id for s in store.list(flags=("escalation",))] == ["bbbb00000002"]
    assert [s.id for s in store.list(min_peak=0.5)] == ["bbbb00000002"]
    assert a.devices == {"agent": "Headset"}
    # And the upgraded file takes new sessions.
    sid = store.begin({"kind": "live"})
    store.append("aaaa00000001", [ev.Speech("agent", 5.0, 6.0)])
    store.flush()
    assert len(store.load("aaaa00000001").events) == 3
    assert store.load(sid).state == "open"
    store.close()
    again = SessionStore(path)
    assert again.migrated_from is None  # nothing left to do
    again.close()


def test_empty_file_gets_the_latest_schema(tmp_path):
    path = tmp_path / "empty.db"
    path.touch()
    with SessionStore(path) as store:
        assert store.migrated_from == 0 and store.version == SCHEMA_VERSION


def test_failed_migration_leaves_the_old_version(tmp_path, monkeypatch):
    path = tmp_path / "sessions.db"
    make_v1(path)

    def broken(conn):
        conn.execute("ALTER TABLE sessions ADD COLUMN half_done TEXT")
        conn.execute("SELECT no_such_column FROM sessions")

    monkeypatch.setattr(schema, "LATEST", len(schema.MIGRATIONS) + 1)
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, broken])
    with pytest.raises(CallcueError, match=str(path)):
        SessionStore(path)
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == 1  # every step rolled back together
    columns = {row[1] for row in raw.execute("PRAGMA table_info(sessions)")}
    assert "half_done" not in columns and "peak_frustration" not in columns
    assert raw.execute("SELECT count(*) FROM events").fetchone()[0] == 5
    raw.close()
