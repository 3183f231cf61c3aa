"""A crash at any moment loses at most `[store] save_every_s` (2 s) of the call: a live-like call (the real
Engine fed with a recording in 0.1 s chunks, saved by the Recorder as `listen` does) kills itself with
SIGKILL at ten moments, long turns and holds among them; the next start recovers each session."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from callcue.engine import events as ev
from callcue.engine.playbook import load_playbook
from callcue.store import SessionStore
from tests.conftest import CALLS, USES_CALLS
from tests.report.sessions import analysed

pytestmark = USES_CALLS  # the calls this run makes (tests/data/calls)

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import os, signal, sys
from callcue.audio.recording import parse_channel_order, read_recording
from callcue.engine.pipeline import Engine
from callcue.engine.playbook import load_playbook
from callcue.calls.feed import feed_recording, transcript_heard
from callcue.sessions_io import Recorder
from callcue.speech.transcript import read_transcript
from callcue.store import SessionStore

wav, vtt, db, kill_at = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
rec = read_recording(wav, parse_channel_order(None))
engine = Engine(load_playbook(), channels=tuple(rec.channels), words="file")
recorder = Recorder(SessionStore(db), {"kind": "live", "agent": "kim"}, engine=engine, on_error=print)
recorder.write(engine.start(duration_s=rec.duration_s))

def chunk(t):
    recorder.advance(t)
    if t >= kill_at:
        os.kill(os.getpid(), signal.SIGKILL)  # no finally, no atexit: as a power cut

for event in feed_recording(engine, rec.channels, transcript_heard(read_transcript(vtt), rec.channels),
                            on_chunk=chunk):
    recorder.write(event)
raise SystemExit("the call ended before the kill")
"""


def moments() -> list[tuple[str, float]]:
    """Inside long turns, inside holds, and random moments (seeded)."""
    chosen = [("dead-air-hold", 10.0), ("dead-air-hold", 20.0), ("dead-air-hold", 26.5),
              ("dead-air-hold", 46.0), ("jargon-fast-talker", 16.0), ("jargon-fast-talker", 23.5)]
    rng = random.Random(19)
    for name in ("dead-air-hold", "jargon-fast-talker", "billing-dispute", "outage-deescalation"):
        duration = analysed(name)[0].duration_s
        chosen.append((name, round(rng.uniform(3.0, duration - 3.0), 1)))
    return chosen


def test_the_moments_include_long_turns_and_holds():
    kinds = [_where(name, t) for name, t in moments()]
    assert len(kinds) == 10 and kinds.count("hold") >= 3 and sum(k.startswith("turn") for k in kinds) >= 3


def _where(name: str, t: float) -> str:
    for e in analysed(name):
        if isinstance(e, ev.Silence) and e.start <= t <= e.end:
            return "hold" if e.hold else "silence"
        if isinstance(e, ev.Speech) and e.start <= t <= e.end and e.end - e.start >= 6.0:
            return f"turn {e.who} {e.start}"
    return "other"


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
@pytest.mark.parametrize(("name", "at"), moments(), ids=[f"{n}@{t}" for n, t in moments()])
def test_a_kill_loses_at_most_the_last_save_interval(tmp_path, name, at):
    every = load_playbook().section("store")["save_every_s"]
    assert every == 2.0
    db = tmp_path / "sessions.db"
    r = subprocess.run([sys.executable, "-c", CHILD, str(CALLS / f"{name}.wav"), str(CALLS / f"{name}.vtt"),
                        str(db), str(at)], capture_output=True, text=True, timeout=300, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == -signal.SIGKILL, r.stderr + r.stdout
    with SessionStore(db) as store:
        (session,) = store.recover()
        loaded = store.load(session.id)
    assert session.state == "recovered"
    # The kill came at the first 0.1 s chunk at or after `at`: at most `every` of the call is lost.
    assert session.duration_s >= at - every, f"{session.duration_s} s saved of {at} s"
    where = _where(name, at)
    if where.startswith("turn"):
        _, who, start = where.split()
        turn = [e for e in loaded.events if isinstance(e, ev.Speech) and e.who == who
                and abs(e.start - float(start)) < 0.2]
        # The turn in progress was saved: up to its last voiced frame (a word's pause, the VAD's
        # hangover, behind the clock).
        hangover = load_playbook().section("activity")["hangover_s"]
        assert turn and max(e.end for e in turn) >= at - every - hangover - 0.1, where
