"""The session store: every call, demo, analysed recording or chat as a durable, private record.

One SQLite file (stdlib sqlite3) in WAL mode, readable by its owner only. A
session is a row of metadata plus its event stream (the events of
docs/events.md, cue actions included), written during the call by a
`SessionWriter` that commits on the call's clock (every `every_s` of audio,
2 s from the playbook's `[store] save_every_s` via sessions_io), with what is in
progress (`set_progress`: the open turn, its caption) and the duration so far, so
a crash loses at most that much. Everything passes through the session's
`callcue.store.callredact.CallRedactor` before it is written: a number read out over
several utterances is held as `[digits]` until it is settled, then its rows are
rewritten (as `[card]`..., or in clear for an ordinary number) at the next commit.

Errors reach the caller as `CallcueError` with the file, what happened and what
to do; what was already committed is never touched by an error path. A
database from a newer Callcue is opened read-only; a damaged file is moved
aside (never deleted or overwritten) and reported.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import sqlite3
import sys
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from callcue import paths
from callcue.engine import events as ev
from callcue.errors import CallcueError
from callcue.store import schema
from callcue.store.callredact import CallRedactor
from callcue.store.redaction import redact, redact_event, redact_value

KINDS = ("live", "demo", "analyze", "chat")
STATES = ("open", "finished", "recovered")
DB_NAME = "sessions.db"
DEFAULT_TIMEOUT_S = 5.0


def default_path() -> Path:
    """Where sessions live unless settings name another file."""
    return paths.user_data_dir() / DB_NAME


@dataclass
class SessionMeta:
    """What `SessionStore.begin` records about a session before its first event."""

    kind: str = "live"  # live | demo | analyze | chat
    agent: str | None = None
    profile: str | None = None
    started_at: datetime | str | None = None  # wall clock; now if None
    duration_s: float | None = None
    devices: dict[str, Any] | list[Any] | None = None
    model: str | None = None
    source: str | None = None  # the recording or transcript a session was analysed from
    flags: list[str] = field(default_factory=list)


@dataclass
class StoredSession:
    """A session as stored: metadata, and its events when loaded with `SessionStore.load`."""

    id: str
    kind: str
    agent: str | None
    profile: str | None
    started_at: str  # ISO 8601, UTC
    duration_s: float | None
    devices: Any
    model: str | None
    source: str | None
    state: str  # open | finished | recovered
    summary: dict[str, Any] | None
    peak_frustration: float | None
    flags: list[str]
    events: list[ev.Event] = field(default_factory=list)
    skipped_events: int = 0  # stored events of types this version does not know

    def summary_event(self) -> ev.Summary | None:
        if not self.summary:
            return None
        event = ev.from_dict({"type": "summary", **self.summary})
        return event if isinstance(event, ev.Summary) else None

    def transcript(self) -> list[ev.Utterance]:
        return [e for e in self.events if isinstance(e, ev.Utterance)]

    def started(self) -> datetime:
        """Start time in the local time zone, for display."""
        return datetime.fromisoformat(self.started_at).astimezone()



def _utc_iso(value: datetime | str | None) -> str:
    if value is None:
        moment = datetime.now(UTC)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError as err:
            raise CallcueError(
                f"Session start time {value!r} is not an ISO 8601 date and time "
                "(like 2024-05-01T10:30:00); pass a datetime or an ISO string."
            ) from err
    else:
        moment = value
    if moment.tzinfo is None:
        moment = moment.astimezone()  # naive means local time
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _bound(value: date | datetime | str | None, end: bool) -> tuple[str, bool] | None:
    """A date-range bound as (UTC ISO string, exclusive). A plain date means that local day,
    included: as an upper bound it becomes the next midnight, exclusive."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
        except ValueError as err:
            raise CallcueError(f"Date {value!r} is not ISO 8601 (like 2024-05-01); fix the filter.") from err
    if isinstance(value, datetime):
        return _utc_iso(value), False
    day = value + timedelta(days=1) if end else value
    return _utc_iso(datetime.combine(day, time.min)), end


