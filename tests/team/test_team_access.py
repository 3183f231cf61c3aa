"""Three agent PCs, one server: every call arrives, and the database (row-level security) keeps who sees what."""

from __future__ import annotations

import psycopg
import pytest

from callcue import cli
from tests.team.helpers import agent_pc, local_ids, same_events


@pytest.fixture
def floor(team, tmp_path):
    """alice and bob (team red) and carol (team blue), each on their own PC, synced by `callcue team sync`."""
    pcs = {}
    for agent in ("alice", "bob", "carol"):
        path = agent_pc(tmp_path, agent, calls=2, open_call=agent == "bob")
        assert cli.main(["team", "sync", "--dsn", team.dsn(agent), "--db", str(path)]) == 0
        pcs[agent] = (path, local_ids(path))
    return pcs


def test_setup_says_what_it_did_and_a_second_run_changes_nothing(pg, team_db, capsys):
    dsn = pg.dsn(dbname=team_db)
    assert cli.main(["team", "setup", "--dsn", dsn]) == 0
    out = capsys.readouterr().out
    assert "created schema callcue" in out and "row-level security" in out
    assert cli.main(["team", "setup", "--dsn", dsn]) == 0
    again = capsys.readouterr().out
    assert "already at version 1: nothing to change" in again and "created schema" not in again


def test_each_agents_calls_arrive_exactly_and_demos_stay_home(team, floor):
    for agent, (path, ids) in floor.items():
        assert len(ids) == (3 if agent == "bob" else 2)
        for sid in ids:
            assert same_events(team, path, sid), (agent, sid)
        rows = team.query("SELECT id, login, agent, team, state FROM callcue.sessions WHERE login = %s ORDER BY id",
                          (agent,))
        assert sorted(r[0] for r in rows) == sorted(ids)
        assert {r[3] for r in rows} == {"blue" if agent == "carol" else "red"}
    assert team.query("SELECT count(*) FROM callcue.sessions WHERE kind = 'demo'") == [(0,)]
    states = dict(team.query("SELECT id, state FROM callcue.sessions"))
    assert states[floor["bob"][1][-1]] == "open" and states[floor["alice"][1][0]] == "finished"


def _every_table(team) -> list[str]:
    return [r[0] for r in team.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'callcue' ORDER BY 1")]


def test_an_agents_login_reads_no_one_elses_rows_by_any_sql(team, floor):
    tables = _every_table(team)
    assert {"sessions", "events", "members", "audit", "schema_version"} <= set(tables)
    team.query("ANALYZE")  # statistics are filled: pg_stats must not leak values either
    others = [sid for agent in ("bob", "carol") for sid in floor[agent][1]]
    with psycopg.connect(team.dsn("alice"), autocommit=True) as conn:
        for table in tables:
            text = repr(conn.execute(f"SELECT * FROM callcue.{table}").fetchall())
            assert not any(sid in text for sid in others), table
            assert "'bob'" not in text and "'carol'" not in text and "bob call" not in text, table
        mine = conn.execute("SELECT count(*) FROM callcue.events").fetchone()[0]
        assert mine == sum(len(team.server_events(s)) for s in floor["alice"][1])
        stats = conn.execute("SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = 'callcue'").fetchall()
        assert stats == [("schema_version",)]  # the one table without rows of people in it
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM callcue.read_events(%s)", (floor["bob"][1][0],))
        # Writing into someone else's session: refused, or touches nothing.
        assert conn.execute("UPDATE callcue.sessions SET agent = 'x' WHERE id = %s", (others[0],)).rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO callcue.events (session_id, seq, type, t, data) VALUES (%s, 999, 'cue', 0,"
                         " '{}')", (others[0],))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM callcue.audit")
        # An agent cannot move a session to another team (the team is the server's, not the PC's).
        conn.execute("UPDATE callcue.sessions SET team = 'blue', login = 'carol' WHERE id = %s",
                     (floor["alice"][1][0],))
    assert team.query("SELECT login, team FROM callcue.sessions WHERE id = %s", (floor["alice"][1][0],)) == [
        ("alice", "red")]


def test_a_supervisor_sees_exactly_their_team_and_every_view_and_export_is_audited(team, floor):
    red = set(floor["alice"][1]) | set(floor["bob"][1])
    with psycopg.connect(team.dsn("sam"), autocommit=True) as conn:
        seen = {r[0] for r in conn.execute("SELECT id FROM callcue.sessions")}
        assert seen == red
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # others' events: only audited reads
            conn.execute("SELECT count(*) FROM callcue.events")
        alice_call = floor["alice"][1][0]
        viewed = conn.execute("SELECT seq FROM callcue.read_events(%s, 'view')", (alice_call,)).fetchall()
        assert len(viewed) == len(team.server_events(alice_call))
        conn.execute("SELECT * FROM callcue.read_events(%s, 'export')", (floor["bob"][1][1],)).fetchall()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM callcue.read_events(%s)", (floor["carol"][1][0],))
        audit = conn.execute("SELECT actor, action, session_id, agent_login FROM callcue.audit ORDER BY id").fetchall()
        assert audit == [("sam", "view", alice_call, "alice"), ("sam", "export", floor["bob"][1][1], "bob")]
        members = {r[0] for r in conn.execute("SELECT login FROM callcue.members")}
        assert members == {"alice", "bob", "sam"}
        for sql in ("UPDATE callcue.audit SET action = 'x'", "DELETE FROM callcue.audit",
                    "INSERT INTO callcue.audit (actor, action) VALUES ('sam', 'view')"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
    # The agent sees who opened her call; QA sees every session.
    assert team.query("SELECT actor, action FROM callcue.audit", login="alice") == [("sam", "view")]
    everyone = {sid for _path, ids in floor.values() for sid in ids}
    assert {r[0] for r in team.query("SELECT id FROM callcue.sessions", login="quinn")} == everyone
