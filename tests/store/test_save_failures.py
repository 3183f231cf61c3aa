"""Nothing lost when a save fails: a disk full when a call starts, the bound on what waits in memory,
a damaged database never written to, a read-only folder still read.

The full disk is real: a small tmpfs filled to the last page (as root, where mounting is allowed), or
else RLIMIT_FSIZE lowered in a child process (SQLite's writes then fail with EFBIG, a write error of
the file system like ENOSPC). Both run the same scenario in a child process."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from callcue.engine import events as ev
from callcue.errors import CallcueError
from callcue.store import SessionStore

ROOT = Path(__file__).resolve().parents[2]

SCENARIO = r"""
import json, os, resource, signal, sys
from pathlib import Path
from callcue.sessions_io import Recorder
from callcue.store import SessionStore
from tests.report.sessions import analysed

mode, db, max_waiting = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
made = list(analysed("billing-dispute"))  # read before the disk fills
store = SessionStore(db)
filler = db.parent / "filler"
hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]

def full():
    if mode == "tmpfs":
        fd = os.open(filler, os.O_CREAT | os.O_WRONLY, 0o600)
        for size in (1 << 16, 4096, 512):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
        os.close(fd)
    else:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, hard))

def room():
    if mode == "tmpfs":
        os.remove(filler)
    else:
        resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))

problems = []
full()
rec = Recorder(store, {"kind": "live", "agent": "kim"}, on_error=problems.append, max_waiting=max_waiting)
batches = [made[i:i + 3] for i in range(0, len(made), 3)]
roomy_at = len(batches) * 2 // 3
for i, batch in enumerate(batches):
    if i == roomy_at:
        room()
    rec.write(batch)
    times = [getattr(e, "end", getattr(e, "at", 0.0)) for e in batch if not hasattr(e, "channels")]
    rec.advance(max(times) if times else 0.0)
    if i == roomy_at - 1:
        began_while_full = rec.session_id
sid = rec.end()
print(json.dumps({"sid": sid, "made": len(made), "problems": [str(p) for p in problems],
                  "began_while_full": began_while_full, "dropped": rec.dropped}))
