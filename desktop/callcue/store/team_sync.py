"""Sending the local store's sessions to the team server: at least once, idempotently, never in the call's way.

The local SQLite store is written first, as always; this reads it through its own connection (WAL: a
reader never waits for the recorder) and sends what the server does not hold yet:

  - a session's row (its metadata and summary) whenever it changed: an upsert keyed by session id;
  - its events after the last sequence number the server has (`callcue.sessions.last_seq`), in batches:
    `INSERT ... ON CONFLICT (session_id, seq) DO NOTHING`, and `last_seq` raised in the same transaction.

So a batch sent twice (the server committed, the PC died before noting it) changes nothing, and a PC
resumes from the server's own record: after each (re)connection the local bookkeeping (`team_sync`, how
far the server holds each session) is reset from the server. Only what the local store holds leaves the
PC, and of it neither the recording's path nor the device names; audio is never in the store.

`SyncWorker` does this every few seconds on a thread with its own connection, each round under a deadline
that cuts a connection the server stopped answering, so a dead network costs a retry, never a stall.
"""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from callcue.errors import CallcueError
from callcue.store import team
from callcue.store.redaction import HELD

LOG = logging.getLogger("callcue.team")
BATCH = 500  # events per transaction: a long call's backlog goes in steps that each count
SKIPPED_KINDS = ("demo",)  # a demo is not a call
ROUND_DEADLINE_S = 20.0  # no batch committed for this long: the connection is cut (a server that stopped answering)

