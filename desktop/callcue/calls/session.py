"""What a call reports to a front end, and how the agent's controls reach it: plain Python.

No Qt, no threads, no wall clock here (an import-linter contract keeps it so): the overlay's worker
(ui.workers, a QThread) and `callcue demo --headless` (the main thread) both hand a `CallSession` to
calls.runner, which runs the call and reports through the session's `Outlet`. Controls go the
other way: `request()` may be called from any thread; the live pipeline's worker does them between
two chunks of audio, so the engine is only ever touched by its own thread.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from callcue.engine.events import Event
from callcue.engine.pipeline import CallState


@dataclass
class Tick:
    """The audio clock, sent by the worker every few chunks: what events alone cannot say."""

    at: float  # seconds on the call's sample clock
    quiet_s: float | None = None  # how long nobody has spoken (None: derive from events)
    talk_s: dict[str, float] | None = None  # talk so far per channel, counting who is speaking now
    commitments: list[str] | None = None  # promises heard so far (the engine's own list)
    levels: dict[str, float] | None = None  # dBFS per channel of the last chunk

    @classmethod
    def of(cls, state: CallState) -> Tick:
        return cls(at=state.at, quiet_s=state.quiet_s, talk_s=dict(state.talk_s), commitments=list(state.commitments))


@dataclass
class Phase:
    """Where the call is: said by the runner, not the engine, so it is not in the event stream."""

    name: str = "idle"  # idle, loading, listening, ended, error
    message: str = "Not listening"
    fix: str | None = None  # "devices", "model", "settings": what the status line offers to open


@dataclass
class Outlet:
    """Where a session's reports go. Each callback may be called from the call's threads."""

    events: Callable[[list[Event]], None]
    tick: Callable[[Tick], None]
    phase: Callable[[Phase], None]


def control(action: str) -> tuple[str, str | None]:
    """A control as the engine takes it: "dismiss:CUE-ID" -> ("dismiss", "CUE-ID"), "snooze" -> ("snooze", None)."""
    name, _, cue_id = action.partition(":")
    return name, cue_id or None


@dataclass
class CallSession:
    """One call as a front end holds it: its reports and its controls."""

    out: Outlet
    phase: Phase = field(default_factory=Phase)
    _controls: deque[str] = field(default_factory=deque)
    _send: Callable[[str], None] | None = None
    _stopped: bool = False
    _on_stop: Callable[[], None] | None = None

    # ---- from any thread -------------------------------------------------------------------

    def request(self, action: str) -> None:
        """A control from the agent: "dismiss" (or "dismiss:CUE-ID" to dismiss only that cue), "snooze",
        "hold", "resume". Kept until the call runs, then done between two chunks of audio."""
        self._controls.append(action)
        if self._send is not None:
            self._drain()

    def stop(self) -> None:
        """End the call: what was captured is processed and the summary still made."""
        self._stopped = True
        if self._on_stop is not None:
            self._on_stop()

    @property
    def stopped(self) -> bool:
        return self._stopped

    # ---- from the runner -------------------------------------------------------------------

    def on_stop(self, callback: Callable[[], None]) -> None:
        """`callback()` when the call is asked to end (at once if it already has been)."""
        self._on_stop = callback
        if self._stopped:
            callback()

    def attach(self, send: Callable[[str], None] | None) -> None:
        """Controls go to `send` from now on (None: they wait again)."""
        self._send = send
        if send is not None:
            self._drain()

    def _drain(self) -> None:
        send = self._send
        while send is not None:
            try:
                action = self._controls.popleft()  # atomic: each control is sent once, whoever drains
            except IndexError:
                return
            send(action)

    def say(self, name: str, message: str, fix: str | None = None) -> None:
        self.phase = Phase(name, message, fix)
        self.out.phase(self.phase)

    def events(self, events: list[Event]) -> None:
        self.out.events(events)

    def tick(self, state: CallState) -> None:
        self.out.tick(Tick.of(state))
