"""Shared fixtures: the test calls (made from the scripts in tests/data/calls), and a playbook.

The calls the tests use are made once per test run by tools/make_call.py (espeak-ng) from
tests/data/calls/NAME.json into CALLS: NAME.wav (stereo, left agent, right customer), NAME.vtt (the
exact transcript) and NAME.truth.json (the exact utterances, interruptions and silences). A test that
uses CALLS asks for the `calls_dir` fixture (or its module says `pytestmark = USES_CALLS`).
`../shared` (or CALLCUE_SHARED) is only for benchmarks and extra measurements: a test that needs it is
marked `needs_shared(...)` and is skipped, with its reason, when it is absent.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CALLCUE_SHARED", ROOT.parent / "shared"))
SCRIPTS = ROOT / "tests" / "data" / "calls"
MAKE_CALL = ROOT / "tools" / "make_call.py"
CALL_NAMES = sorted(p.stem for p in SCRIPTS.glob("*.json"))
# This run's own folder (the test calls, the sample sessions' template): removed when the run ends.
RUN_DIR = Path(tempfile.gettempdir()) / f"callcue-tests-{os.getpid()}"
CALLS = RUN_DIR / "calls"
USES_CALLS = pytest.mark.usefixtures("calls_dir")


def needs_shared(what: str) -> pytest.MarkDecorator:
    """Skip a test that needs `what` from ../shared when ../shared is not there."""
    return pytest.mark.skipif(not SHARED.is_dir(), reason=f"needs {what} from {SHARED} (absent; CALLCUE_SHARED "
                                                         "names another place)")


def make_calls(folder: Path, names: list[str] | None = None) -> Path:
    """Make the test calls `names` (default: all) from their scripts into `folder`; returns `folder`."""
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("espeak-ng is not installed (./setup.sh installs it): it speaks the test calls")
    scripts = [str(SCRIPTS / f"{n}.json") for n in names or CALL_NAMES]
    subprocess.run([sys.executable, str(MAKE_CALL), *scripts, str(folder)], check=True, capture_output=True,
                   timeout=600)
    return folder


def calls() -> Path:
    """CALLS, made on first use in this run (a plain function for helpers that are not fixtures)."""
    done = CALLS / ".made"
    if not done.exists():
        shutil.rmtree(CALLS, ignore_errors=True)  # a dead run's leftovers under a reused pid
        make_calls(CALLS)
        done.touch()
    return CALLS


@pytest.fixture(scope="session")
def calls_dir() -> Path:
    """The folder of the test calls (made once per run)."""
    try:
        return calls()
    except RuntimeError as e:
        pytest.fail(str(e))


def pytest_unconfigure(config) -> None:
    shutil.rmtree(RUN_DIR, ignore_errors=True)


def truth(name: str) -> dict:
    return json.loads((CALLS / f"{name}.truth.json").read_text())


@pytest.fixture(scope="session")
def playbook():
    from callcue.engine.playbook import load_playbook

    return load_playbook()


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path_factory, monkeypatch):
    """Every test gets its own data and config folders, and no IT-managed file: nothing touches the
    user's. The environment is restored afterwards, because the command line hands managed settings
    to later commands through it."""
    saved = dict(os.environ)
    base = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("CALLCUE_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("CALLCUE_CONFIG_DIR", str(base / "config"))
    monkeypatch.setenv("CALLCUE_MANAGED_CONFIG", str(base / "no-managed.toml"))
    yield
    os.environ.clear()
    os.environ.update(saved)


def make_bad_recordings(folder: Path) -> dict[str, tuple[Path, str]]:
    """Damaged recordings of every kind a user brings, each with words its message must hold."""
    import numpy as np
    import soundfile as sf

    text = folder / "notes.wav"
    text.write_text("this is not audio\n")
    empty = folder / "empty.wav"
    sf.write(empty, np.zeros((0, 2)), 16000)
    zero = folder / "zero.wav"
    zero.write_bytes(b"")
    trunc = folder / "cut.wav"
    data = (calls() / "password-reset.wav").read_bytes()
    trunc.write_bytes(data[: len(data) // 3])
    three = folder / "three.wav"
    sf.write(three, np.zeros((1600, 3)), 16000)
    return {
        "missing file": (folder / "missing.wav", "no such file"),
        "text named wav": (text, "not a readable"),
        "empty wav": (empty, "no audio"),
        "zero bytes": (zero, "empty"),
        "truncated wav": (trunc, "truncated"),
        "three channels": (three, "3 channels"),
    }


def replay(engine, channels, segments=None, chunk_s=0.1, on_chunk=None):
    """A recording and its transcript through the engine, by the one feed loop (calls.feed)."""
    from callcue.calls.feed import feed_recording, transcript_heard
    from callcue.engine.clock import RATE

    return feed_recording(engine, channels, transcript_heard(segments or [], channels), chunk=int(chunk_s * RATE),
                          on_chunk=on_chunk)
