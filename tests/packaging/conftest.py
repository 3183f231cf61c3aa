"""Packaging tests: no machine's real managed settings, no leftovers of one test's in the next."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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


@contextmanager
def x_display() -> Iterator[str]:
    """A private Xvfb: its own display number (others' tests use :0 and :99). -displayfd: Xvfb says when it
    accepts clients; -noreset: it does not restart, refusing clients, each time the last one leaves."""
    number = next(n for n in range(300 + os.getpid() % 200, 1000) if not Path(f"/tmp/.X{n}-lock").exists())
    read, write = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", f":{number}", "-displayfd", str(write), "-screen", "0", "800x600x24",
                             "-nolisten", "tcp", "-noreset"], pass_fds=(write,), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    os.close(write)
    try:
        with os.fdopen(read) as f:
            ready = f.readline().strip()
        assert ready, "Xvfb did not start"
        yield f":{ready}"
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)


def desktop_env(display: str, base: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in (base or os.environ).items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env["DISPLAY"] = display
    return env
