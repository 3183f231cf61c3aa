"""Packaging tests: no machine's real managed settings, no leftovers of one test's in the next."""

from __future__ import annotations

import pytest

from callcue import managed


@pytest.fixture(autouse=True)
def _no_system_managed(tmp_path_factory, monkeypatch):
    """A developer's own /etc/callcue/managed.toml must not decide these tests.

    activate() writes os.environ; monkeypatch restores every variable it recorded, whatever was
    written in between (CALLCUE_DATA_DIR was recorded by the top-level conftest).
    """
    monkeypatch.setenv(managed.ENV_PATH, str(tmp_path_factory.mktemp("managed") / "none.toml"))
    for name in set(managed.known_keys().values()) - {"CALLCUE_DATA_DIR"}:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(managed, "_current", None)
