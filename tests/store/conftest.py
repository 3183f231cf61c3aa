from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path, monkeypatch):
    """Never touch the real user data dir."""
    monkeypatch.setenv("CALLCUE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CALLCUE_CONFIG_DIR", str(tmp_path / "config"))
