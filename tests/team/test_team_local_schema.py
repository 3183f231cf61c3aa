"""The local store's version 3 adds the team bookkeeping; an older file is upgraded and syncs like a new one."""

from __future__ import annotations

import sqlite3

import pytest

from callcue import cli
from callcue.errors import CallcueError
from callcue.store import SessionStore, schema, team_sync
from tests.store.test_migrations import make_v1
from tests.team.helpers import same_events


def test_a_version_1_store_is_upgraded_and_its_calls_are_sent(team, tmp_path, capsys):
    path = tmp_path / "old.db"
    make_v1(path)
    assert cli.main(["team", "status", "--db", str(path)]) == 0  # opening it upgrades it
    assert "sessions waiting: 2" in capsys.readouterr().out
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == schema.LATEST >= 3
    raw.close()
    assert cli.main(["team", "sync", "--dsn", team.dsn("alice"), "--db", str(path)]) == 0
    for sid in ("aaaa00000001", "bbbb00000002"):
        assert same_events(team, path, sid)


def test_the_bookkeeping_needs_the_upgrade_first(tmp_path, monkeypatch):
    path = tmp_path / "v2.db"
    monkeypatch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:2])
    monkeypatch.setattr(schema, "LATEST", 2)
    SessionStore(path).close()
    with pytest.raises(CallcueError, match="no team bookkeeping"):
        team_sync.open_local(path)
