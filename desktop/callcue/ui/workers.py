"""The call's thread: a QThread runs the call (calls.runner: engine and Vosk); the UI hears signals only.

Signals emitted from the worker's thread are queued into the UI thread's event loop, so no widget
is touched off the UI thread and a slow chunk (Vosk can take 0.5 s) never blocks a repaint.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QObject, QThread, Signal, Slot

from callcue.calls.recipe import CallSpec, LiveCall
from callcue.calls.runner import run_call
from callcue.calls.session import CallSession, Outlet
from callcue.settings import Settings
from callcue.ui.qtcompat import emit


class CallWorker(QObject):
    events = Signal(object)  # list[Event]
    tick = Signal(object)  # panel.Tick
    phase = Signal(object)  # panel.Phase
    done = Signal()

    def __init__(self, settings: Settings, mode: str = "demo", speed: float = 1.0, use_model: bool = True) -> None:
        super().__init__()
        self.mode = mode
        outlet = Outlet(partial(emit, self.events), partial(emit, self.tick), partial(emit, self.phase))
        self.session = CallSession(outlet)
        self.spec = CallSpec.from_settings(settings, "demo" if mode == "demo" else "live", speed=speed,
                                           use_model=use_model)
        self.call: LiveCall | None = None  # once the call is set up
        self._thread = QThread()
        self._thread.setObjectName(f"callcue-{mode}")
        self.moveToThread(self._thread)
        self._thread.started.connect(self._run)

    def start(self) -> None:
        self._thread.start()

    def is_running(self) -> bool:
        return self._thread.isRunning()

    @Slot()
    def _run(self) -> None:
        try:
            run_call(self.session, self.spec, on_open=lambda call: setattr(self, "call", call))
        finally:
            emit(self.done)
            self._thread.quit()

    def act(self, action: str) -> None:
        """Thread-safe: the call does it between two chunks of audio."""
        self.session.request(action)

    def request_stop(self) -> None:
        """Ask the call to end without waiting: `done` comes when the engine has written its summary."""
        self.session.stop()

    def stop(self, wait_ms: int = 5000) -> bool:
        """Ask the call to end (the engine still writes its summary) and wait for the thread."""
        self.session.stop()
        if self._thread.isRunning():
            return self._thread.wait(wait_ms)
        return True