def _process_start(pid: int) -> str:
    """The kernel's start time of a process (Linux), so a reused pid is not taken for the owner."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rpartition(")")[2].split()[19]


def _owner_token() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{_process_start(os.getpid())}"


def _pid_alive(pid: int) -> bool:
    if sys.platform == "win32":
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        try:
            ok = kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        finally:
            kernel32.CloseHandle(handle)
        return bool(ok) and code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return True
    return state != "Z"  # a zombie has died; only its exit status is left


def owner_alive(owner: str | None) -> bool:
    """Is the process that opened a session still running? Unknown hosts count as alive."""
    if not owner:
        return False
    host, pid_text, started = (owner.split(":") + ["", ""])[:3]
    if host != socket.gethostname():
        return True
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if pid == os.getpid():
        return True
    if not _pid_alive(pid):
        return False
    return not started or _process_start(pid) in ("", started)


class SessionStore:
    """The sessions database. Thread-safe; one instance per process is enough.

    `path` defaults to `default_path()`. `timeout` is how long to wait for another
    process's lock before giving up with a clear message. `max_bytes` caps the
    database size (SQLite's max_page_count): past it, writes fail as on a full disk.
    `redaction` tunes the redaction across a call (`CallRedactor`'s gap_s, after_card_s, asked_s).
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_bytes: int | None = None,
        redaction: dict[str, float] | None = None,
    ) -> None:
        self.path = Path(path) if path is not None else default_path()
        self._redaction = dict(redaction or {})  # CallRedactor's gap_s, after_card_s, asked_s
        self.timeout = timeout
        self.read_only = False
        self.damaged: str | None = None  # why it is damaged, once SQLite said so: never written again
        self.read_only_why: str | None = None  # "the folder is read-only", ...; None: a newer schema
        self._created = False
        self.version = 0
        self.migrated_from: int | None = None
        self._max_bytes: int | None = None
        self._lock = threading.RLock()
        self._buffers: dict[str, list[tuple[str, int, str, float, str]]] = {}
        # Events already committed whose stored form changed (a held number settled): seq -> row.
        self._rewrites: dict[str, dict[int, tuple[str, int, str, float, str]]] = {}
        self._redactors: dict[str, CallRedactor] = {}
        # What is in progress (the turn being spoken, its latest caption): rows replaced at each
        # flush, dropped when the session finishes (its final events supersede them).
        self._tails: dict[str, list[ev.Event]] = {}
        self._tail_seqs: dict[str, list[int]] = {}
        self._tail_dirty: set[str] = set()
        self._next_seq: dict[str, int] = {}
        self._clock: dict[str, float] = {}
        self._committed_clock: dict[str, float] = {}
        self._peak: dict[str, float] = {}
        self._flags: dict[str, set[str]] = {}
        self._owner = _owner_token()
        self._conn = self._open()
        if max_bytes is not None:
            self.set_size_limit(max_bytes)

    # -- opening --------------------------------------------------------------------------

    def _cannot_write(self) -> str | None:
        """Why an existing database cannot be written (read-only folder, file or disk), or None."""
        folder = self.path.parent
        if not self.path.exists():
            return None
        if not os.access(folder, os.W_OK | os.X_OK):
            return f"its folder {folder} is read-only"
        if not os.access(self.path, os.W_OK):
            return "the file is read-only"
        return None

    def _prepare_dir(self) -> None:
        folder = self.path.parent
        private = self.path == default_path() or not folder.exists()
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            if private and os.name == "posix":
                folder.chmod(0o700)
            if not self.path.exists():
                # Create the file ourselves so it is private from its first byte; SQLite gives
                # the -wal and -shm files the database file's mode.
                try:
                    os.close(os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
                    self._created = True
                except FileExistsError:
                    pass  # another Callcue made it a moment ago
        except OSError as err:
            raise CallcueError(
                f"Cannot create the sessions database {self.path}: {err.strerror or err}. "
                "Check that the folder is writable, or choose another sessions file in settings."
            ) from err

    def _secure_files(self) -> None:
        if os.name != "posix":
            return  # on Windows the per-user profile's ACLs keep it private
        for suffix in ("", "-wal", "-shm"):
            try:
                os.chmod(f"{self.path}{suffix}", 0o600)
            except FileNotFoundError:
                pass
            except OSError:
                pass  # a file we do not own (shared folder): leave its mode to its owner

    def _open(self) -> sqlite3.Connection:
        why = self._cannot_write()
        if why is not None:
            return self._open_read_only(why)
        try:
            return self._open_writable()
        except BaseException:
            self._remove_if_created()
            raise

    def _remove_if_created(self) -> None:
        """A database this store created and could not set up (full disk) leaves no empty file."""
        if not self._created:
            return
        for suffix in ("-wal", "-shm", ""):
            try:
                if os.path.getsize(f"{self.path}{suffix}") == 0 or suffix == "-shm":
                    os.remove(f"{self.path}{suffix}")
            except OSError:
                pass

    def _open_read_only(self, why: str) -> sqlite3.Connection:
        """Open an existing database that cannot be written: read it, never change it."""
        from urllib.parse import quote

        uri = f"file:{quote(str(self.path.resolve()))}?mode=ro"
        if not os.path.exists(f"{self.path}-wal"):
            # Without a -wal there is nothing beyond the main file; SQLite could not make the
            # -shm index in a read-only folder, so read the file as it is.
            uri += "&immutable=1"
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=self.timeout, isolation_level=None,
                                   check_same_thread=False)
            with self._errors("opening it read-only", conn=None):
                self.version = schema.user_version(conn)
        except sqlite3.Error as err:
            raise CallcueError(
                f"Cannot read the sessions database {self.path} ({why}): {err}. "
                "Check the folder's permissions, or choose another sessions file in settings."
            ) from err
        self.read_only = True
        self.read_only_why = why
        return conn

    def _open_writable(self) -> sqlite3.Connection:
        self._prepare_dir()
        # Look at the header before SQLite does: on a file that is not a database it may tidy
        # away a -wal it cannot use, and the backup must hold everything as it was.
        try:
            with open(self.path, "rb") as fh:
                header = fh.read(16)
        except OSError as err:
            raise CallcueError(
                f"Cannot read the sessions database {self.path}: {err.strerror or err}. "
                "Check the file's permissions, or choose another sessions file in settings."
            ) from err
        if header and header != b"SQLite format 3\x00":
            raise self._move_aside("file is not a database")
        try:
            conn = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as err:
            raise CallcueError(
                f"Cannot open the sessions database {self.path}: {err}. "
                "Check the file's permissions, or choose another sessions file in settings."
            ) from err
        try:
            with self._errors("opening it", conn=conn):
                tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                self.version = schema.user_version(conn)
                if self.version > schema.LATEST:
                    self.read_only = True
                    return conn
                if self.version == 0 and tables:
                    raise CallcueError(
                        f"{self.path} is an SQLite database but not a Callcue sessions database "
                        f"(it has tables {', '.join(sorted(tables))}). It was left untouched; "
                        "choose another sessions file in settings."
                    )
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise CallcueError(
                        f"Cannot switch the sessions database {self.path} to WAL mode (it stays "
                        f"{mode}); put it on a local disk, not a network share."
                    )
                conn.execute("PRAGMA synchronous = FULL")
                conn.execute("PRAGMA foreign_keys = ON")
                conn.execute("PRAGMA secure_delete = ON")  # deleted sessions are zeroed, not left in free pages
                if self.version < schema.LATEST:
                    with self._errors(f"upgrading it from schema version {self.version} to {schema.LATEST}"):
                        before, self.version = schema.migrate(conn)
                    self.migrated_from = before
        except BaseException:
            conn.close()
            raise
        self._secure_files()
        return conn

    def _move_aside(self, reason: str) -> CallcueError:
        """Back up a damaged database file (and its -wal/-shm) untouched, and say where."""
        stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
        backup = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while backup.exists():
            n += 1
            backup = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
        try:
            for suffix in ("", "-wal", "-shm"):
                src = Path(f"{self.path}{suffix}")
                if src.exists():
                    os.replace(src, f"{backup}{suffix}")
        except OSError as err:
            return CallcueError(
                f"The sessions database {self.path} is damaged ({reason}) and could not be moved "
                f"aside ({err.strerror or err}); it was left as it is. Move it away yourself, "
                "then start Callcue again to begin a new sessions database."
            )
        return CallcueError(
            f"The sessions database {self.path} is damaged ({reason}). It was moved, untouched, "
            f"to {backup}; nothing was deleted. Callcue starts a new, empty sessions database "
            "the next time it opens; to rescue old sessions try "
            f"`sqlite3 {backup} .recover | sqlite3 rescued.db`."
        )

    # -- errors ---------------------------------------------------------------------------

    @contextmanager
    def _errors(self, action: str, conn: sqlite3.Connection | None = None) -> Iterator[None]:
        """Turn SQLite's errors into messages that say what happened, where, and what to do."""
        try:
            yield
        except CallcueError:
            raise
        except sqlite3.OperationalError as err:
            text = str(err).lower()
            if "locked" in text or "busy" in text:
                raise CallcueError(
                    f"The sessions database {self.path} is locked by another program (waited "
                    f"{self.timeout:g} s while {action}). Close other Callcue windows or any tool "
                    "that has the file open, then try again; nothing already saved was lost."
                ) from err
            if "full" in text:
                limit = (
                    f" or reached the {self._max_bytes // 1024} KiB size limit set in settings"
                    if self._max_bytes else ""
                )
                raise CallcueError(
                    f"The disk holding {self.path} is full{limit} (while {action}). Everything "
                    "saved before this is kept; events not yet saved stay in memory and are "
                    "written at the next save. Free some disk space."
                ) from err
            if "readonly" in text or "read-only" in text:
                raise CallcueError(
                    f"The sessions database {self.path} cannot be written (while {action}): "
                    "the file or its folder is read-only. Fix its permissions or choose another "
                    "sessions file in settings."
                ) from err
            if "no such table" in text or "no such column" in text:
                raise CallcueError(
                    f"The sessions database {self.path} does not have the layout this Callcue "
                    f"expects ({err}, while {action}). Update Callcue, or choose another "
                    "sessions file in settings."
                ) from err
            raise CallcueError(
                f"The sessions database {self.path} failed while {action}: {err}. "
                "Nothing already saved was changed; check the disk and try again."
            ) from err
        except sqlite3.DatabaseError as err:
            text = str(err).lower()
            if conn is not None and ("not a database" in text or "malformed" in text or "corrupt" in text):
                conn.close()
                raise self._move_aside(str(err)) from err
            self.damaged = str(err)  # from now on nothing is written into it
            raise CallcueError(
                f"The sessions database {self.path} is damaged ({err}, while {action}). It was "
                "left as it is: close Callcue, copy the file somewhere safe, then try "
                f"`sqlite3 {self.path} .recover | sqlite3 rescued.db`, or choose another sessions "
                "file in settings; nothing more is written into it."
            ) from err

    def _writable(self, action: str) -> None:
        if self.damaged is not None:
            raise CallcueError(
                f"The sessions database {self.path} is damaged ({self.damaged}), so it is not used for "
                f"{action}: nothing is written into a damaged file. Close Callcue, copy the file somewhere "
                f"safe, then try `sqlite3 {self.path} .recover | sqlite3 rescued.db`, or choose another "
                "sessions file in settings."
            )
        if self.read_only and self.read_only_why is not None:
            raise CallcueError(
                f"The sessions database {self.path} cannot be written ({self.read_only_why}), so it "
                f"was only read and cannot be used for {action}. Fix the permissions, or choose "
                "another sessions file in settings."
            )
        if self.read_only:
            raise CallcueError(
                f"The sessions database {self.path} was written by a newer Callcue (schema "
                f"version {self.version}; this one knows up to {schema.LATEST}), so it was not "
                f"changed and cannot be used for {action}. Update Callcue, or choose another "
                "sessions file in settings."
            )

    @contextmanager
    def _transaction(self, action: str) -> Iterator[sqlite3.Connection]:
        with self._lock, self._errors(action):
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                try:
                    self._conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass  # SQLite already rolled back (a full disk does that)
                raise

    def check(self) -> None:
        """Read the whole file for damage (SQLite's quick_check; slow on a large file, so not done
        at every start). A damaged file is closed, moved aside untouched and reported."""
        with self._lock, self._errors("checking it", conn=self._conn):
            problems = [row[0] for row in self._conn.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            self._conn.close()
            raise self._move_aside("; ".join(problems[:3]))

    def set_size_limit(self, max_bytes: int | None) -> None:
        """Cap the database at about `max_bytes` (None: no cap beyond the disk's own)."""
        with self._lock, self._errors("setting its size limit"):
            page = int(self._conn.execute("PRAGMA page_size").fetchone()[0])
            pages = max(1, max_bytes // page) if max_bytes else 1073741823
            self._conn.execute(f"PRAGMA max_page_count = {pages:d}")
            self._max_bytes = max_bytes

    # -- writing --------------------------------------------------------------------------

    def begin(self, meta: SessionMeta | dict[str, Any] | None = None) -> str:
        """Record a new open session; returns its id (12 hex characters)."""
        self._writable("recording a session")
        if meta is None:
            meta = SessionMeta()
        elif isinstance(meta, dict):
            unknown = set(meta) - {f.name for f in dataclasses.fields(SessionMeta)}
            if unknown:
                raise CallcueError(
                    f"Unknown session field(s) {', '.join(sorted(unknown))}; known: "
                    f"{', '.join(f.name for f in dataclasses.fields(SessionMeta))}."
                )
            meta = SessionMeta(**meta)
        if meta.kind not in KINDS:
            raise CallcueError(f"Session kind {meta.kind!r} is not one of {', '.join(KINDS)}.")
        sid = uuid.uuid4().hex[:12]
        devices = json.dumps(redact_value(meta.devices), ensure_ascii=False) if meta.devices is not None else None
        flags = {redact(f) for f in meta.flags}
        with self._transaction("starting a session") as conn:
            conn.execute(
                "INSERT INTO sessions (id, kind, agent, profile, started_at, duration_s, devices, model,"
                " source, state, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?)",
                (
                    sid, meta.kind, _redact_opt(meta.agent), _redact_opt(meta.profile),
                    _utc_iso(meta.started_at), meta.duration_s, devices, _redact_opt(meta.model),
                    _redact_opt(meta.source), self._owner,
                ),
            )
            conn.executemany("INSERT INTO session_flags VALUES (?, ?)", [(sid, f) for f in sorted(flags)])
        self._secure_files()
        self._next_seq[sid] = 0
        self._flags[sid] = set(flags)
        return sid

    def append(self, session_id: str, events: Iterable[ev.Event]) -> int:
        """Redact and buffer events for a session; `flush()` commits them. Returns how many
        events are waiting to be committed for that session."""
        self._writable("recording events")
        with self._lock:
            if session_id not in self._next_seq:
                self._adopt(session_id)
            buffer = self._buffers.setdefault(session_id, [])
            redactor = self._redactor(session_id)
            for event in events:
                seq = self._next_seq[session_id]
                self._next_seq[session_id] = seq + 1
                clean = redactor.add(seq, event)
                row = self._row(session_id, seq, clean)
                buffer.append(row)
                self._clock[session_id] = max(self._clock.get(session_id, 0.0), clean.known_at)
                if isinstance(clean, ev.Frustration):
                    self._peak[session_id] = max(self._peak.get(session_id, 0.0), float(clean.level))
                if schema.escalation_in(json.loads(row[4])):
                    self._flags.setdefault(session_id, set()).add("escalation")
            self._take_rewrites(session_id)
            return len(buffer)

    def _redactor(self, session_id: str) -> CallRedactor:
        """The session's redaction, which remembers what each speaker is reading out."""
        redactor = self._redactors.get(session_id)
        if redactor is None:
            redactor = self._redactors[session_id] = CallRedactor(**self._redaction)
        return redactor

    @staticmethod
    def _row(session_id: str, seq: int, clean: ev.Event) -> tuple[str, int, str, float, str]:
        data = clean.to_dict()
        return (session_id, seq, clean.type, round(clean.time, 3),
                json.dumps(data, ensure_ascii=False, separators=(",", ":")))

    def _take_rewrites(self, session_id: str) -> None:
        """Put the redactor's settled numbers into the rows: in the buffer if not yet committed,
        else as a rewrite of the committed row at the next flush."""
        redactor = self._redactors.get(session_id)
        if redactor is None:
            return
        updates = redactor.take_updates()
        if not updates:
            return
        buffer = self._buffers.get(session_id, [])
        where = {row[1]: i for i, row in enumerate(buffer)}
        for seq, event in updates.items():
            row = self._row(session_id, seq, event)
            if seq in where:
                buffer[where[seq]] = row
            else:
                self._rewrites.setdefault(session_id, {})[seq] = row

    def advance(self, session_id: str, t: float) -> None:
        """Call time reached `t` without events: the session's duration is `t` at the next flush
        (a crash during a hold keeps the hold), and a number not continued in time is settled
        (its rows rewritten at the next flush)."""
        with self._lock:
            if session_id in self._next_seq:
                self._clock[session_id] = max(self._clock.get(session_id, 0.0), t)
            redactor = self._redactors.get(session_id)
            if redactor is not None:
                redactor.advance(t)
                self._take_rewrites(session_id)

    def set_progress(self, session_id: str, events: Iterable[ev.Event]) -> None:
        """What is in progress now (open turns as Speech events, the latest partial caption of each
        speaker): stored at the next flush in place of the previous ones, redacted like the rest
        (a partial's numbers are all hidden), and dropped when the session finishes."""
        with self._lock:
            tail = list(events)
            if tail != self._tails.get(session_id, []):
                self._tails[session_id] = tail
                self._tail_dirty.add(session_id)

    def unsaved(self, session_id: str) -> bool:
        """Is anything of the session not yet committed (events, rewrites, progress, its clock)?"""
        with self._lock:
            return bool(self._buffers.get(session_id) or self._rewrites.get(session_id)
                        or session_id in self._tail_dirty
                        or self._clock.get(session_id, 0.0) > self._committed_clock.get(session_id, 0.0))

    def _write_tail(self, conn: sqlite3.Connection, sid: str, keep: bool) -> list[int]:
        """Replace the session's progress rows; returns the seqs of the new ones."""
        old = self._tail_seqs.get(sid, [])
        if old:
            conn.executemany("DELETE FROM events WHERE session_id = ? AND seq = ?", [(sid, q) for q in old])
        if not keep:
            return []
        redactor = self._redactor(sid)
        seqs: list[int] = []
        for event in self._tails.get(sid, []):
            seq = self._next_seq[sid]
            self._next_seq[sid] = seq + 1
            clean = redactor.progress(event)
            conn.execute("INSERT INTO events (session_id, seq, type, t, json) VALUES (?, ?, ?, ?, ?)",
                         self._row(sid, seq, clean))
            seqs.append(seq)
        return seqs

    def _adopt(self, session_id: str) -> None:
        """Append to a session begun by another store object (or an earlier run)."""
        with self._errors("finding the session"):
            row = self._conn.execute(
                "SELECT (SELECT max(seq) FROM events WHERE session_id = s.id), s.peak_frustration"
                " FROM sessions s WHERE s.id = ?",
                (session_id,),
            ).fetchone()
            if row is None:
                raise CallcueError(f"No session {session_id!r} in {self.path}; begin() one first.")
            flags = {r[0] for r in self._conn.execute(
                "SELECT flag FROM session_flags WHERE session_id = ?", (session_id,))}
        self._next_seq[session_id] = 0 if row[0] is None else int(row[0]) + 1
        if row[1] is not None:
            self._peak[session_id] = float(row[1])
        self._flags[session_id] = flags

    def rewrites(self, session_id: str) -> int:
        """Committed events whose stored form changed and waits for the next flush."""
        with self._lock:
            return len(self._rewrites.get(session_id, {}))

    def pending(self, session_id: str | None = None) -> int:
        """Events buffered and not yet committed."""
        with self._lock:
            if session_id is not None:
                return len(self._buffers.get(session_id, []))
            return sum(len(b) for b in self._buffers.values())

    def _write_buffers(self, conn: sqlite3.Connection, ids: list[str]) -> None:
        for sid in ids:
            rows = self._buffers.get(sid)
            if rows:
                conn.executemany("INSERT INTO events (session_id, seq, type, t, json) VALUES (?, ?, ?, ?, ?)", rows)
            rewrites = self._rewrites.get(sid)
            if rewrites:
                conn.executemany(
                    "UPDATE events SET type = ?, t = ?, json = ? WHERE session_id = ? AND seq = ?",
                    [(r[2], r[3], r[4], r[0], r[1]) for r in rewrites.values()],
                )
            conn.execute(
                "UPDATE sessions SET duration_s = max(coalesce(duration_s, 0), ?),"
                " peak_frustration = CASE WHEN ? IS NULL THEN peak_frustration"
                " ELSE max(coalesce(peak_frustration, 0), ?) END WHERE id = ?",
                (self._clock.get(sid, 0.0), self._peak.get(sid), self._peak.get(sid), sid),
            )
            conn.executemany(
                "INSERT OR IGNORE INTO session_flags VALUES (?, ?)",
                [(sid, f) for f in sorted(self._flags.get(sid, ()))],
            )

    def flush(self, session_id: str | None = None) -> int:
        """Commit buffered events (of one session, or all); returns how many were committed.

        On failure (locked, disk full) nothing is half-written: the events stay buffered
        and the next flush tries again."""
        with self._lock:
            ids = [session_id] if session_id is not None else list(self._next_seq)
            ids = [sid for sid in ids if sid in self._next_seq and self.unsaved(sid)]
            if not ids:
                return 0
            self._writable("recording events")
            next_seq = dict(self._next_seq)
            tails: dict[str, list[int]] = {}
            try:
                with self._transaction("saving events") as conn:
                    self._write_buffers(conn, ids)
                    for sid in ids:
                        if sid in self._tail_dirty:
                            tails[sid] = self._write_tail(conn, sid, keep=True)
            except BaseException:
                self._next_seq.update(next_seq)  # the progress rows were not written
                raise
            count = 0
            for sid in ids:
                count += len(self._buffers.pop(sid, []))
                self._rewrites.pop(sid, None)
                self._committed_clock[sid] = self._clock.get(sid, 0.0)
                if sid in tails:
                    self._tail_seqs[sid] = tails[sid]
                    self._tail_dirty.discard(sid)
        self._secure_files()
        return count

    def finish(
        self,
        session_id: str,
        summary: ev.Summary | dict[str, Any] | None = None,
        duration_s: float | None = None,
    ) -> None:
        """Commit what is buffered and close the session with its summary (redacted).

        Without a summary, the last `summary` event of the stream is used, if any."""
        self._writable("finishing a session")
        with self._lock:
            if session_id not in self._next_seq:
                self._adopt(session_id)
            redactor = self._redactors.get(session_id)
            if redactor is not None:
                redactor.close()  # the call is over: every held number is settled now
                self._take_rewrites(session_id)
                if isinstance(summary, ev.Summary):
                    masked = redactor.add(-1, summary)  # quotes of settled numbers masked too
                    summary = masked if isinstance(masked, ev.Summary) else summary
            with self._transaction("finishing the session") as conn:
                self._write_buffers(conn, [session_id])
                self._write_tail(conn, session_id, keep=False)  # the final events supersede the progress
                summary_dict = self._summary_dict(conn, session_id, summary)
                peak = summary_dict.get("frustration_peak") if summary_dict else None
                if duration_s is None and summary_dict and summary_dict.get("duration_s"):
                    duration_s = float(summary_dict["duration_s"])
                conn.execute(
                    "UPDATE sessions SET state = 'finished', owner = NULL, summary = ?,"
                    " duration_s = coalesce(?, duration_s),"
                    " peak_frustration = CASE WHEN ? IS NULL THEN peak_frustration"
                    " ELSE max(coalesce(peak_frustration, 0), ?) END WHERE id = ?",
                    (
                        json.dumps(summary_dict, ensure_ascii=False) if summary_dict else None,
                        duration_s, peak, peak, session_id,
                    ),
                )
            self._forget(session_id)
        self._secure_files()

    def set_summary(self, session_id: str, summary: ev.Summary | dict[str, Any]) -> None:
        """Store a summary without changing the session's state (e.g. for a recovered session)."""
        self._writable("saving a summary")
        sid = self.resolve(session_id)
        clean = self._clean_summary(summary)
        peak = clean.get("frustration_peak")
        with self._transaction("saving the summary") as conn:
            conn.execute(
                "UPDATE sessions SET summary = ?, peak_frustration = CASE WHEN ? IS NULL THEN"
                " peak_frustration ELSE max(coalesce(peak_frustration, 0), ?) END WHERE id = ?",
                (json.dumps(clean, ensure_ascii=False), peak, peak, sid),
            )

    @staticmethod
    def _clean_summary(summary: ev.Summary | dict[str, Any]) -> dict[str, Any]:
        if isinstance(summary, ev.Event):
            data = redact_event(summary).to_dict()
        else:
            data = redact_value(dict(summary))
        data.pop("type", None)
        return data

    def _summary_dict(
        self, conn: sqlite3.Connection, session_id: str, summary: ev.Summary | dict[str, Any] | None
    ) -> dict[str, Any] | None:
        if summary is not None:
            return self._clean_summary(summary)
        row = conn.execute(
            "SELECT json FROM events WHERE session_id = ? AND type = 'summary' ORDER BY seq DESC LIMIT 1",
            (session_id,),
        ).fetchone()
        if row is None:
            return None
        data = json.loads(row[0])
        data.pop("type", None)
        return data

    def _forget(self, session_id: str) -> None:
        for table in (self._buffers, self._next_seq, self._clock, self._committed_clock, self._peak, self._flags,
                      self._rewrites, self._redactors, self._tails, self._tail_seqs):
            table.pop(session_id, None)
        self._tail_dirty.discard(session_id)

    def recover(self, force: bool = False) -> list[StoredSession]:
        """Mark sessions left open by a process that has died as `recovered`; returns them.

        A session whose process still runs (another Callcue window) is left open, unless
        `force`. Call it at start-up."""
        self._writable("recovering unfinished sessions")
        with self._lock:
            with self._errors("looking for unfinished sessions"):
                rows = self._conn.execute("SELECT id, owner FROM sessions WHERE state = 'open'").fetchall()
            dead = [sid for sid, owner in rows if force or not owner_alive(owner)]
            if not dead:
                return []
            with self._transaction("recovering unfinished sessions") as conn:
                for sid in dead:
                    clock, peak, escalation = 0.0, None, False
                    for (text,) in conn.execute("SELECT json FROM events WHERE session_id = ?", (sid,)):
                        data = json.loads(text)
                        for name in ("at", "start", "end"):
                            if isinstance(data.get(name), (int, float)):
                                clock = max(clock, float(data[name]))
                        if data.get("type") == "frustration" and isinstance(data.get("level"), (int, float)):
                            peak = max(peak or 0.0, float(data["level"]))
                        escalation = escalation or schema.escalation_in(data)
                    conn.execute(
                        "UPDATE sessions SET state = 'recovered', owner = NULL,"
                        " duration_s = max(coalesce(duration_s, 0), ?),"
                        " peak_frustration = coalesce(?, peak_frustration) WHERE id = ?",
                        (clock, peak, sid),
                    )
                    if escalation:
                        conn.execute("INSERT OR IGNORE INTO session_flags VALUES (?, 'escalation')", (sid,))
            for sid in dead:
                self._forget(sid)
        return self.list(ids=dead)

    def delete(self, session_id: str) -> None:
        """Remove a session and its events; the freed pages are zeroed (secure_delete)."""
        self._writable("deleting a session")
        sid = self.resolve(session_id)
        with self._transaction("deleting a session") as conn:
            conn.execute("DELETE FROM sessions WHERE id = ?", (sid,))
        self._forget(sid)

    # -- reading --------------------------------------------------------------------------

    def resolve(self, session_id: str) -> str:
        """The full id for an id or a unique prefix of one (as `callcue report 3fa2` would take)."""
        with self._lock, self._errors("looking up a session"):
            if self._conn.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone():
                return session_id
            pattern = session_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            rows = [r[0] for r in self._conn.execute(
                "SELECT id FROM sessions WHERE id LIKE ? ESCAPE '\\' LIMIT 3", (pattern,))]
        if len(rows) == 1:
            return rows[0]
        if not rows:
            raise CallcueError(
                f"No session {session_id!r} in {self.path}; list the sessions to find its id."
            )
        raise CallcueError(
            f"Session id {session_id!r} is ambiguous in {self.path} ({', '.join(rows)}, ...); "
            "give more characters."
        )

    def list(
        self,
        *,
        agent: str | None = None,
        profile: str | None = None,
        since: date | datetime | str | None = None,
        until: date | datetime | str | None = None,
        min_peak: float | None = None,
        flags: Iterable[str] = (),
        kind: str | None = None,
        state: str | None = None,
        search: str | None = None,
        ids: Iterable[str] | None = None,
        limit: int | None = None,
    ) -> list[StoredSession]:
        """Sessions, newest first, without their events. A plain date in `since`/`until` is a
        local day, both ends included. `flags` must all be present (e.g. ("escalation",)).
        `search` matches agent, profile, source and the transcript's words."""
        where: list[str] = []
        args: list[Any] = []
        if agent is not None:
            where.append("s.agent = ?")
            args.append(agent)
        if profile is not None:
            where.append("s.profile = ?")
            args.append(profile)
        low, high = _bound(since, end=False), _bound(until, end=True)
        if low:
            where.append("s.started_at >= ?")
            args.append(low[0])
        if high:
            where.append("s.started_at < ?" if high[1] else "s.started_at <= ?")
            args.append(high[0])
        if min_peak is not None:
            where.append("s.peak_frustration >= ?")
            args.append(float(min_peak))
        for flag in flags:
            where.append("EXISTS (SELECT 1 FROM session_flags f WHERE f.session_id = s.id AND f.flag = ?)")
            args.append(flag)
        if kind is not None:
            where.append("s.kind = ?")
            args.append(kind)
        if state is not None:
            where.append("s.state = ?")
            args.append(state)
        if search:
            like = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append(
                "(s.agent LIKE ? ESCAPE '\\' OR s.profile LIKE ? ESCAPE '\\' OR s.source LIKE ? ESCAPE '\\'"
                " OR EXISTS (SELECT 1 FROM events e WHERE e.session_id = s.id AND e.type = 'utterance'"
                " AND e.json LIKE ? ESCAPE '\\'))"
            )
            # In an utterance's JSON the text comes after who/start/end: match from there on.
            args.extend([like] * 3 + ['%"text":"' + like])
        if ids is not None:
            id_list = list(ids)
            if not id_list:
                return []
            where.append(f"s.id IN ({', '.join('?' * len(id_list))})")
            args.extend(id_list)
        sql = (
            "SELECT s.id, s.kind, s.agent, s.profile, s.started_at, s.duration_s, s.devices, s.model,"
            " s.source, s.state, s.summary, s.peak_frustration,"
            " (SELECT group_concat(flag, ',') FROM session_flags f WHERE f.session_id = s.id)"
            " FROM sessions s"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY s.started_at DESC, s.rowid DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit):d}"
        with self._lock, self._errors("listing sessions"):
            rows = self._conn.execute(sql, args).fetchall()
        return [_row_to_session(row) for row in rows]

    def load(self, session_id: str) -> StoredSession:
        """A session with its committed events, in the order they were written."""
        sid = self.resolve(session_id)
        found = self.list(ids=[sid])
        if not found:
            raise CallcueError(f"No session {session_id!r} in {self.path}.")
        session = found[0]
        with self._lock, self._errors("reading a session's events"):
            rows = self._conn.execute(
                "SELECT json FROM events WHERE session_id = ? ORDER BY seq", (sid,)
            ).fetchall()
        for (text,) in rows:
            data = json.loads(text)
            if data.get("type") not in ev.EVENT_TYPES:
                session.skipped_events += 1  # written by a newer Callcue
                continue
            session.events.append(ev.from_dict(data))
        return session

    # -- lifetime -------------------------------------------------------------------------

    def close(self) -> None:
        """Commit what is buffered (if possible) and close. Open sessions stay open."""
        with self._lock:
            try:
                if not self.read_only and self.damaged is None:
                    self.flush()
            finally:
                self._conn.close()

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _redact_opt(value: str | None) -> str | None:
    return redact(value) if value else value


def _row_to_session(row: tuple[Any, ...]) -> StoredSession:
    (sid, kind, agent, profile, started_at, duration_s, devices, model, source, state, summary,
     peak, flags) = row
    return StoredSession(
        id=sid, kind=kind, agent=agent, profile=profile, started_at=started_at,
        duration_s=duration_s, devices=json.loads(devices) if devices else None, model=model,
        source=source, state=state, summary=json.loads(summary) if summary else None,
        peak_frustration=peak, flags=sorted(flags.split(",")) if flags else [],
    )


class SessionWriter:
    """Writes one session during a call: call it with each event as the engine makes it.

    It commits when the audio clock has moved on by `every_s` (1 s) since the last
    commit, or after `max_events` events, so a crash loses at most the last 1-2 s.
    Call `advance(t)` when audio time passes without events. `on_commit(t)` is told
    the audio time saved up to. Partial captions are not stored unless `keep_partials`.
    A failed save (disk full, locked) raises CallcueError; the events stay buffered
    and the next save, a second later, tries again.
    """

    def __init__(
        self,
        store: SessionStore,
        session_id: str,
        *,
        every_s: float = 1.0,
        max_events: int = 200,
        on_commit: Any = None,
        keep_partials: bool = False,
    ) -> None:
        self.store = store
        self.session_id = session_id
        self.every_s = every_s
        self.max_events = max_events
        self.on_commit = on_commit
        self.keep_partials = keep_partials
        self.now = 0.0
        self.saved_until = 0.0  # audio time of the last commit
        self._last_try = 0.0
        self._pending = 0

    def __call__(self, event: ev.Event) -> None:
        self.write(event)

    def write(self, event: ev.Event) -> None:
        if isinstance(event, ev.Partial) and not self.keep_partials:
            # Live captions are superseded by the utterance; storing them only adds volume.
            self.advance(event.at)
            return
        self.store.append(self.session_id, [event])
        self._pending += 1
        self.now = max(self.now, event.known_at)
        self._maybe_flush()

    def write_all(self, events: Iterable[ev.Event]) -> None:
        for event in events:
            self.write(event)

    def advance(self, t: float, progress: Iterable[ev.Event] | None = None) -> None:
        """The audio clock reached `t` (seconds) with or without events. `progress`: what is in
        progress (open turns, latest partials), saved with the next commit in place of the last."""
        self.now = max(self.now, t)
        self.store.advance(self.session_id, self.now)
        if progress is not None:
            self.store.set_progress(self.session_id, progress)
        self._maybe_flush()

    def _maybe_flush(self) -> None:
        if self._pending >= self.max_events:
            self.flush()
        elif self.now - self._last_try >= self.every_s and (self._pending or self.store.unsaved(self.session_id)):
            # on the call's clock: at least every `every_s` of audio while anything (even only time) is unsaved
            self.flush()

    def flush(self) -> None:
        self._last_try = self.now  # after a failure, retry a second later, not at every event
        self.store.flush(self.session_id)
        self._pending = 0
        self.saved_until = self.now
        if self.on_commit is not None:
            self.on_commit(self.now)

    def finish(self, summary: ev.Summary | dict[str, Any] | None = None, duration_s: float | None = None) -> None:
        self.store.finish(self.session_id, summary, duration_s)
        self._pending = 0
        self.saved_until = self.now
