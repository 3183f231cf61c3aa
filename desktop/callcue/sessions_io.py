"""Saving a call as a session while it happens: live calls, the demo and `analyze --save`.

    store = open_store()                                    # recovers what a crash left open
    rec = Recorder(store, SessionMeta(kind="live", agent="kim", profile="acme"), on_error=show)
    for chunk in audio:                                     # the worker thread
        rec.write(engine.feed(channel, chunk))
        rec.advance(engine.now)                             # saves at least once per second of audio
    rec.write(engine.finish())                              # the summary comes last
    rec.finish()

or, for a stream that is already an iterable of events, `record(events, store, meta)`.

Every save goes through `SessionWriter`, so a crash (kill -9, power cut) loses at most the last
second or two of audio, and `SessionStore.recover()` at the next start marks the session
`recovered`. Redaction happens in the store, before anything is written.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from callcue.engine import events as ev
from callcue.errors import CallcueError
from callcue.store import SessionMeta, SessionStore, SessionWriter, StoredSession


class SaveError(CallcueError):
    """Saving to the session store failed (locked, full disk, newer database): the call's events
    stay buffered in memory and the next save tries again."""


def open_store(path: str | Path | None = None, *, recover: bool = True,
               timeout: float | None = None) -> tuple[SessionStore, list[StoredSession]]:
    """The session store (default: the user data dir), and the sessions a crash left open,
    now marked recovered. A read-only (newer) database recovers nothing."""
    store = SessionStore(path) if timeout is None else SessionStore(path, timeout=timeout)
    recovered: list[StoredSession] = []
    if recover and not store.read_only:
        try:
            recovered = store.recover()
        except CallcueError:
            store.close()
            raise
    return store, recovered


class Recorder:
    """Writes one call to the store as its events arrive; thread-safe.

    The session is begun at the first event (or `begin()`), so a recording that cannot be read
    leaves no empty session behind. Save failures raise `SaveError`, or, when `on_error` is
    given, are handed to it (at most once per failed save) and retried a second of audio later,
    so a live call goes on while the disk is full and nothing already buffered is lost.
    """

    def __init__(
        self,
        store: SessionStore,
        meta: SessionMeta | dict[str, Any] | None = None,
        *,
        every_s: float = 1.0,
        on_commit: Callable[[float], None] | None = None,
        on_error: Callable[[CallcueError], None] | None = None,
    ) -> None:
        self.store = store
        self.meta = meta
        self.every_s = every_s
        self.on_commit = on_commit
        self.on_error = on_error
        self.session_id: str | None = None
        self.writer: SessionWriter | None = None
        self.summary: ev.Summary | None = None
        self.events = 0
        self.finished = False
        self._lock = threading.RLock()

    def begin(self) -> str:
        with self._lock:
            if self.session_id is None:
                self.session_id = self._guard(lambda: self.store.begin(self.meta))
                self.writer = SessionWriter(self.store, self.session_id, every_s=self.every_s,
                                            on_commit=self.on_commit)
            return self.session_id

    def _guard(self, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except SaveError:
            raise
        except CallcueError as err:
            failure = SaveError(str(err))
            if self.on_error is None or self.session_id is None:
                raise failure from err
            self.on_error(failure)
            return None

    owns_store = False

    def tee(self, forward: Callable[[list[ev.Event]], None] | None = None) -> Callable[[list[ev.Event]], None]:
        """A callback for a batch of events (an Outlet's or a LivePipeline's `on_events`): saves the
        batch, then hands it on to `forward`. A failed save never stops the call."""

        def both(events: list[ev.Event]) -> None:
            try:
                self.write(events)
            except CallcueError as err:
                if self.on_error is None:
                    raise
                self.on_error(err)
            if forward is not None:
                forward(events)

        return both

    def end(self, finished: bool = True, warn: Callable[[str], None] | None = None) -> str | None:
        """The call is over: close the session with its summary (or, if not `finished`, leave it open
        for the next start to recover), and close the store if this recorder opened it."""
        sid = self.session_id
        try:
            if finished and sid is not None:
                self.finish()
            elif self.owns_store:
                self.store.flush()
        except CallcueError as err:
            if warn is None:
                raise
            warn(f"callcue: saving the call: {err}; what was saved before is kept and recovered at the next start")
        finally:
            if self.owns_store:
                self.store.close()
        return sid

    def write(self, events: ev.Event | Iterable[ev.Event]) -> None:
        """One event or a batch (what `engine.feed` returns)."""
        batch = [events] if isinstance(events, ev.Event) else list(events)
        if not batch:
            return
        with self._lock:
            self.begin()
            assert self.writer is not None
            for event in batch:
                if isinstance(event, ev.Summary):
                    self.summary = event
                self.events += 1
                self._guard(lambda event=event: self.writer.write(event))

    __call__ = write

    def advance(self, t: float) -> None:
        """Audio time reached `t`: saves what waits once a second has passed."""
        with self._lock:
            if self.writer is not None:
                self._guard(lambda: self.writer.advance(t))

    @property
    def saved_until(self) -> float:
        return self.writer.saved_until if self.writer is not None else 0.0

    def finish(self, summary: ev.Summary | dict[str, Any] | None = None,
               duration_s: float | None = None) -> str:
        """Save the rest and close the session with its summary (the last one written if None).
        A failure here always raises: the session stays open and is recovered at the next start."""
        with self._lock:
            sid = self.begin()
            assert self.writer is not None
            try:
                self.writer.finish(summary if summary is not None else self.summary, duration_s)
            except SaveError:
                raise
            except CallcueError as err:
                raise SaveError(str(err)) from err
            self.finished = True
            return sid


def start_recording(meta: SessionMeta | dict[str, Any], *, warn: Callable[[str], None],
                    path: str | Path | None = None) -> Recorder | None:
    """A Recorder on its own store for a live call or the demo, or None (said through `warn`) when
    the sessions database cannot be used: the call goes on unsaved rather than not at all."""
    try:
        store, recovered = open_store(path)
    except CallcueError as err:
        warn(f"callcue: this call is not being saved: {err}")
        return None
    if store.read_only:
        store.close()
        warn(f"callcue: this call is not being saved: {store.path} was written by a newer Callcue; update it.")
        return None
    for s in recovered:
        warn(f"callcue: recovered the unfinished session {s.id} ({s.duration_s or 0:.0f} s saved)")
    failures: list[str] = []

    def said(err: CallcueError) -> None:
        if str(err) not in failures:  # once per kind of failure, not every second of a full disk
            failures.append(str(err))
            warn(f"callcue: saving the call: {err}")

    recorder = Recorder(store, meta, on_error=said)
    recorder.owns_store = True
    return recorder


def record(
    events: Iterable[ev.Event | Iterable[ev.Event]],
    store: SessionStore | None = None,
    meta: SessionMeta | dict[str, Any] | None = None,
    *,
    on_commit: Callable[[float], None] | None = None,
    on_error: Callable[[CallcueError], None] | None = None,
) -> str:
    """Save a stream of events (or of batches of events) as one session while it is produced;
    returns the session id. If the stream raises, what was saved stays, the session is left
    open, and the next start recovers it."""
    own = store is None
    if store is None:
        store, _ = open_store()
    try:
        rec = Recorder(store, meta, on_commit=on_commit, on_error=on_error)
        for item in events:
            rec.write(item)
        return rec.finish()
    finally:
        if own:
            store.close()
