"""`callcue review --list` reads the team store when one is configured, under the database's rules."""

from __future__ import annotations

from callcue import cli
from callcue.store import team_review, team_sync
from tests.team.helpers import agent_pc, local_ids


def listed(capsys, monkeypatch, dsn: str, *extra: str) -> list[str]:
    monkeypatch.setenv("CALLCUE_TEAM_DSN", dsn)
    capsys.readouterr()
    assert cli.main(["review", "--list", *extra]) == 0
    return [line.split()[0] for line in capsys.readouterr().out.splitlines()]


def test_review_list_is_the_team_store_seen_through_each_login(team, tmp_path, capsys, monkeypatch):
    ids = {}
    for agent in ("alice", "bob", "carol"):
        path = agent_pc(tmp_path, agent, calls=2)
        team_sync.sync(path, team.dsn(agent))
        ids[agent] = set(local_ids(path))
    assert set(listed(capsys, monkeypatch, team.dsn("sam"))) == ids["alice"] | ids["bob"]
    assert set(listed(capsys, monkeypatch, team.dsn("sam"), "--agent", "bob")) == ids["bob"]
    assert set(listed(capsys, monkeypatch, team.dsn("carol"))) == ids["carol"]
    assert set(listed(capsys, monkeypatch, team.dsn("quinn"), "--min-peak", "0.4")) == set().union(*ids.values())
    assert listed(capsys, monkeypatch, team.dsn("quinn"), "--min-peak", "0.95") == []
    assert listed(capsys, monkeypatch, team.dsn("alice"), "--since", "2000-01-01", "--until", "2000-01-02") == []
    # Opening one call is audited, and gives its events.
    call = sorted(ids["bob"])[0]
    session = team_review.load(team.dsn("sam"), call)
    assert len(session.events) == 18 and session.transcript()
    assert team.query("SELECT actor, action FROM callcue.audit WHERE session_id = %s", (call,)) == [("sam", "view")]
