"""Bad input gets one clear line (what, where, what to do) and exit 2; the PC's store is left as it was."""

from __future__ import annotations

import pytest

from callcue import cli
from callcue.store import team as team_store
from tests.team.helpers import agent_pc, local_ids, same_events


def one_line(capsys, argv: list[str]) -> str:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("callcue: ") and "Traceback" not in err, err
    return err


def test_wrong_dsn_refused_password_and_password_in_the_dsn(team, tmp_path, capsys):
    path = str(agent_pc(tmp_path, "alice", calls=1))
    err = one_line(capsys, ["team", "sync", "--dsn", "host=x nonsense=1", "--db", path])
    assert "not a valid libpq connection string" in err and "team_dsn" in err
    err = one_line(capsys, ["team", "sync", "--dsn", team.dsn("alice") + " password=secret", "--db", path])
    assert "holds a password" in err and "pgpass" in err
    team.pg.passwords["alice"] = "wrong"
    team.pg.write_pgpass()
    err = one_line(capsys, ["team", "sync", "--dsn", team.dsn("alice"), "--db", path])
    assert "refused the password" in err and "alice@" in err and "pgpass" in err
    err = one_line(capsys, ["team", "sync", "--dsn", team.pg.dsn(user="nobody_here", dbname=team.db), "--db", path])
    assert "none was found" in err
    err = one_line(capsys, ["team", "sync", "--dsn", team.pg.dsn(dbname="no_such_db"), "--db", path])
    assert "no_such_db" in err and "does not exist" in err
    err = one_line(capsys, ["team", "sync", "--db", path])  # nothing configured
    assert "No team server is configured" in err and "team_dsn" in err


def test_the_dsn_comes_from_settings_and_the_environment(team, tmp_path, capsys, monkeypatch):
    path = agent_pc(tmp_path, "bob", calls=1)
    monkeypatch.setenv("CALLCUE_TEAM_DSN", team.dsn("bob"))
    assert cli.main(["team", "sync", "--db", str(path)]) == 0
    assert "sent 1 session(s)" in capsys.readouterr().out
    assert same_events(team, path, local_ids(path)[0])


def test_a_newer_compatible_server_takes_an_older_client(team, tmp_path):
    team.query("UPDATE callcue.schema_version SET version = %s, compatible_from = 1", (team_store.LATEST + 1,))
    team.query("ALTER TABLE callcue.sessions ADD COLUMN later_thing text DEFAULT 'x'")  # what a v2 might add
    path = agent_pc(tmp_path, "alice", calls=1)
    assert cli.main(["team", "sync", "--dsn", team.dsn("alice"), "--db", str(path)]) == 0
    assert same_events(team, path, local_ids(path)[0])
    assert team.query("SELECT version FROM callcue.schema_version") == [(team_store.LATEST + 1,)]  # untouched


def test_a_newer_incompatible_server_is_refused_and_left_alone(team, tmp_path, capsys):
    newer = team_store.LATEST + 1
    team.query("UPDATE callcue.schema_version SET version = %s, compatible_from = %s", (newer, newer))
    path = str(agent_pc(tmp_path, "alice", calls=1))
    err = one_line(capsys, ["team", "sync", "--dsn", team.dsn("alice"), "--db", path])
    assert f"schema version {newer}" in err and "Update Callcue on this PC" in err
    assert team.query("SELECT count(*) FROM callcue.sessions") == [(0,)]
    err = one_line(capsys, ["team", "setup", "--dsn", team.admin])
    assert "newer than this Callcue" in err
    assert team.query("SELECT version FROM callcue.schema_version") == [(newer,)]


def test_a_newer_client_refuses_an_older_schema_and_says_what_to_run(team, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(team_store, "LATEST", team_store.LATEST + 1)
    path = str(agent_pc(tmp_path, "alice", calls=1))
    err = one_line(capsys, ["team", "sync", "--dsn", team.dsn("alice"), "--db", path])
    assert "IT runs `callcue team setup`" in err and f"needs {team_store.LATEST}" in err


def test_no_schema_and_no_role_say_what_it_should_run(pg, team_db, tmp_path, capsys):
    path = str(agent_pc(tmp_path, "alice", calls=1))
    err = one_line(capsys, ["team", "sync", "--dsn", pg.dsn(dbname=team_db), "--db", path])
    assert "no Callcue schema" in err and "callcue team setup" in err


@pytest.mark.parametrize("argv, words", [
    (["grant", "kim", "--role", "supervisor"], "needs a team"),
    (["grant", "callcue_agent", "--role", "agent"], "cannot be used"),
])
def test_grant_checks_its_input(team, capsys, argv, words):
    err = one_line(capsys, ["team", *argv, "--dsn", team.admin])
    assert words in err
