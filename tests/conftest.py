"""Shared fixtures: the calls beside the checkout, and a playbook."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CALLCUE_SHARED", ROOT.parent / "shared"))
CALLS = SHARED / "calls"
CALL_NAMES = sorted(p.stem for p in CALLS.glob("*.wav"))


@pytest.fixture(scope="session")
def calls_dir() -> Path:
    assert CALLS.is_dir(), f"the shared calls are missing: {CALLS}"
    return CALLS


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
    data = (CALLS / "password-reset.wav").read_bytes()
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
