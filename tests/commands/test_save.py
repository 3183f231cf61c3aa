"""`callcue analyze FILE|DIR --save`: sessions saved while analysing, and the bad days of the store."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

from callcue import cli
from callcue.store import SCHEMA_VERSION, SessionStore
from callcue.store.sessions import default_path
from tests.conftest import CALLS, USES_CALLS

pytestmark = USES_CALLS


def run(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "callcue", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def one_clean_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and lines[0].startswith("callcue: ")
    return lines[0]


def test_folder_import_with_progress(tmp_path):
    folder = tmp_path / "calls"
    (folder / "week2").mkdir(parents=True)
    for name, where in (("billing-dispute", folder), ("refund-negotiation", folder / "week2")):
        for suffix in (".wav", ".vtt"):
            (where / f"{name}{suffix}").symlink_to(CALLS / f"{name}{suffix}")
    (folder / "notes.txt").write_text("not a call")
    r = run("analyze", folder, "--save", "--agent-name", "kim", "--profile", "strict")
    assert r.returncode == 0, r.stderr
    assert "[1/2] billing-dispute.wav: saved session" in r.stderr
    assert "[2/2] week2/refund-negotiation.wav: saved session" in r.stderr
    assert "2 of 2 recordings saved" in r.stderr and "Traceback" not in r.stderr
    ids = [line.split()[0] for line in r.stdout.splitlines()]
    assert len(ids) == 2
    with SessionStore() as store:
        sessions = {s.id: s for s in store.list()}
        assert set(sessions) == set(ids)
        billing = store.load(ids[0])
    assert all(s.agent == "kim" and s.profile == "strict" and s.kind == "analyze" and s.state == "finished"
               for s in sessions.values())
    assert billing.flags == ["escalation"] and billing.summary["frustration_timeline"]["episodes"]
    assert billing.source.endswith("billing-dispute.wav")
    assert any("[account]" in u.text for u in billing.transcript())
    assert billing.events[0].type == "call" and billing.events[-1].type == "summary"


def test_file_save_prints_what_analyze_prints(tmp_path):
    call = ("analyze", CALLS / "password-reset.wav", "--transcript", CALLS / "password-reset.vtt", "--json")
    plain, saved = run(*call), run(*call, "--save")
    assert plain.returncode == saved.returncode == 0, saved.stderr
    assert saved.stdout == plain.stdout  # byte for byte
    assert plain.stderr == ""
    assert "saved session" in saved.stderr
    (session,) = SessionStore(default_path()).list()
    assert session.summary == {k: v for k, v in json.loads(plain.stdout.splitlines()[-1]).items() if k != "type"}


def test_folder_without_recordings_and_a_bad_one(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    r = run("analyze", empty, "--save")
    assert r.returncode == 2 and "No recordings" in one_clean_line(r.stderr)
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "broken.wav").write_bytes(b"RIFF not really a wave file")
    (mixed / "ok.wav").symlink_to(CALLS / "password-reset.wav")
    r = run("analyze", mixed, "--save")
    assert r.returncode == 2, r.stderr
    assert "skipped broken.wav:" in r.stderr and "1 of 2 recordings saved" in r.stderr
    assert "Traceback" not in r.stderr
    assert len(SessionStore(default_path()).list()) == 1  # the bad file left no empty session


def _main(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# A command line whose sessions database is capped (SQLite's max_page_count): writes past the cap
# fail with SQLITE_FULL, exactly as on a full disk.
CAPPED = """
import sys
from callcue import cli, sessions_io
from callcue.store import SessionStore
sessions_io.SessionStore = lambda path=None, **kw: SessionStore(sys.argv[1], max_bytes=64 * 1024, **kw)
raise SystemExit(cli.main(sys.argv[2:]))
"""


def test_full_disk_during_the_call(tmp_path):
    db = tmp_path / "small.db"
    r = subprocess.run([sys.executable, "-c", CAPPED, str(db), "analyze", str(CALLS / "billing-dispute.wav"),
                        "--transcript", str(CALLS / "billing-dispute.vtt"), "--save"],
                       capture_output=True, text=True, timeout=120)
    plain = run("analyze", CALLS / "billing-dispute.wav", "--transcript", CALLS / "billing-dispute.vtt")
    assert r.returncode == 2 and r.stdout == plain.stdout != ""  # the analysis is printed all the same
    line = one_clean_line(r.stderr)
    assert "is full" in line and str(db) in line and "Everything saved before this is kept" in line
    # The next start (room again) recovers what was saved.
    r = run("review", "--list", "--db", db)
    assert r.returncode == 0 and "recovered the unfinished session" in r.stderr and "recovered" in r.stdout
    with SessionStore(db) as store:
        (session,) = store.list()
        assert session.state == "recovered" and len(store.load(session.id).events) > 10


def test_locked_database(tmp_path, capsys, monkeypatch):
    db = tmp_path / "locked.db"
    SessionStore(db).close()
    monkeypatch.setattr("callcue.sessions_io.SessionStore", lambda path=None, **kw: SessionStore(db, timeout=0.2))
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        code, out, err = _main(capsys, "analyze", CALLS / "password-reset.wav", "--save")
        assert code == 2 and "locked by another program" in one_clean_line(err)
        # Reading is not blocked (WAL): the review window works while a call is being saved.
        code, out, err = _main(capsys, "review", "--list")
        assert code == 0 and "locked by" not in err and "password-reset" not in out
    finally:
        other.execute("ROLLBACK")
        other.close()


@pytest.fixture
def saved_db(tmp_path):
    r = run("analyze", CALLS / "password-reset.wav", "--transcript", CALLS / "password-reset.vtt", "--save")
    assert r.returncode == 0, r.stderr
    return default_path()


def test_newer_database_is_read_only(saved_db, tmp_path):
    raw = sqlite3.connect(saved_db)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.commit()
    raw.close()
    r = run("analyze", CALLS / "password-reset.wav", "--save")
    assert r.returncode == 2 and "newer Callcue" in one_clean_line(r.stderr)
    listing = run("review", "--list")  # reading still works
    assert listing.returncode == 0 and len(listing.stdout.splitlines()) == 2  # the header and the call
    report = run("report", "last", "--format", "json", "-o", "-")
    assert report.returncode == 0 and json.loads(report.stdout)["events"][-1]["type"] == "summary"


def test_corrupt_database_is_backed_up_and_reported(saved_db):
    garbage = b"crumpled note, not a database " * 300
    saved_db.write_bytes(garbage)
    for args in (("report", "last"), ("analyze", CALLS / "password-reset.wav", "--save")):
        r = run(*args)
        line = one_clean_line(r.stderr) if args[0] == "report" else r.stderr
        assert r.returncode == (2 if args[0] == "report" else 0), r.stderr
        if args[0] == "report":
            assert "damaged" in line and "corrupt-" in line and "nothing was deleted" in line
    backups = [p for p in saved_db.parent.glob("sessions.db.corrupt-*") if not p.name.endswith(("-wal", "-shm"))]
    assert len(backups) == 1 and backups[0].read_bytes() == garbage  # kept, untouched


def test_headless_demo_is_saved():
    r = run("demo", "--headless", "--speed", "0", "--no-model", "--save")  # kept only when asked
    assert r.returncode == 0, r.stderr
    listing = run("review", "--list", "--flag", "escalation")
    header, row = listing.stdout.splitlines()
    assert " finished " in row and row.endswith("demo")
    with SessionStore() as store:
        session = store.load(row.split()[0])
    assert session.kind == "demo" and session.summary["cues"] and session.events[-1].type == "summary"


def test_live_recorder_keeps_the_call_going_on_a_full_disk(tmp_path):
    from callcue.engine import events as ev
    from callcue.sessions_io import Recorder
    from tests.report.sessions import analysed

    store = SessionStore(tmp_path / "s.db", max_bytes=40 * 1024)
    problems, shown = [], []
    rec = Recorder(store, {"kind": "live", "agent": "kim"}, on_error=problems.append)
    on_events = rec.tee(shown.extend)
    made = list(analysed("billing-dispute"))
    for i in range(0, len(made), 3):  # batches, as engine.feed returns them
        on_events(made[i:i + 3])
        rec.advance(max(getattr(e, "end", getattr(e, "at", 0.0)) for e in made[i:i + 3]
                        if not isinstance(e, ev.CallStart)) if i else 0.0)
    assert shown == made  # the overlay saw every event although saving failed
    assert problems and all("is full" in str(p) for p in problems)
    store.set_size_limit(None)  # room again: nothing was lost
    sid = rec.end()
    saved = store.load(sid)
    assert saved.state == "finished" and len(saved.events) == len(made)
    assert saved.summary["frustration_peak"] == 0.914
    store.close()


FSIZE = """
import resource, signal, sys
from callcue import cli
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG, as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (0, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
raise SystemExit(cli.main(sys.argv[1:]))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_failed_save_still_prints_the_analysis_and_leaves_no_empty_file():
    """No file may grow (RLIMIT_FSIZE 0 in the child): the sessions database cannot even be created."""
    call = ("analyze", CALLS / "password-reset.wav", "--transcript", CALLS / "password-reset.vtt")
    plain = run(*call)
    r = subprocess.run([sys.executable, "-c", FSIZE, *map(str, call), "--save"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2 and r.stdout == plain.stdout != ""
    line = one_clean_line(r.stderr)
    assert "not saved" in line and str(default_path()) in line
    assert not default_path().exists()  # no 0-byte sessions.db left behind
    assert not list(default_path().parent.glob("sessions.db*"))
