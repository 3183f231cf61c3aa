"""`callcue` listening live: calls.live's pipeline on its own thread, the overlay on the UI thread.

The capture is the demo call handed out chunk by chunk (no sound card in CI), and it pauses where
the test needs time to stand still, so nothing depends on how fast the machine is.
"""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest
from PySide6.QtCore import Qt

pytest.importorskip("callcue.calls.live")

from callcue.audio.capture import Chunk  # noqa: E402
from callcue.audio.recording import read_recording  # noqa: E402
from callcue.calls.recipe import demo_files  # noqa: E402
from callcue.engine.events import CueAction  # noqa: E402
from callcue.ui.overlay import Overlay  # noqa: E402
from callcue.ui.workers import CallWorker  # noqa: E402


class GatedCapture:
    """The demo call as 0.1 s chunks, as fast as the pipeline takes them, holding at `pause_s` until released."""

    lossless = True

    def __init__(self, pause_s: float) -> None:
        self.pcm = read_recording(demo_files()[0]).channels
        self.channels = tuple(self.pcm)
        self.pause_at = int(pause_s * 16000)
        self.gate = threading.Event()
        self.paused = threading.Event()
        self.done = threading.Event()
        self._stop = threading.Event()

    def describe(self) -> str:
        return "the demo call"

    def start(self, on_chunk, on_status) -> None:  # type: ignore[no-untyped-def]
        threading.Thread(target=self._play, args=(on_chunk,), daemon=True).start()

    def _play(self, on_chunk) -> None:  # type: ignore[no-untyped-def]
        total = max(len(x) for x in self.pcm.values())
        for pos in range(0, total, 1600):
            if pos == self.pause_at:
                self.paused.set()
                self.gate.wait()
            if self._stop.is_set():
                break
            for c, x in self.pcm.items():
                on_chunk(Chunk(c, x[pos:pos + 1600], time.monotonic()))
        self.done.set()

    def stop(self) -> None:
        self._stop.set()
        self.gate.set()


def test_live_call_shows_cues_and_dismiss_reaches_the_engine(qtbot, settings, store):
    capture = GatedCapture(pause_s=22.0)

    def make() -> CallWorker:
        worker = CallWorker(settings, "live", use_model=False)
        worker.spec = dataclasses.replace(worker.spec, capture=capture)
        return worker

    o = Overlay(settings, store, worker_factory=make)
    qtbot.addWidget(o)
    o.show()
    o.start_call()
    qtbot.waitUntil(lambda: capture.paused.is_set() and o.card.cue is not None, timeout=20000)
    assert o.card.cue.id == "check-in-silence"  # without words: 5 s of silence after the agent spoke
    assert "Listening: the demo call" in o.status.text.text() and o.status.fix.text() == "Install a model\u2026"
    engine = o.worker.call.engine
    qtbot.mouseClick(o.card.dismiss_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: any(isinstance(e, CueAction) for e in engine.events), timeout=5000)
    assert [(e.action, e.cue) for e in engine.events if isinstance(e, CueAction)] == [
        ("dismiss", "check-in-silence")]
    capture.gate.set()
    qtbot.waitUntil(lambda: o.state.phase.name == "ended", timeout=20000)
    assert o.state.summary is not None and o.state.talk_s["agent"] > 0 and o.state.talk_s["customer"] > 0


def test_no_microphone_is_a_clear_status_with_a_way_to_fix_it(qtbot, settings, store, monkeypatch):
    from callcue.audio import devices

    monkeypatch.setattr(devices, "input_devices", lambda sd=None: [])
    o = Overlay(settings, store, worker_factory=lambda: CallWorker(settings, "live", use_model=False))
    qtbot.addWidget(o)
    o.show()
    o.start_call()
    qtbot.waitUntil(lambda: o.state.phase.name == "error", timeout=10000)
    assert "no audio input devices found" in o.status.text.text()
    assert o.status.fix.isVisible() and o.status.fix.text() == "Choose device\u2026"
    assert "Start" in o.call_button.text()  # after fixing the device, the agent starts again