# What identifies the state of a session's row: when it changes, the row is sent again.
_META = (
    "s.state || '|' || coalesce(s.duration_s, '') || '|' || coalesce(s.peak_frustration, '') || '|' ||"
    " coalesce(length(s.summary), '') || '|' || coalesce(s.agent, '') || '|' || coalesce(s.profile, '') || '|' ||"
    " coalesce((SELECT group_concat(f.flag, ',') FROM session_flags f WHERE f.session_id = s.id), '')"
)
_MAXSEQ = "coalesce((SELECT max(e.seq) FROM events e WHERE e.session_id = s.id), -1)"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def open_local(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """Our own connection to the local store (already at the latest schema: SessionStore opened it)."""
    conn = sqlite3.connect(path, timeout=5.0, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA foreign_keys = ON")  # an erased session takes its events, flags and bookkeeping
    conn.execute("PRAGMA secure_delete = ON")  # and its pages are zeroed, as the store does
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "team_sync" not in tables:
        conn.close()
        raise CallcueError(f"The sessions database {path} has no team bookkeeping (an older schema); open it "
                           "with this Callcue once (e.g. `callcue review --list`), then sync again.")
    return conn


@dataclass
class Waiting:
    """What the local store holds that the team server does not (as far as this PC knows)."""

    sessions: int = 0
    events: int = 0
    since: str | None = None  # the oldest wait began then (UTC ISO)
    last_ok: str | None = None
    last_error: str | None = None
    last_error_at: str | None = None

    def line(self) -> str:
        if not self.sessions:
            text = "team store: everything sent"
        else:
            text = f"team store: {self.sessions} session(s), {self.events} event(s) waiting since {self.since}"
        if self.last_error and (not self.last_ok or (self.last_error_at or "") > self.last_ok):
            text += f"; last error {self.last_error_at}: {self.last_error}"
        return text


def _pending_sql(where: str = "") -> str:
    return (
        f"SELECT s.id, {_MAXSEQ} AS maxseq, coalesce(ts.seq, -1), {_META} AS meta, ts.meta,"
        " coalesce(ts.synced_at, s.started_at), s.state"
        " FROM sessions s LEFT JOIN team_sync ts ON ts.session_id = s.id"
        f" WHERE s.kind NOT IN ({', '.join(repr(k) for k in SKIPPED_KINDS)}) {where}"
    )


def _pending(local: sqlite3.Connection) -> list[tuple[Any, ...]]:
    rows = local.execute(_pending_sql()).fetchall()
    return [r for r in rows if r[1] > r[2] or r[3] != r[4]]


def waiting(local: sqlite3.Connection) -> Waiting:
    rows = _pending(local)
    state = dict(local.execute("SELECT key, value FROM team_sync_state").fetchall())
    return Waiting(sessions=len(rows), events=sum(max(0, r[1] - r[2]) for r in rows),
                   since=min((r[5] for r in rows), default=None), last_ok=state.get("last_ok"),
                   last_error=state.get("last_error"), last_error_at=state.get("last_error_at"))


def _note(local: sqlite3.Connection, **values: str | None) -> None:
    local.executemany("INSERT OR REPLACE INTO team_sync_state (key, value) VALUES (?, ?)", list(values.items()))


def note_error(local: sqlite3.Connection, message: str) -> None:
    try:
        _note(local, last_error=message, last_error_at=_now())
    except sqlite3.Error:
        pass  # the bookkeeping is a courtesy; the local store's own writes matter, not this


@dataclass
class Report:
    sessions: int = 0  # session rows sent
    events: int = 0  # events sent (a resent one counts, the server keeps it once)
    heartbeats: int = 0
    forgotten: int = 0  # local sessions erased because the server's were (`callcue team forget`)
    expired: int = 0  # local sessions past the retention days, erased
    server_id: str = ""
    errors: list[str] = field(default_factory=list)  # sessions the server refused, one line each


def reconcile(local: sqlite3.Connection, server: Any, dsn: str = "") -> str:
    """Reset the local bookkeeping from what the server holds of this login's sessions."""
    schema = team.check_schema(server, dsn)
    rows = server.execute("SELECT id, last_seq, meta_tag FROM callcue.sessions WHERE login = current_user").fetchall()
    server.commit()
    local.execute("BEGIN IMMEDIATE")
    try:
        local.execute("DELETE FROM team_sync")
        local.executemany(
            "INSERT INTO team_sync (session_id, seq, meta, synced_at) SELECT ?, ?, ?, ? WHERE EXISTS"
            " (SELECT 1 FROM sessions WHERE id = ?)", [(sid, seq, meta, _now(), sid) for sid, seq, meta in rows])
        _note(local, server_id=schema.server_id)
        local.execute("COMMIT")
    except BaseException:
        local.execute("ROLLBACK")
        raise
    return schema.server_id


def _erase(local: sqlite3.Connection, ids: list[str]) -> int:
    """Delete local sessions that are not in progress (a call going on is left to its recorder)."""
    gone = 0
    for sid in ids:
        gone += local.execute("DELETE FROM sessions WHERE id = ? AND state <> 'open'", (sid,)).rowcount
    return gone


def apply_forgotten(local: sqlite3.Connection, server: Any) -> int:
    """Erase here what was erased on the server since the last look; how many sessions went."""
    state = dict(local.execute("SELECT key, value FROM team_sync_state").fetchall())
    seen = int(state.get("forgotten_seen") or 0)
    rows = server.execute("SELECT id, session_id FROM callcue.forgotten WHERE login = current_user AND id > %s"
                          " ORDER BY id", (seen,)).fetchall()
    server.commit()
    if not rows:
        return 0
    gone = _erase(local, [sid for _id, sid in rows])
    _note(local, forgotten_seen=str(rows[-1][0]))
    return gone


def expire(local: sqlite3.Connection, days: float | None) -> int:
    """Erase local sessions (any kind, not in progress) that started more than `days` ago."""
    if days is None:
        return 0
    from datetime import timedelta

    limit = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")
    ids = [r[0] for r in local.execute("SELECT id FROM sessions WHERE started_at < ? AND state <> 'open'", (limit,))]
    return _erase(local, ids)


def _session_row(local: sqlite3.Connection, sid: str) -> tuple[Any, ...] | None:
    return local.execute(
        "SELECT s.kind, s.agent, s.profile, s.started_at, s.duration_s, s.model, s.state, s.summary,"
        " s.peak_frustration, coalesce((SELECT group_concat(f.flag, ',') FROM session_flags f"
        " WHERE f.session_id = s.id), '') FROM sessions s WHERE s.id = ?", (sid,)).fetchone()


def _live_fields(rows: list[tuple[int, str, float, str]]) -> tuple[Any, Any, Any, Any]:
    """The last frustration (level, trend), the last cue and the last event's time, for the floor view."""
    import json

    level = trend = cue = None
    last_t = rows[-1][2] if rows else None
    for _seq, kind, _t, text in rows:
        if kind == "frustration":
            data = json.loads(text)
            level, trend = data.get("level"), data.get("trend")
        elif kind == "cue":
            cue = json.loads(text).get("text")
    return level, trend, cue, last_t


_UPSERT = """
INSERT INTO callcue.sessions AS s (id, agent, kind, profile, started_at, duration_s, model, state, summary,
    peak_frustration, flags, last_seq, meta_tag, frustration, frustration_trend, last_cue, last_event_t, pc,
    seen_at)
VALUES (%(id)s, %(agent)s, %(kind)s, %(profile)s, %(started_at)s, %(duration_s)s, %(model)s, %(state)s,
    %(summary)s::jsonb, %(peak)s, %(flags)s, %(seq)s, %(meta)s, %(level)s, %(trend)s, %(cue)s, %(last_t)s, %(pc)s,
    now())
ON CONFLICT (id) DO UPDATE SET agent = EXCLUDED.agent, profile = EXCLUDED.profile,
    duration_s = EXCLUDED.duration_s, model = EXCLUDED.model, state = EXCLUDED.state, summary = EXCLUDED.summary,
    peak_frustration = EXCLUDED.peak_frustration, flags = EXCLUDED.flags,
    last_seq = greatest(s.last_seq, EXCLUDED.last_seq), meta_tag = EXCLUDED.meta_tag,
    frustration = coalesce(EXCLUDED.frustration, s.frustration),
    frustration_trend = coalesce(EXCLUDED.frustration_trend, s.frustration_trend),
    last_cue = coalesce(EXCLUDED.last_cue, s.last_cue), last_event_t = coalesce(EXCLUDED.last_event_t, s.last_event_t),
    pc = EXCLUDED.pc, seen_at = now()
"""
_EVENTS = ("INSERT INTO callcue.events (session_id, seq, type, t, data) VALUES (%s, %s, %s, %s, %s::jsonb)"
           " ON CONFLICT (session_id, seq) DO NOTHING")


def _send_session(local: sqlite3.Connection, server: Any, sid: str, from_seq: int, meta: str, pc: str,
                  batch: int, kick: Callable[[], None] = lambda: None) -> tuple[int, int]:
    """Send one session's row and its events after `from_seq`; (batches committed, events sent)."""
    commits = sent = 0
    while True:
        row = _session_row(local, sid)
        if row is None:
            return commits, sent  # deleted meanwhile
        events = local.execute("SELECT seq, type, t, json FROM events WHERE session_id = ? AND seq > ?"
                               " ORDER BY seq LIMIT ?", (sid, from_seq, batch)).fetchall()
        more = len(events) == batch
        kind, agent, profile, started_at, duration_s, model, state, summary, peak, flags = row
        if state == "open":
            # A number still held as [digits] is rewritten once the speaker's next words settle it (as [card],
            # or back in clear): what the server gets must be the settled row, so a call in progress is sent
            # up to the first held one, and the rest when it is settled (at the latest when the call ends).
            held = next((i for i, e in enumerate(events) if HELD in e[3]), None)
            if held is not None:
                events, more = events[:held], False
        seq = events[-1][0] if events else from_seq
        level, trend, cue, last_t = _live_fields(events)
        with server.cursor() as cur:
            cur.execute(_UPSERT, dict(
                id=sid, agent=agent, kind=kind, profile=profile, started_at=started_at, duration_s=duration_s,
                model=model, state=state if not more else "open", summary=summary if not more else None,
                peak=peak, flags=[f for f in flags.split(",") if f], seq=seq,
                meta=meta if not more else None, level=level, trend=trend, cue=cue, last_t=last_t, pc=pc))
            if events:
                cur.executemany(_EVENTS, [(sid, s, k, t, text) for s, k, t, text in events])
        server.commit()
        kick()  # the server answers: the deadline starts again
        commits += 1
        sent += len(events)
        # Noted after the server's commit: a crash in between sends the batch again, which changes nothing.
        local.execute("INSERT INTO team_sync (session_id, seq, meta, synced_at) VALUES (?, ?, ?, ?)"
                      " ON CONFLICT (session_id) DO UPDATE SET seq = excluded.seq, meta = excluded.meta,"
                      " synced_at = excluded.synced_at", (sid, seq, meta if not more else None, _now()))
        if not more:
            return commits, sent
        from_seq = seq


def sync_once(local: sqlite3.Connection, server: Any, *, live: Iterable[str] = (), batch: int = BATCH,
              pc: str | None = None, fresh: bool = False, dsn: str = "",
              retention_days: float | None = None, kick: Callable[[], None] = lambda: None) -> Report:
    """One round: everything waiting goes to the server. `fresh`: a new connection, so the bookkeeping
    is first reset from the server's record. `live`: sessions in progress here (their rows are touched
    even without new events, so the floor view knows the PC is alive)."""
    import psycopg

    report = Report()
    if fresh:
        report.server_id = reconcile(local, server, dsn)
    report.forgotten = apply_forgotten(local, server)  # before anything is sent: never send an erased call again
    report.expired = expire(local, retention_days)
    pc = pc or socket.gethostname()
    pending = _pending(local)
    pending.sort(key=lambda r: (r[6] != "open", r[5]))  # calls in progress first: the floor view waits
    touched: set[str] = set()
    for sid, _maxseq, synced, meta, _old, _since, _state in pending:
        try:
            _commits, sent = _send_session(local, server, sid, synced, meta, pc, batch, kick)
        except psycopg.errors.InsufficientPrivilege as err:
            server.rollback()  # e.g. an id another login owns: that session waits, the others go
            report.errors.append(f"session {sid}: {team._first(err)}")
            continue
        report.sessions += 1
        report.events += sent
        touched.add(sid)
    beats = [sid for sid in live if sid not in touched]
    if beats:
        server.execute("UPDATE callcue.sessions SET seen_at = now() WHERE id = ANY(%s) AND state = 'open'", (beats,))
        server.commit()
        report.heartbeats = len(beats)
    _note(local, last_ok=_now())
    return report


class _Deadline:
    """Cuts a connection's socket when the server has not answered for `seconds` (no batch committed):
    a blocked read then fails at once (libpq has no timeout of its own for a server that stopped
    answering mid-query). Each committed batch `kick()`s it, so a long backlog is not cut."""

    def __init__(self, server: Any, seconds: float) -> None:
        self._server = server
        self._seconds = seconds
        self._lock = threading.Lock()
        self._timer = self._new()
        self.fired = False

    def _new(self) -> threading.Timer:
        timer = threading.Timer(self._seconds, self._cut, args=(self._server,))
        timer.daemon = True
        return timer

    def kick(self) -> None:
        with self._lock:
            if self.fired:
                return
            self._timer.cancel()
            self._timer = self._new()
            self._timer.start()

    def _cut(self, server: Any) -> None:
        self.fired = True
        try:
            fd = server.pgconn.socket
            sock = socket.socket(fileno=os.dup(fd))
            try:
                sock.shutdown(socket.SHUT_RDWR)
            finally:
                sock.close()
        except (OSError, Exception):  # noqa: BLE001 - the connection may be gone already
            pass

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._timer.cancel()


def sync(store_path: str | os.PathLike[str], dsn: str, *, live: Iterable[str] = (), batch: int = BATCH,
         deadline_s: float = ROUND_DEADLINE_S, retention_days: float | None = None) -> Report:
    """Connect, send everything waiting, disconnect (`callcue team sync`). Errors as TeamError, noted locally."""
    import psycopg

    local = open_local(store_path)
    try:
        try:
            server = team.connect(dsn, action="syncing")
        except team.TeamError as err:
            note_error(local, str(err))
            raise
        try:
            with _Deadline(server, deadline_s) as cut:
                try:
                    return sync_once(local, server, live=live, batch=batch, fresh=True, dsn=dsn,
                                     retention_days=retention_days, kick=cut.kick)
                except psycopg.Error as err:
                    error = _timed_out(dsn, deadline_s) if cut.fired else team.explain(err, dsn, "syncing")
                except team.TeamError as err:
                    error = err
            note_error(local, str(error))
            raise error
        finally:
            server.close()
    finally:
        local.close()


def _timed_out(dsn: str, seconds: float) -> team.TeamError:
    return team.TeamError(f"The team server {team.where(dsn)} stopped answering (no reply within {seconds:g} s, "
                          "while syncing); sessions wait on this PC and are sent when it answers.")


class SyncWorker:
    """Syncs in the background every `every_s` seconds until stopped, and once more at the end.

    Its own thread and connections (local and server); failures are noted (`status()`, the local
    bookkeeping) and retried with a growing pause, up to `max_pause_s`. Nothing it does waits on the
    call, and the call never waits on it: `stop()` gives it `final_s` to send the last events."""

    def __init__(self, store_path: str | os.PathLike[str], dsn: str, *, every_s: float = 2.0,
                 live: Callable[[], Iterable[str]] = lambda: (), max_pause_s: float = 30.0,
                 deadline_s: float = ROUND_DEADLINE_S, on_status: Callable[[str], None] | None = None,
                 retention_days: float | None = None) -> None:
        self.store_path = Path(store_path)
        self.dsn = dsn
        self.every_s = every_s
        self.live = live
        self.max_pause_s = max_pause_s
        self.deadline_s = deadline_s
        self.on_status = on_status
        self.retention_days = retention_days
        self.rounds = 0
        self.last_error: str | None = None
        self.sent_events = 0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="callcue-team-sync", daemon=True)
        self._server: Any = None
        self._local: sqlite3.Connection | None = None

    def start(self) -> SyncWorker:
        self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def stop(self, final_s: float = 5.0) -> None:
        """Ask for a last round and stop; waits at most `final_s` (what is left waits for the next run)."""
        self._stop.set()
        self._wake.set()
        self._thread.join(final_s)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def status(self) -> Waiting:
        try:
            local = open_local(self.store_path)
        except (sqlite3.Error, CallcueError):
            return Waiting(last_error=self.last_error)
        try:
            return waiting(local)
        except sqlite3.Error:
            return Waiting(last_error=self.last_error)
        finally:
            local.close()

    def _drop(self) -> None:
        if self._server is not None:
            try:
                self._server.close()
            except Exception:  # noqa: BLE001 - a cut connection may fail to close; it is gone either way
                pass
        self._server = None

    def _round(self) -> None:
        import psycopg

        assert self._local is not None
        fresh = self._server is None
        if fresh:
            self._server = team.connect(self.dsn, action="syncing")
        with _Deadline(self._server, self.deadline_s) as cut:
            try:
                report = sync_once(self._local, self._server, live=list(self.live()), fresh=fresh, dsn=self.dsn,
                                   retention_days=self.retention_days, kick=cut.kick)
            except psycopg.Error as err:
                self._drop()
                raise (_timed_out(self.dsn, self.deadline_s) if cut.fired
                       else team.explain(err, self.dsn, "syncing")) from None
            except team.TeamError:
                self._drop()
                raise
        self.sent_events += report.events
        if report.errors:
            self.last_error = report.errors[0]

    def _run(self) -> None:
        pause = self.every_s
        try:
            self._local = open_local(self.store_path)
        except (sqlite3.Error, CallcueError) as err:
            self.last_error = str(err)
            LOG.warning("team sync off: %s", err)
            return
        try:
            while True:
                stopping = self._stop.is_set()
                try:
                    self._round()
                    self.rounds += 1
                    if self.last_error and self.on_status:
                        self.on_status("team store: connected again")
                    self.last_error = None
                    pause = self.every_s
                except (team.TeamError, sqlite3.Error) as err:
                    message = str(err)
                    if message != self.last_error:
                        LOG.warning("%s", message)
                        if self.on_status:
                            self.on_status(message)
                    self.last_error = message
                    note_error(self._local, message)
                    pause = min(self.max_pause_s, max(self.every_s, pause * 2))
                except Exception as err:  # noqa: BLE001 - a bug here must not end a call; it is logged
                    LOG.exception("team sync failed")
                    self.last_error = f"{type(err).__name__}: {err}"
                    self._drop()
                    pause = self.max_pause_s
                if stopping:
                    return
                self._wake.wait(pause)
                self._wake.clear()
        finally:
            self._drop()
            self._local.close()


def start_background(store_path: str | os.PathLike[str], dsn: str | None, **kwargs: Any) -> SyncWorker | None:
    """A running SyncWorker when a team server is configured (None otherwise, or with a bad DSN: logged)."""
    if not dsn:
        return None
    try:
        team.conninfo(dsn)
    except team.TeamError as err:
        LOG.warning("%s", err)
        return None
    return SyncWorker(store_path, dsn, **kwargs).start()