"""


def _tmpfs(folder: Path) -> bool:
    if os.geteuid() != 0 or sys.platform != "linux":
        return False
    folder.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(folder)],
                       capture_output=True)
    return r.returncode == 0


def _umount(folder: Path) -> None:
    subprocess.run(["umount", "-l", str(folder)], capture_output=True)


@pytest.fixture(params=["tmpfs", "fsize"])
def disk(request, tmp_path):
    """A folder whose disk can be filled: (mode, folder)."""
    folder = tmp_path / "disk"
    if request.param == "tmpfs":
        if not _tmpfs(folder):
            pytest.skip("a tmpfs can be mounted only as root on Linux; the fsize run covers this")
        yield "tmpfs", folder
        _umount(folder)
    else:
        if sys.platform == "win32":
            pytest.skip("RLIMIT_FSIZE is POSIX")
        folder.mkdir()
        yield "fsize", folder


def _run_scenario(mode: str, db: Path, max_waiting: int = 50_000) -> dict:
    r = subprocess.run([sys.executable, "-c", SCENARIO, mode, str(db), str(max_waiting)], capture_output=True,
                       text=True, timeout=300, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.splitlines()[-1])


def _earlier_call(db: Path) -> None:
    with SessionStore(db) as store:
        sid = store.begin({"kind": "demo"})
        store.append(sid, [ev.Utterance("agent", 0.0, 1.0, "an earlier call")])
        store.finish(sid)


def test_disk_full_when_the_call_starts_loses_nothing(disk):
    mode, folder = disk
    db = folder / "sessions.db"
    _earlier_call(db)
    out = _run_scenario(mode, db)
    assert out["began_while_full"] is None  # the session could not even be begun ...
    assert out["problems"] and out["dropped"] == 0
    if mode == "tmpfs":
        assert all("is full" in p and "stay in memory" in p for p in out["problems"])
    with SessionStore(db) as store:  # ... and yet every event since the call began is saved
        saved = store.load(out["sid"])
        assert saved.state == "finished" and len(saved.events) == out["made"]
        assert saved.events[0].type == "call" and saved.events[-1].type == "summary"
        assert [e.to_dict() for e in saved.events] == [e.to_dict() for e in store.load(out["sid"]).events]
        assert len(store.list()) == 2


def test_what_waits_in_memory_is_bounded_with_one_line(disk):
    mode, folder = disk
    db = folder / "sessions.db"
    _earlier_call(db)
    out = _run_scenario(mode, db, max_waiting=20)
    bound = [p for p in out["problems"] if "waiting in memory" in p]
    assert len(bound) == 1 and "20 events" in bound[0] and "Free some disk space" in bound[0]
    assert out["dropped"] > 0
    with SessionStore(db) as store:
        saved = store.load(out["sid"])
        # The first 20 were kept (the call's start among them), the summary always; the rest dropped.
        assert saved.events[0].type == "call" and saved.events[-1].type == "summary"
        assert len(saved.events) == out["made"] - out["dropped"]


def _damaged(db: Path) -> bytes:
    with SessionStore(db) as store:
        for _ in range(20):
            sid = store.begin({"kind": "demo"})
            store.append(sid, [ev.Utterance("customer", i, i + 1.0, "words " * 40) for i in range(50)])
        store.flush()
    data = bytearray(db.read_bytes())
    data[4096 * 2: 4096 * 40] = bytes(range(256)) * (4096 * 38 // 256)  # header intact, pages not
    db.write_bytes(bytes(data))
    return bytes(data)


def test_a_damaged_database_is_never_written_to(tmp_path):
    from callcue.sessions_io import Recorder

    db = tmp_path / "sessions.db"
    data = _damaged(db)
    store = SessionStore(db)
    with pytest.raises(CallcueError, match="left as it is") as err:
        for session in store.list():
            store.load(session.id)
    assert "nothing more is written into it" in str(err.value)
    for attempt in (lambda: store.begin({"kind": "live"}), store.recover, lambda: store.flush()):
        try:
            attempt()
        except CallcueError as refused:
            assert "damaged" in str(refused) and "nothing is written" in str(refused)
    problems: list = []
    rec = Recorder(store, {"kind": "live"}, on_error=problems.append)
    rec.write(ev.Utterance("agent", 0.0, 1.0, "hello"))
    rec.advance(5.0)
    assert problems and all("damaged" in str(p) for p in problems)
    store.close()
    assert hashlib.sha256(db.read_bytes()).digest() == hashlib.sha256(data).digest()
    assert not (tmp_path / "sessions.db-wal").exists() or (tmp_path / "sessions.db-wal").stat().st_size == 0


def _read_only(folder: Path) -> str:
    """Make `folder` read-only as a user would meet it: a read-only mount as root, else its mode."""
    if os.geteuid() == 0:
        if sys.platform != "linux":
            pytest.skip("root ignores file modes")
        r = subprocess.run(["mount", "--bind", "-o", "ro", str(folder), str(folder)], capture_output=True)
        if r.returncode != 0:
            pytest.skip(f"cannot bind-mount read-only here: {r.stderr.decode().strip()}")
        subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], capture_output=True)
        return "mount"
    folder.chmod(0o500)
    return "mode"


def test_a_read_only_folder_is_read(tmp_path):
    from tests.commands.test_save import run

    data = tmp_path / "data"  # the user data dir of this test (tests/store/conftest.py)
    r = run("analyze", _call("password-reset.wav"), "--transcript", _call("password-reset.vtt"), "--save")
    assert r.returncode == 0, r.stderr
    how = _read_only(data)
    try:
        assert not os.access(data, os.W_OK)
        listing = run("review", "--list")
        assert listing.returncode == 0, listing.stderr
        rows = listing.stdout.splitlines()[1:]  # below the header
        assert len(rows) == 1 and "Traceback" not in listing.stderr
        report = run("report", "last", "--format", "json", "-o", "-")
        assert report.returncode == 0, report.stderr
        assert json.loads(report.stdout)["events"][-1]["type"] == "summary"
        saving = run("analyze", _call("password-reset.wav"), "--transcript", _call("password-reset.vtt"), "--save")
        assert saving.returncode == 2 and "Traceback" not in saving.stderr
        assert "read-only" in saving.stderr and saving.stdout  # the analysis is still printed
    finally:
        if how == "mount":
            subprocess.run(["umount", str(data)], capture_output=True)
        else:
            data.chmod(0o700)


def _call(name: str) -> Path:
    from tests.conftest import calls

    return calls() / name  # made on first use in this run

