"""`callcue demo --headless` ended by Ctrl-C or SIGTERM: a finished call with its summary, never one that the
next command "recovers"; kept among the calls only when asked, and then as a demo."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from callcue.store import SessionStore

GUARD_S = 60  # only stops a hang


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_stopped_demo_is_a_finished_call(sig, tmp_path):
    env = dict(os.environ, CALLCUE_DATA_DIR=str(tmp_path))
    demo = subprocess.Popen([sys.executable, "-m", "callcue", "demo", "--headless", "--speed", "4", "--save"],
                            env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = []
    for line in demo.stdout:  # the first cue is about 20 s into the call: 5 s at this speed
        seen.append(line)
        if "CUE" in line:
            break
    demo.send_signal(sig)
    out, err = demo.communicate(timeout=GUARD_S)
    assert demo.returncode == 0, err
    assert "After the call" in out and "Traceback" not in err
    (saved,) = SessionStore(Path(tmp_path) / "sessions.db").list()
    assert saved.kind == "demo" and saved.state == "finished"
    after = subprocess.run([sys.executable, "-m", "callcue", "review", "--list"], env=env, text=True,
                           capture_output=True, timeout=GUARD_S)
    assert after.returncode == 0 and "recovered" not in after.stderr + after.stdout


def test_a_demo_is_not_kept_unless_asked(tmp_path):
    env = dict(os.environ, CALLCUE_DATA_DIR=str(tmp_path))
    r = subprocess.run([sys.executable, "-m", "callcue", "demo", "--headless", "--speed", "0", "--no-captions"],
                       env=env, text=True, capture_output=True, timeout=GUARD_S)
    assert r.returncode == 0, r.stderr
    assert "CUE" in r.stdout and not (Path(tmp_path) / "sessions.db").exists()
