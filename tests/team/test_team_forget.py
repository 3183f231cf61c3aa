"""Erasure and retention: `callcue team forget` erases on the server, then each PC erases its own copy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from callcue import cli
from callcue.store import SessionMeta, SessionStore, team_sync
from tests.team.helpers import agent_pc, call_events, local_ids


def test_forget_a_session_then_an_agent_everywhere_they_were_synced(team, tmp_path, capsys):
    alice = agent_pc(tmp_path, "alice", calls=2)
    bob = agent_pc(tmp_path, "bob", calls=2, open_call=True)
    for login, path in (("alice", alice), ("bob", bob)):
        team_sync.sync(path, team.dsn(login))
    first = local_ids(alice)[0]
    capsys.readouterr()
    assert cli.main(["team", "forget", "--session", first, "--dsn", team.admin]) == 0
    out = capsys.readouterr().out
    assert "deleted 1 session(s) and 18 event(s) on the server" in out
    assert team.query("SELECT count(*) FROM callcue.events WHERE session_id = %s", (first,)) == [(0,)]
    assert team.query("SELECT action, agent_login FROM callcue.audit WHERE session_id = %s", (first,)) == [
        ("forget", "alice")]
    report = team_sync.sync(alice, team.dsn("alice"))
    assert (report.forgotten, report.sessions) == (1, 0)  # erased here, and not sent again
    assert first not in local_ids(alice) and len(local_ids(alice)) == 1
    assert cli.main(["team", "forget", "--session", first, "--dsn", team.admin]) == 2
    assert "No session" in capsys.readouterr().err

    assert cli.main(["team", "forget", "--agent", "bob", "--dsn", team.admin]) == 0
    out = capsys.readouterr().out
    assert "deleted 2 session(s)" in out and "1 call(s) in progress were kept" in out
    report = team_sync.sync(bob, team.dsn("bob"))
    assert report.forgotten == 2 and len(local_ids(bob)) == 1  # the call in progress stays
    assert team.query("SELECT count(*) FROM callcue.sessions WHERE login = 'bob'") == [(1,)]


def test_an_agent_cannot_forget(team, tmp_path, capsys):
    path = agent_pc(tmp_path, "alice", calls=1)
    team_sync.sync(path, team.dsn("alice"))
    assert cli.main(["team", "forget", "--agent", "alice", "--dsn", team.dsn("alice")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "refused this login" in err
    assert team.query("SELECT count(*) FROM callcue.sessions") == [(1,)]


def test_retention_days_on_the_server_and_on_the_pc(team, tmp_path, capsys, monkeypatch):
    path = tmp_path / "pc" / "sessions.db"
    path.parent.mkdir()
    with SessionStore(path) as store:
        for days_ago in (40, 1):
            sid = store.begin(SessionMeta(kind="live", agent="carol",
                                          started_at=datetime.now(UTC) - timedelta(days=days_ago)))
            store.append(sid, call_events(4))
            store.finish(sid)
    old, recent = local_ids(path)
    team_sync.sync(path, team.dsn("carol"))
    assert cli.main(["team", "forget", "--older-than", "30", "--dsn", team.admin]) == 0
    assert "deleted 1 session(s)" in capsys.readouterr().out
    assert [r[0] for r in team.query("SELECT id FROM callcue.sessions")] == [recent]
    monkeypatch.setenv("CALLCUE_RETENTION_DAYS", "30")
    assert cli.main(["team", "sync", "--dsn", team.dsn("carol"), "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert "0 session(s)" in out and "1 past the retention days" in out
    assert local_ids(path) == [recent]
