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
    """Every test gets its own data and config folders: nothing touches the user's."""
    base = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("CALLCUE_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("CALLCUE_CONFIG_DIR", str(base / "config"))
