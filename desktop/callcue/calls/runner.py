"""Runs a session's call on the calling thread (the overlay's QThread, or the main thread of
`callcue demo --headless`) until it ends, is stopped, or fails; every outcome is a phase the front
end shows, never an exception it must catch."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from callcue.calls.recipe import CallSpec, LiveCall, SetupError, open_call
from callcue.calls.session import CallSession
from callcue.errors import CallcueError

# Signals that end a call as finished (its summary made, its session saved as such): Ctrl-C, a
# service manager's stop, and the terminal closing.
ENDING_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def run_call(session: CallSession, spec: CallSpec, tick_gap_s: float | None = None,
             on_open: Callable[[LiveCall], None] = lambda call: None) -> LiveCall | None:
    """Open the call `spec` describes and run it, reporting through `session`; the call, once it has
    been opened (None if it could not be). `on_open(call)` hears it as soon as it is set up."""
    stop = threading.Event()
    session.on_stop(stop.set)
    demo = spec.kind == "demo"
    call = None
    try:
        session.say("loading", "Loading the demo call\u2026" if demo else "Opening the sound devices\u2026")
        call = open_call(spec, on_events=session.events, on_tick=session.tick, tick_gap_s=tick_gap_s,
                         say=lambda message: session.say("loading", message))
        on_open(call)
        session.attach(call.act)

        def listening(described: str) -> None:
            if demo:
                session.say("listening", f"Demo call \u00b7 {call.words_from}")
            else:
                session.say("listening", f"Listening: {described} \u00b7 {call.words_from}",
                            fix=None if call.model_name else "model")

        call.run(stop, on_listening=listening)
        described = call.words_from if demo else call.capture.describe()
        session.say("ended", f"{'Demo call' if demo else 'The call'} ended \u00b7 {described}")
    except SetupError as err:
        session.say("error", str(err), fix=err.fix)
    except CallcueError as err:
        text = str(err)
        fix = "devices" if any(w in text for w in ("device", "PortAudio", "microphone")) else "settings"
        session.say("error", text, fix=fix)
    except Exception as err:  # the UI must hear about it: a silent dead worker looks like a frozen call
        session.say("error", f"The call stopped on an internal error: {err!r}")
    finally:
        session.attach(None)
    return call


@contextmanager
def stop_on_signals(stop: threading.Event | CallSession) -> Iterator[None]:
    """While inside, Ctrl-C, SIGTERM and SIGHUP end the call (`stop` is set) instead of the process.
    Only from the main thread, where Python runs signal handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    end = stop.set if isinstance(stop, threading.Event) else stop.stop
    previous = {sig: signal.signal(sig, lambda *_: end()) for sig in ENDING_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
