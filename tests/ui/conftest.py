"""Fixtures for the overlay tests: Qt offscreen, injected settings, stand-ins for the call worker."""

from __future__ import annotations

import os
from functools import partial

# Before any QApplication exists (pytest-qt makes it on first use): no window ever pops up on a
# developer's screen, and CI needs no display. The one Xvfb test runs its overlay in a subprocess.
os.environ["QT_QPA_PLATFORM"] = "offscreen"

import pytest  # noqa: E402
from PySide6.QtCore import QObject, Signal  # noqa: E402

from callcue.engine.events import Event  # noqa: E402
from callcue.settings import Settings, SettingsStore  # noqa: E402
from callcue.ui.panel import Phase, Tick  # noqa: E402
from callcue.ui.qtcompat import emit
from tests.ui.test_xvfb import desktop  # noqa: E402, F401 - Xvfb and openbox, for the X server tests


def pytest_sessionstart(session) -> None:  # noqa: ARG001 - pytest's hook signature
    from callcue.ui import qtcompat

    qtcompat.check()  # a PySide6 that would abort the test process at exit says so here, clearly


@pytest.fixture(autouse=True)
def _no_managed_file(monkeypatch):
    monkeypatch.setenv("CALLCUE_MANAGED_CONFIG", "")  # /etc/callcue/managed.toml of this machine is not ours
    for key in ("CALLCUE_MODEL", "CALLCUE_PLAYBOOK", "CALLCUE_PROFILE"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture
def store(tmp_path) -> SettingsStore:
    return SettingsStore(tmp_path / "config" / "settings.json")


class FakeWorker(QObject):
    """The worker's signals, driven by the test: synthetic events and an audio clock, no threads."""

    events = Signal(object)
    tick = Signal(object)
    phase = Signal(object)
    done = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.actions: list[str] = []

    def start(self) -> None:
        emit(self.phase, Phase("listening", "Listening (test)"))

    def act(self, action: str) -> None:
        self.actions.append(action)

    def request_stop(self) -> None:
        emit(self.done)

    def stop(self) -> None:
        pass

    def send(self, *events: Event) -> None:
        emit(self.events, list(events))

    def clock(self, at: float, **kw) -> None:
        emit(self.tick, Tick(at=at, **kw))


class EngineWorker(FakeWorker):
    """A real engine, driven in the test's thread: controls go through CallSession's own action path."""

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__()
        from callcue.calls.session import CallSession, Outlet

        outlet = Outlet(partial(emit, self.events), partial(emit, self.tick), partial(emit, self.phase))
        self.session = CallSession(outlet)
        self.engine = None

    def play_demo_until(self, until_s: float, start_s: float = 0.0) -> None:
        """Feed the demo call's audio (with its transcript) from `start_s` to `until_s`."""
        from callcue.audio.recording import read_recording
        from callcue.calls.recipe import demo_files
        from callcue.calls.session import control
        from callcue.engine.pipeline import Engine
        from callcue.engine.playbook import load_playbook
        from callcue.speech.transcript import read_transcript

        if self.engine is None:
            audio, vtt = demo_files()
            self.rec = read_recording(audio)
            engine = Engine(load_playbook(), channels=tuple(self.rec.channels), words="file")
            self.engine = engine
            self.send(*engine.start(duration_s=self.rec.duration_s))
            for seg in read_transcript(vtt):
                self.send(*engine.add_result(seg.who, seg))
            self.session.attach(lambda action: self.send(*engine.act(*control(action))))
        engine = self.engine
        chunk = 1600
        pos = int(start_s * 16000)
        while pos < int(until_s * 16000):
            out: list[Event] = []
            for who, pcm in self.rec.channels.items():
                out += engine.feed(who, pcm[pos:pos + chunk])
            pos += chunk
            if out:
                self.send(*out)
            self.session.tick(engine.snapshot(pos / 16000))

    def act(self, action: str) -> None:
        super().act(action)
        self.session.request(action)


@pytest.fixture
def fake_worker() -> FakeWorker:
    return FakeWorker()


@pytest.fixture
def overlay(qtbot, settings, store, fake_worker):
    from callcue.ui.overlay import Overlay

    o = Overlay(settings, store, worker_factory=lambda: fake_worker)
    qtbot.addWidget(o)
    o.show()
    return o
