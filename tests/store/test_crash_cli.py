"""Crash recovery through the command line: `callcue analyze --save` is killed with SIGKILL in the
middle of a long call; the next start finds the session recovered, holding every event the
analysis had made up to its last save, and saves came at least every 2 s of audio while events
waited, so at most the last 2 s are lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from callcue.calls.offline import analyze_recording
from callcue.engine import events as ev
from callcue.speech.transcript import read_transcript
from callcue.store import SessionStore, redact_event
from tests.conftest import CALLS, USES_CALLS

pytestmark = [pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL"), USES_CALLS]


def _stamp(t: float) -> str:
    h, rest = divmod(t, 3600)
    m, s = divmod(rest, 60)
    return f"{int(h):02d}:{int(m):02d}:{s:06.3f}"


def long_call(folder, names):
    """The test calls one after another: a six-minute call with its transcript."""
    audio, cues, offset = [], ["WEBVTT", ""], 0.0
    for name in names:
        pcm, rate = sf.read(CALLS / f"{name}.wav", dtype="int16", always_2d=True)
        assert rate == 16000
        audio.append(pcm)
        for seg in read_transcript(CALLS / f"{name}.vtt"):
            cues += [f"{_stamp(seg.start + offset)} --> {_stamp(seg.end + offset)}", f"<v {seg.who}>{seg.text}", ""]
        offset += len(pcm) / rate
    wav, vtt = folder / "long.wav", folder / "long.vtt"
    sf.write(wav, np.concatenate(audio), 16000, subtype="PCM_16")
    vtt.write_text("\n".join(cues))
    return wav, vtt, offset


class _Enough(Exception):
    pass


def made_until(wav, vtt, until):
    """The events the analysis makes, in order, with the audio time each was made at, up to `until`."""
    made, now = [], [0.0]

    def chunk(t):
        if t > until:
            raise _Enough
        now[0] = t + 0.1  # events coming next are made while this 0.1 s chunk is fed

    try:
        analyze_recording(str(wav), str(vtt), on_event=lambda e: made.append((now[0], e)), on_chunk=chunk)
    except _Enough:
        pass
    return made


def _numbers_masked(data: dict) -> dict:
    """An event with every number in its text, and every tag, as "#": a number ending a line is stored
    held ([digits]) until the speaker goes on (callredact.py), so the kill may find it held."""
    import re

    from callcue.store.redaction import Span as _Span
    from callcue.store.redaction import analyse, apply_spans

    def mask(text: str) -> str:
        spans, runs = analyse(text)
        spans += [_Span(r.start, r.end, "#") for r in runs]
        return re.sub(r"\[[a-z]+\]", "#", apply_spans(text, sorted(spans, key=lambda x: x.start)))

    out = dict(data)
    if isinstance(out.get("text"), str):
        out["text"] = mask(out["text"])
    if isinstance(out.get("words"), list):
        out["words"] = len(mask(" ".join(w["word"] for w in out["words"])).split())
    return out


def test_killed_analyze_save_is_recovered(tmp_path):
    wav, vtt, total = long_call(tmp_path, sorted(p.stem for p in CALLS.glob("*.wav")))
    assert total > 300
    proc = subprocess.Popen(
        [sys.executable, "-m", "callcue", "analyze", str(wav), "--transcript", str(vtt), "--save", "--agent-name",
         "kim", "-v"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    saves = []
    try:
        for line in proc.stderr:
            if line.startswith("saved "):
                saves.append(float(line.split()[1]))
                if saves[-1] >= 20.0:  # well into the call, minutes before its end
                    break
        else:
            raise AssertionError(f"no save seen; the command said: {saves}")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    rest = proc.stderr.read()  # what it printed before it died
    proc.stderr.close()
    saves += [float(line.split()[1]) for line in rest.splitlines() if line.startswith("saved ")]
    assert proc.returncode == -signal.SIGKILL
    last = saves[-1]
    assert last < total - 60, "the analysis finished before it was killed: make the call longer"

    # The next start recovers it.
    listing = subprocess.run([sys.executable, "-m", "callcue", "review", "--list"], capture_output=True, text=True,
                             timeout=60)
    assert listing.returncode == 0, listing.stderr
    assert "recovered the unfinished session" in listing.stderr
    header, row = listing.stdout.splitlines()
    sid = row.split()[0]
    assert "recovered" in row and "kim" in row and "long.wav" in row

    with SessionStore() as store:
        session = store.load(sid)
    assert session.state == "recovered" and session.summary is None
    saved = [_numbers_masked(e.to_dict()) for e in session.events]
    made = made_until(wav, vtt, last + 5.0)
    expected = [_numbers_masked(redact_event(e).to_dict()) for _, e in made]
    # A clean prefix of what the analysis made: nothing half-written, nothing out of order.
    assert saved == expected[: len(saved)]
    # Everything made up to the last save it reported is there ...
    assert len(saved) >= sum(1 for at, _ in made if at <= last - 0.1)
    # ... and saves came at least every 2 s of audio (the playbook's [store] save_every_s) while
    # events waited, so no event waited for its save more than 2 s (plus one 0.1 s chunk).
    for a, b in zip(saves, saves[1:], strict=False):
        waited = [at for at, _ in made if a < at <= b]
        assert not waited or b - min(waited) <= 2.25, f"events made at {min(waited)} waited until {b}"
    clock = max(getattr(e, "end", getattr(e, "at", 0.0)) for e in session.events if not isinstance(e, ev.CallStart))
    # The duration is the call's clock at the last save (past the last event: time without events counts).
    # (One more save may have been committed as the kill came, before its line was printed.)
    assert last - 1e-6 <= session.duration_s <= last + 2.1 and session.duration_s >= clock
    assert clock >= last - 2.0
    assert any(isinstance(e, ev.Utterance) and "[account]" in e.text for e in session.events)
