"""Sync from an agent's PC: at least once, idempotent, resumed after faults, never in the call's way.

Every fault test ends with the server holding exactly the PC's events: none lost, none doubled."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

from callcue import cli
from callcue.store import SessionMeta, SessionStore, team_sync
from tests.team.helpers import agent_pc, call_events, local_ids, same_events


def until(condition, what: str, timeout: float = 60.0) -> None:
    """Wait for something the code under test does on its own thread (not for time to pass)."""
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.05)


def server_count(team, sid: str) -> int:
    return team.query("SELECT count(*) FROM callcue.events WHERE session_id = %s", (sid,))[0][0]


def local_count(path, sid: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT count(*) FROM events WHERE session_id = ?", (sid,)).fetchone()[0]
    finally:
        conn.close()


def test_a_second_sync_sends_nothing_and_a_lost_bookkeeping_doubles_nothing(team, tmp_path):
    path = agent_pc(tmp_path, "alice", calls=2)
    first = team_sync.sync(path, team.dsn("alice"))
    assert (first.sessions, first.events) == (2, 36)
    again = team_sync.sync(path, team.dsn("alice"))
    assert (again.sessions, again.events) == (0, 0)
    # The PC died after the server's commit and before it noted it: everything is sent again.
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM team_sync")
    conn.commit()
    conn.close()
    local = team_sync.open_local(path)
    try:
        server = __import__("callcue.store.team", fromlist=["connect"]).connect(team.dsn("alice"))
        try:
            resent = team_sync.sync_once(local, server)  # not fresh: no reconcile, so the batches go twice
        finally:
            server.close()
    finally:
        local.close()
    assert resent.events == 36
    for sid in local_ids(path):
        assert same_events(team, path, sid)


def test_a_call_in_progress_reaches_the_server_while_it_runs_then_its_end(team, tmp_path):
    path = tmp_path / "pc" / "sessions.db"
    path.parent.mkdir()
    store = SessionStore(path)
    sid = store.begin(SessionMeta(kind="live", agent="alice"))
    worker = team_sync.SyncWorker(path, team.dsn("alice"), every_s=0.1, live=lambda: [sid]).start()
    try:
        events = call_events(30)
        for i in range(0, len(events), 10):
            store.append(sid, events[i:i + 10])
            store.flush()
            n = local_count(path, sid)
            until(lambda n=n: server_count(team, sid) == n, f"{n} events on the server")
        row = team.query("SELECT state, frustration, last_cue FROM callcue.sessions WHERE id = %s", (sid,))[0]
        assert row[0] == "open" and row[1] is not None and row[2] == "Acknowledge the wait"
        live = cli.main(["team", "live", "--dsn", team.dsn("sam")])
        assert live == 0
        store.finish(sid, {"duration_s": 60.0, "frustration_peak": 0.9})
        worker.wake()
        until(lambda: team.query("SELECT state FROM callcue.sessions WHERE id = %s", (sid,)) == [("finished",)],
              "the finished state on the server")
    finally:
        worker.stop()
        store.close()
    assert not worker.running
    assert same_events(team, path, sid)
    assert team.query("SELECT summary->>'frustration_peak' FROM callcue.sessions WHERE id = %s", (sid,)) == [("0.9",)]


def test_the_live_view_shows_the_team_calls_in_progress_and_a_quiet_pc_as_stale(team, tmp_path, capsys):
    path = agent_pc(tmp_path, "bob", calls=1, open_call=True)
    team_sync.sync(path, team.dsn("bob"))
    capsys.readouterr()
    assert cli.main(["team", "live", "--dsn", team.dsn("sam")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and "bob" in out[0] and "live" in out[0] and "Acknowledge the wait" in out[0]
    assert cli.main(["team", "live", "--dsn", team.dsn("sam"), "--stale-after", "-1"]) == 0
    assert "STALE" in capsys.readouterr().out
    assert cli.main(["team", "live", "--dsn", team.dsn("carol")]) == 0  # another team's agent: nothing
    assert capsys.readouterr().out.strip() == "no calls in progress"


def test_the_server_stopped_mid_call_and_started_again(team, pg, tmp_path):
    path = tmp_path / "pc" / "sessions.db"
    path.parent.mkdir()
    store = SessionStore(path)
    sid = store.begin(SessionMeta(kind="live", agent="alice"))
    worker = team_sync.SyncWorker(path, team.dsn("alice"), every_s=0.1, max_pause_s=0.5,
                                  live=lambda: [sid]).start()
    events = call_events(40)
    try:
        store.append(sid, events[:20])
        store.flush()
        until(lambda: server_count(team, sid) == local_count(path, sid), "the first part on the server")
        pg.stop()
        store.append(sid, events[20:40])
        store.flush()  # the PC records on with the server gone
        until(lambda: worker.last_error is not None, "the worker noticing")
        assert "Cannot reach the team server" in worker.last_error
        waiting = worker.status()
        assert waiting.sessions == 1 and waiting.events > 0 and "Cannot reach" in (waiting.last_error or "")
        pg.start()
        until(lambda: worker.last_error is None and worker.status().sessions == 0, "the worker catching up")
        store.finish(sid)
        worker.wake()
        until(lambda: worker.status().sessions == 0 and team.query(
            "SELECT state FROM callcue.sessions WHERE id = %s", (sid,)) == [("finished",)], "the end")
    finally:
        worker.stop()
        store.close()
    assert same_events(team, path, sid)


KILLED_SYNC = """
import sys
from callcue.store import team_sync
team_sync.sync(sys.argv[1], sys.argv[2], batch=int(sys.argv[3]))
"""


def test_the_sync_process_killed_9_during_a_sync(team, tmp_path):
    path = tmp_path / "pc" / "sessions.db"
    path.parent.mkdir()
    with SessionStore(path) as store:
        sid = store.begin(SessionMeta(kind="live", agent="alice"))
        store.append(sid, call_events(6000))
        store.finish(sid)
    total = local_count(path, sid)
    proc = subprocess.Popen([sys.executable, "-c", KILLED_SYNC, str(path), team.dsn("alice"), "100"],
                            env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        until(lambda: server_count(team, sid) > 0 or proc.poll() is not None, "the sync under way")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(30)
    partly = server_count(team, sid)
    assert 0 < partly < total, f"killed at {partly} of {total}: not during the sync"
    assert team_sync.sync(path, team.dsn("alice")).events == total - partly  # resumed, not restarted
    assert same_events(team, path, sid)
    assert team.query("SELECT state, last_seq FROM callcue.sessions WHERE id = %s", (sid,)) == [
        ("finished", total - 1)]


def test_a_refused_connection_then_a_good_one(team, tmp_path, capsys):
    path = agent_pc(tmp_path, "carol", calls=1)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]  # nothing listens there once this closes
    bad = f"host=127.0.0.1 port={closed} dbname={team.db} user=carol"
    assert cli.main(["team", "sync", "--dsn", bad, "--db", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Cannot reach the team server carol@127.0.0.1" in err
    assert cli.main(["team", "status", "--db", str(path)]) == 0
    status = capsys.readouterr().out
    assert "sessions waiting: 1" in status and "events waiting: 18" in status and "Cannot reach" in status
    assert cli.main(["team", "sync", "--dsn", team.dsn("carol"), "--db", str(path)]) == 0
    capsys.readouterr()
    assert cli.main(["team", "status", "--db", str(path)]) == 0
    assert "sessions waiting: 0" in capsys.readouterr().out
    assert same_events(team, path, local_ids(path)[0])


def test_a_server_that_stops_answering_mid_sync_is_cut_and_resumed(team, pg, tmp_path):
    path = tmp_path / "pc" / "sessions.db"
    path.parent.mkdir()
    store = SessionStore(path)
    sid = store.begin(SessionMeta(kind="live", agent="bob"))
    worker = team_sync.SyncWorker(path, team.dsn("bob"), every_s=0.1, max_pause_s=0.5, deadline_s=1.0,
                                  live=lambda: [sid]).start()
    events = call_events(40)
    try:
        store.append(sid, events[:20])
        store.flush()
        until(lambda: server_count(team, sid) == local_count(path, sid), "the first part on the server")
        pg.pause()  # its sockets stay open; nothing answers (a network that times out)
        try:
            store.append(sid, events[20:])
            store.flush()  # the local store is never held up by the server
            until(lambda: worker.last_error is not None, "the worker giving up on the round", timeout=120)
            assert "stopped answering" in worker.last_error or "Cannot reach" in worker.last_error
        finally:
            pg.resume()
        until(lambda: worker.status().sessions == 0, "the worker catching up", timeout=120)
    finally:
        worker.stop()
        store.close()
    assert same_events(team, path, sid)


def test_stopping_the_worker_never_waits_for_a_dead_server(team, pg, tmp_path):
    path = agent_pc(tmp_path, "alice", calls=1)
    pg.pause()
    try:
        worker = team_sync.SyncWorker(path, team.dsn("alice"), every_s=0.1).start()
        stopped = threading.Event()
        threading.Thread(target=lambda: (worker.stop(final_s=0.5), stopped.set()), daemon=True).start()
        assert stopped.wait(30), "stop() waited for the server"
    finally:
        pg.resume()


def test_a_server_with_a_full_disk_keeps_sessions_waiting(team, tmp_path, capsys):
    # The server itself reports the error a full disk gives (SQLSTATE 53100) on every event it is sent.
    team.query("CREATE FUNCTION callcue.full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION"
               " 'could not extend file: No space left on device' USING ERRCODE = '53100'; END $$")
    team.query("CREATE TRIGGER no_room BEFORE INSERT ON callcue.events FOR EACH ROW EXECUTE FUNCTION callcue.full()")
    path = agent_pc(tmp_path, "alice", calls=1)
    assert cli.main(["team", "sync", "--dsn", team.dsn("alice"), "--db", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has a full disk" in err and "Traceback" not in err
    assert team.query("SELECT count(*) FROM callcue.sessions") == [(0,)]  # the whole batch rolled back
    team.query("DROP TRIGGER no_room ON callcue.events")
    assert cli.main(["team", "sync", "--dsn", team.dsn("alice"), "--db", str(path)]) == 0
    assert same_events(team, path, local_ids(path)[0])
