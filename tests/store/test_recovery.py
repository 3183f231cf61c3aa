"""Crash recovery: a process writing a call is killed with SIGKILL; the next start finds the
session marked recovered with its events up to the last second or two."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from callcue.engine import events as ev
from callcue.store import SessionStore

# The child records a call: an event every 0.25 s of audio for 10 s. It prints each commit,
# then says "ready" with the audio time it reached and waits on stdin, mid-call, to be killed.
CHILD = r"""
import sys
from callcue.engine.events import Frustration, Speech, Utterance
from callcue.store import SessionMeta, SessionStore, SessionWriter

store = SessionStore(sys.argv[1])
sid = store.begin(SessionMeta(kind="live", agent="kim", profile="acme"))
writer = SessionWriter(store, sid, on_commit=lambda t: print(f"commit {t}", flush=True))
t = 0.0
for i in range(41):
    t = i * 0.25
    writer(Speech("customer", t, t + 0.2))
    if i % 8 == 0:
        writer(Frustration(t, round(0.1 + i / 100, 3), "rising"))
    if i % 10 == 5:
        writer(Utterance("customer", t - 1.0, t, "my card is 4111 1111 1111 1111"))
print(f"ready {sid} {t} {writer.saved_until} {store.pending(sid)}", flush=True)
sys.stdin.readline()
"""


def _start(db):
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _kill(proc):
    if hasattr(signal, "SIGKILL"):
        os.kill(proc.pid, signal.SIGKILL)
    else:
        proc.kill()
    proc.wait(timeout=30)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        stream.close()


def test_killed_writer_is_recovered(tmp_path):
    db = tmp_path / "sessions.db"
    proc = _start(db)
    commits = []
    try:
        for line in proc.stdout:
            word, *rest = line.split()
            if word == "commit":
                commits.append(float(rest[0]))
            elif word == "ready":
                sid, reached, saved_until, pending = rest[0], float(rest[1]), float(rest[2]), int(rest[3])
                break
        else:
            raise AssertionError(f"child ended early: {proc.stderr.read()}")
        # While the child lives, its session is not taken from it.
        with SessionStore(db) as early:
            assert early.recover() == []
            assert early.list(ids=[sid])[0].state == "open"
    finally:
        _kill(proc)
    assert proc.returncode == -signal.SIGKILL or sys.platform == "win32"
    assert reached == 10.0 and commits and commits[-1] == saved_until
    assert pending > 0  # the kill really lost something: the last, unsaved events

    store = SessionStore(db)
    recovered = store.recover()
    assert [s.id for s in recovered] == [sid]
    assert recovered[0].state == "recovered"
    session = store.load(sid)
    assert session.state == "recovered" and session.agent == "kim" and session.profile == "acme"
    clock = max(getattr(e, "end", getattr(e, "at", 0.0)) for e in session.events)
    assert reached - clock <= 2.0, f"lost {reached - clock:.2f} s of the call"
    assert session.duration_s == clock
    assert session.peak_frustration == max(e.level for e in session.events if isinstance(e, ev.Frustration))
    # Saved events are a clean prefix of what the child wrote: nothing half-written.
    speech = [e.start for e in session.events if isinstance(e, ev.Speech)]
    assert speech == [i * 0.25 for i in range(len(speech))]
    assert all(e.text == "my card is [card]" for e in session.transcript())
    assert store.recover() == []  # done once
    # The recovered session can take its summary later (the engine rebuilds it from the events).
    store.set_summary(sid, ev.Summary(None, 0, 0.0, 0.3, [], {}, notes=["recovered after a crash"]))
    assert store.load(sid).summary["notes"] == ["recovered after a crash"]
    assert store.load(sid).state == "recovered"
    store.close()


def test_own_open_session_is_not_recovered(tmp_path):
    store = SessionStore(tmp_path / "sessions.db")
    sid = store.begin({"kind": "live"})
    store.append(sid, [ev.Speech("agent", 0.0, 1.0)])
    store.flush()
    assert store.recover() == []
    other = SessionStore(tmp_path / "sessions.db")  # a second window in this same process
    assert other.recover() == []
    assert [s.id for s in other.recover(force=True)] == [sid]
    other.close()
    store.close()
