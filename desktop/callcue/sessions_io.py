"""Saving a call as a session while it happens: live calls, the demo and `analyze --save`.

    store = open_store()                                    # recovers what a crash left open
    rec = Recorder(store, SessionMeta(kind="live", agent="kim"), on_error=show, engine=engine)
    for chunk in audio:                                     # the worker thread
        rec.write(engine.feed(channel, chunk))
        rec.advance(engine.now)                             # saves every 2 s of audio (playbook [store])
    rec.write(engine.finish())                              # the summary comes last
    rec.finish()

or, for a stream that is already an iterable of events, `record(events, store, meta)`.

Every save goes through `SessionWriter`, on the call's clock: at least every `[store] save_every_s`
(2 s) of audio, with the turn still being spoken (Engine.open_turns) and its latest caption, and
the call's duration so far (a hold too). A crash (kill -9, power cut) loses at most that, and
`SessionStore.recover()` at the next start marks the session `recovered`. Redaction happens in the
store (`callcue.store.callredact`), before anything is written.
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


def save_every_s(engine: Any = None) -> float:
    """How often a call is saved, in seconds of its audio: the playbook's `[store] save_every_s`
    (the engine's playbook, else the default one)."""
    if engine is not None and "store" in engine.playbook.data:
        return float(engine.playbook.section("store")["save_every_s"])
    from callcue.engine.playbook import load_playbook

    return float(load_playbook().section("store")["save_every_s"])


MAX_WAITING = 50_000  # events kept in memory while saves fail: about 10 hours of a busy call


class Recorder:
    """Writes one call to the store as its events arrive; thread-safe.

    The session is begun at the first event (or `begin()`), so a recording that cannot be read
    leaves no empty session behind. Save failures raise `SaveError`, or, when `on_error` is
    given, are handed to it (at most once per failed save) and retried a second of audio later,
    so a live call goes on while the disk is full and nothing already buffered is lost.

    With `on_error`, even the session's start may fail (a disk full when the call begins): the
    events are then held here and written, all of them, once a save works. What waits in memory
    (held here or buffered by the store) is bounded by `max_waiting` events; past it, later
    events are not kept until a save works, said once through `on_error`.
    """

    def __init__(
        self,
        store: SessionStore,
        meta: SessionMeta | dict[str, Any] | None = None,
        *,
        every_s: float | None = None,
        on_commit: Callable[[float], None] | None = None,
        on_error: Callable[[CallcueError], None] | None = None,
        max_waiting: int = MAX_WAITING,
        engine: Any = None,
    ) -> None:
        self.store = store
        self.meta = meta
        self.engine = engine  # an Engine: its turns in progress are saved too (Engine.open_turns)
        self.every_s = every_s if every_s is not None else save_every_s(engine)
        self._partials: dict[str, ev.Partial] = {}  # the latest caption of each speaker's line in progress
        self.max_waiting = max_waiting
        self.dropped = 0  # events not kept because too many were waiting for a save
        self._held: list[ev.Event] = []  # events of a session that could not be begun yet
        self._clock = 0.0
        self._next_try = 0.0
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
            if finished and (sid is not None or self._held):
                sid = self.finish()
            elif self._held and self._started():  # held since a failed start: saved for the next start to recover
                sid = self.session_id
                self.store.flush()
            elif self.owns_store:
                self.store.flush()
        except CallcueError as err:
            if warn is None:
                raise
            if self.session_id is None:
                warn(f"callcue: this call could not be saved: {err}")
            else:
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
            for event in batch:
                if isinstance(event, ev.Summary):
                    self.summary = event
                elif isinstance(event, ev.Partial):
                    self._partials[event.who] = event
                elif isinstance(event, ev.Utterance):
                    self._partials.pop(event.who, None)  # the line is done: its captions are superseded
                self.events += 1
                self._clock = max(self._clock, event.known_at)
            if not self._started():
                for event in batch:
                    self._keep(event)
                return
            for event in batch:
                self._write_one(event)

    __call__ = write

    def _started(self) -> bool:
        """Is the session begun? Tries (again, at most once per `every_s` of audio) when it is not."""
        if self.session_id is not None:
            return True
        if self.on_error is None:
            self.begin()  # raises SaveError
            return True
        if self._clock < self._next_try:
            return False
        self._next_try = self._clock + self.every_s
        try:
            self.begin()
        except SaveError as err:
            self.on_error(err)
            return False
        held, self._held = self._held, []
        for event in held:  # everything since the call began, in order
            self._write_one(event)
        return True

    def _waiting(self) -> int:
        if self.session_id is None:
            return len(self._held)
        return self.store.pending(self.session_id)

    def _full(self, event: ev.Event) -> bool:
        """Too many events wait for a save: this one is not kept (the call's start and summary always are)."""
        if isinstance(event, (ev.CallStart, ev.Summary)) or self._waiting() < self.max_waiting:
            return False
        self.dropped += 1
        if self.dropped == 1 and self.on_error is not None:
            self.on_error(SaveError(
                f"{self.max_waiting} events of this call are waiting in memory for a save that "
                f"works ({self.store.path}); later ones are not kept until one does. Free some disk space."
            ))
        return True

    def _keep(self, event: ev.Event) -> None:
        if isinstance(event, ev.Partial) or self._full(event):
            return  # captions are not stored anyway
        self._held.append(event)

    def _write_one(self, event: ev.Event) -> None:
        assert self.writer is not None
        if self._full(event):
            return
        self._guard(lambda: self.writer.write(event))

    def advance(self, t: float) -> None:
        """Audio time reached `t`: saves what waits once a second has passed."""
        with self._lock:
            self._clock = max(self._clock, t)
            if self.writer is None and self._held:
                self._started()
            if self.writer is not None:
                progress = self._progress()
                self._guard(lambda: self.writer.advance(t, progress))

    def _progress(self) -> list[ev.Event]:
        """The turns still being spoken and their latest captions: saved in place of the last ones,
        so a crash during a long turn keeps all but the last `every_s` of it."""
        turns = list(self.engine.open_turns()) if self.engine is not None else []
        return turns + list(self._partials.values())

    @property
    def saved_until(self) -> float:
        return self.writer.saved_until if self.writer is not None else 0.0

    def finish(self, summary: ev.Summary | dict[str, Any] | None = None,
               duration_s: float | None = None) -> str:
        """Save the rest and close the session with its summary (the last one written if None).
        A failure here always raises: the session stays open and is recovered at the next start."""
        with self._lock:
            held_before = self.session_id is None
            sid = self.begin()
            assert self.writer is not None
            if held_before:
                held, self._held = self._held, []
                for event in held:
                    self._write_one(event)
            try:
                self.writer.finish(summary if summary is not None else self.summary, duration_s)
            except SaveError:
                raise
            except CallcueError as err:
                raise SaveError(str(err)) from err
            self.finished = True
            return sid



def start_recording(meta: SessionMeta | dict[str, Any], *, warn: Callable[[str], None],
                    path: str | Path | None = None, engine: Any = None) -> Recorder | None:
    """A Recorder on its own store for a live call or the demo, or None (said through `warn`) when
    the sessions database cannot be used: the call goes on unsaved rather than not at all.
    `engine`: the call's Engine, so the turn in progress is saved too and the playbook says how
    often to save (without it: saved when events come, at the default playbook's pace)."""
    try:
        store, recovered = open_store(path)
    except CallcueError as err:
        warn(f"callcue: this call is not being saved: {err}")
        return None
    if store.read_only:
        why = store.read_only_why
        store.close()
        if why is not None:
            warn(f"callcue: this call is not being saved: {store.path} cannot be written ({why}); fix its "
                 "permissions or choose another sessions file in settings.")
        else:
            warn(f"callcue: this call is not being saved: {store.path} was written by a newer Callcue; update it.")
        return None
    for s in recovered:
        warn(f"callcue: recovered the unfinished session {s.id} ({s.duration_s or 0:.0f} s saved)")
    failures: list[str] = []

    def said(err: CallcueError) -> None:
        if str(err) not in failures:  # once per kind of failure, not every second of a full disk
            failures.append(str(err))
            warn(f"callcue: saving the call: {err}")

    recorder = Recorder(store, meta, on_error=said, engine=engine)
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
