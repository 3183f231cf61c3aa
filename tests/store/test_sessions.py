"""The session store with real SQLite files: round trip, filters, privacy, and the bad days
(locked, newer version, corrupt file, full disk)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import sys
from datetime import UTC, date, datetime, timedelta

import pytest

from callcue import paths
from callcue.engine import events as ev
from callcue.errors import CallcueError
from callcue.store import SCHEMA_VERSION, SessionMeta, SessionStore, SessionWriter, default_path

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def call_events() -> list[ev.Event]:
    """One of every event type, with times already at millisecond precision."""
    words = [ev.Word("I", 4.0, 4.2, 0.9), ev.Word("need", 4.2, 4.5, 1.0), ev.Word("help", 4.5, 4.9, 0.8)]
    return [
        ev.CallStart(None, ["agent", "customer"], model="vosk-small-en", transcript="vosk", words=True),
        ev.Speech("agent", 0.5, 3.2),
        ev.Utterance("agent", 0.5, 3.2, "thanks for calling how can I help", sentiment=0.4, wpm=150.0),
        ev.Partial("customer", 4.3, "I need"),
        ev.Utterance("customer", 4.0, 4.9, "I need help", words=words, sentiment=-0.1, frustration=0.3,
                     signals=["need"]),
        ev.Frustration(5.0, 0.35, "rising"),
        ev.Interruption(6.1, "agent", "customer", 0.8),
        ev.Silence(7.0, 12.5, 5.5, hold=False),
        ev.Cue(7.5, "let-them-finish", "active-listening", "warn", "Let them finish", why="You talked over",
               evidence={"overlap_s": 0.8}, until=11.5),
        ev.CueAction(8.0, "dismiss", cue="let-them-finish"),
        ev.CueAction(9.0, "snooze", until=69.0),
        ev.Status(10.0, "overload", "recognizer is behind", who="customer"),
        ev.Frustration(12.0, 0.62, "rising"),
        ev.Summary(0.55, 1, 5.5, 0.62, ["let-them-finish"], {"active-listening": 3}, duration_s=13.0,
                   commitments=[{"text": "I will email you today", "due": "today"}], notes=["Good opening"]),
    ]


def dicts(events):
    return [e.to_dict() for e in events]


@pytest.fixture
def db(tmp_path):
    return tmp_path / "store" / "sessions.db"


def test_round_trip(db):
    started = datetime(2024, 5, 1, 10, 30, tzinfo=UTC)
    with SessionStore(db) as store:
        sid = store.begin(SessionMeta(kind="live", agent="kim", profile="acme", started_at=started,
                                      devices={"agent": "Headset Mic", "customer": "Monitor of Speakers"},
                                      model="vosk-small-en", source=None))
        writer = SessionWriter(store, sid, keep_partials=True)
        events = call_events()
        writer.write_all(events)
        writer.finish()  # summary taken from the stream's summary event
    with SessionStore(db) as store:
        session = store.load(sid)
    assert dicts(session.events) == dicts(events)
    assert (session.kind, session.agent, session.profile, session.state) == ("live", "kim", "acme", "finished")
    assert session.started_at == "2024-05-01T10:30:00+00:00"
    assert session.devices == {"agent": "Headset Mic", "customer": "Monitor of Speakers"}
    assert session.model == "vosk-small-en"
    assert session.duration_s == 13.0
    assert session.peak_frustration == 0.62
    assert session.summary_event().to_dict() == events[-1].to_dict()
    assert [u.text for u in session.transcript()] == ["thanks for calling how can I help", "I need help"]
    assert session.transcript()[1].words == events[4].words


def test_explicit_summary_and_id_prefix(db):
    with SessionStore(db) as store:
        sid = store.begin({"kind": "analyze", "source": "/calls/monday.wav"})
        store.append(sid, call_events()[:5])
        assert store.pending(sid) == 5
        store.finish(sid, {"talk_ratio": 0.5, "interruptions": 0, "longest_silence_s": 1.0,
                           "frustration_peak": 0.9, "cues": [], "scores": {}}, duration_s=42.0)
        assert store.pending() == 0
        session = store.load(sid[:5])
        assert session.id == sid
        assert len(session.events) == 5
        assert session.duration_s == 42.0 and session.peak_frustration == 0.9
        assert session.summary_event().frustration_peak == 0.9
        with pytest.raises(CallcueError, match="No session 'zzzz'"):
            store.load("zzzz")


def test_default_path_is_in_user_data_dir(tmp_path):
    assert default_path() == paths.user_data_dir() / "sessions.db"
    assert str(default_path()).startswith(str(tmp_path))  # the conftest points it at tmp
    with SessionStore() as store:
        store.begin({"kind": "demo"})
    assert default_path().exists()


def test_bad_input_is_a_clear_message(db):
    with SessionStore(db) as store:
        with pytest.raises(CallcueError, match="kind 'phone' is not one of live, demo, analyze, chat"):
            store.begin({"kind": "phone"})
        with pytest.raises(CallcueError, match="Unknown session field"):
            store.begin({"kind": "live", "colour": "red"})
        with pytest.raises(CallcueError, match="not an ISO 8601 date"):
            store.begin({"kind": "live", "started_at": "yesterday"})
        with pytest.raises(CallcueError, match="begin"):
            store.append("nope", [ev.Speech("agent", 0, 1)])


def _add(store, kind="live", agent="kim", profile="acme", started=None, peak=None, escalate=False,
         text="hello"):
    sid = store.begin(SessionMeta(kind=kind, agent=agent, profile=profile, started_at=started))
    events = [ev.Utterance("customer", 1.0, 2.0, text)]
    if peak is not None:
        events.append(ev.Frustration(2.0, peak, "rising"))
    if escalate:
        events.append(ev.Cue(3.0, "escalation-request", "conflict-management", "alert", "Follow policy"))
    store.append(sid, events)
    store.finish(sid)
    return sid


def test_list_filters(db):
    day = datetime(2024, 5, 1, 9, 0).astimezone()  # local 09:00
    with SessionStore(db) as store:
        a = _add(store, agent="kim", started=day, peak=0.2)
        b = _add(store, agent="lee", started=day + timedelta(days=1), peak=0.8, escalate=True,
                 text="I want to cancel my order")
        c = _add(store, agent="kim", profile="globex", kind="demo", started=day + timedelta(days=2), peak=0.5)
        d = _add(store, agent="lee", started=day + timedelta(days=3),
                 text="get me your supervisor now")  # escalation from the words, no cue
        ids = lambda **kw: [s.id for s in store.list(**kw)]  # noqa: E731
        assert ids() == [d, c, b, a]  # newest first
        assert ids(agent="kim") == [c, a]
        assert ids(profile="globex") == [c]
        assert ids(kind="demo") == [c]
        assert ids(min_peak=0.5) == [c, b]
        assert ids(flags=("escalation",)) == [d, b]
        assert ids(since=date(2024, 5, 2), until=date(2024, 5, 3)) == [c, b]  # local days, inclusive
        assert ids(since="2024-05-04") == [d]
        assert ids(until=day + timedelta(hours=1)) == [a]
        assert ids(search="cancel") == [b]
        assert ids(search="lee") == [d, b]
        assert ids(search="50%") == []
        assert ids(state="finished", limit=2) == [d, c]
        assert store.list(ids=[a])[0].flags == []
        assert store.list(ids=[b])[0].flags == ["escalation"]


def test_delete(db):
    with SessionStore(db) as store:
        keep, gone = _add(store), _add(store, text="delete me please")
        store.delete(gone)
        assert [s.id for s in store.list()] == [keep]
        assert store._conn.execute("SELECT count(*) FROM events WHERE session_id = ?", (gone,)).fetchone()[0] == 0


RAW = {
    "card": ("4539 1488 0343 6467", "4539148803436467", "4539-1488-0343-6467"),
    "ssn": ("219-09-9999", "219099999"),
    "phone": ("(415) 555-2671", "4155552671", "415-555-2671"),
    "email": ("maria.lopez@example.org", "maria dot lopez at example dot org"),
    "account": ("8675309", "eight six seven five three oh nine", "four five two one eight eight three", "4521883"),
}


def test_nothing_raw_reaches_the_database_file(db):
    """Store utterances (text and words), partials, cues, a summary and metadata that carry
    identifiers; then search the bytes of the database and its WAL for any of them."""
    lines = [
        "my card is 4539 1488 0343 6467 and the backup card 4539-1488-0343-6467",
        "the card number again 4539148803436467",
        "social security 219-09-9999 or 219099999",
        "call me at (415) 555-2671 or 415-555-2671, the number is 4155552671",
        "email maria.lopez@example.org or say it maria dot lopez at example dot org",
        "account number eight six seven five three oh nine, the old one is 8675309",
        "and my member number is four five two one eight eight three or 4521883",
    ]
    assert "4539148803436467" and all(t.strip() for t in lines)
    events: list[ev.Event] = []
    t = 0.0
    for line in lines:
        words = [ev.Word(w, round(t + i * 0.3, 3), round(t + i * 0.3 + 0.25, 3)) for i, w in enumerate(line.split())]
        events.append(ev.Partial("customer", t, line[: len(line) // 2]))
        events.append(ev.Utterance("customer", t, words[-1].end, line, words=words, signals=[line]))
        t = words[-1].end + 0.5
    events.append(ev.Cue(t, "repeat-contact", "empathy", "warn", "Own it", why=lines[0],
                         evidence={"quote": lines[3], "hits": [lines[5]]}))
    events.append(ev.Status(t, "device-lost", f"lost device {RAW['account'][0]}"))
    summary = ev.Summary(0.5, 0, 1.0, 0.2, [], {}, commitments=[{"text": f"I will call {RAW['phone'][0]}"}],
                         notes=[lines[1]])
    store = SessionStore(db)
    sid = store.begin(SessionMeta(kind="analyze", agent="kim", source=f"/calls/{RAW['phone'][1]}.wav",
                                  devices={"customer": f"Line {RAW['account'][0]}"}))
    writer = SessionWriter(store, sid, keep_partials=True)
    writer.write_all(events)
    writer.finish(summary)
    files = [db, db.with_name(db.name + "-wal")]
    assert files[1].exists()  # WAL not yet checkpointed: it holds the data too

    def leaks() -> list[str]:
        blob = b"".join(f.read_bytes() for f in files if f.exists())
        found = []
        for kind, forms in RAW.items():
            for raw in forms:
                for variant in {raw, raw.replace(" ", ""), raw.lower()}:
                    if variant.encode() in blob or variant.encode("utf-16-le") in blob:
                        found.append(f"{kind}: {variant}")
        return found

    assert leaks() == []
    session = store.load(sid)
    assert "[card]" in session.events[1].text and "[email]" in session.events[9].text
    store.close()  # checkpoint the WAL into the main file
    assert leaks() == []


@posix_only
def test_files_are_private(db):
    with SessionStore(db) as store:
        sid = store.begin({"kind": "live"})
        store.append(sid, call_events())
        store.flush()
        for suffix in ("", "-wal", "-shm"):
            mode = stat.S_IMODE(os.stat(f"{db}{suffix}").st_mode)
            assert mode == 0o600, (suffix, oct(mode))
        assert stat.S_IMODE(os.stat(db.parent).st_mode) == 0o700
        assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@posix_only
def test_existing_shared_folder_keeps_its_mode(tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    with SessionStore(folder / "s.db") as store:
        store.begin({"kind": "live"})
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o755  # not ours to change
    assert stat.S_IMODE(os.stat(folder / "s.db").st_mode) == 0o600


# -- the bad days ----------------------------------------------------------------------------

def test_locked_by_another_process(db):
    store = SessionStore(db, timeout=0.2)
    sid = store.begin({"kind": "live", "agent": "kim"})
    store.append(sid, call_events()[:3])
    store.flush()
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(CallcueError) as err:
            store.begin({"kind": "live"})
        message = str(err.value)
        assert "locked by another program" in message and str(db) in message and "0.2 s" in message
        assert "nothing already saved was lost" in message
        # Events written during the lock stay buffered ...
        # The worker of a live call goes on writing; a failed save is retried a second later.
        writer = SessionWriter(store, sid, keep_partials=True)
        failures = []
        for event in call_events()[3:]:
            try:
                writer(event)
            except CallcueError as failure:
                failures.append(str(failure))
        assert failures and all("locked" in f for f in failures)
        assert len(failures) < len(call_events()) - 3
        assert store.pending(sid) == len(call_events()) - 3
        # ... and reading still works (WAL): the review window is not blocked by a live call.
        assert [s.id for s in store.list()] == [sid]
    finally:
        other.execute("ROLLBACK")
        other.close()
    writer.flush()  # the lock is gone: the buffered events are saved
    assert dicts(store.load(sid).events) == dicts(call_events())
    store.close()


def test_open_while_locked(tmp_path):
    path = tmp_path / "new.db"
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("CREATE TABLE IF NOT EXISTS sessions (x)")  # not yet ours; holds the file
    other.execute("DROP TABLE sessions")
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(CallcueError, match="locked by another program .* while opening it"):
            SessionStore(path, timeout=0.1)
    finally:
        other.execute("ROLLBACK")
        other.close()
    SessionStore(path).close()


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_newer_version_is_read_only(db):
    with SessionStore(db) as store:
        sid = _add(store, text="from the future")
    raw = sqlite3.connect(db)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw.close()
    before = _sha(db)
    store = SessionStore(db)
    assert store.read_only and store.version == SCHEMA_VERSION + 1
    assert [s.id for s in store.list()] == [sid]  # reading is fine
    assert store.load(sid).events[0].text == "from the future"
    for attempt in (lambda: store.begin({"kind": "live"}), lambda: store.append(sid, []),
                    lambda: store.finish(sid), store.recover, lambda: store.delete(sid)):
        with pytest.raises(CallcueError) as err:
            attempt()
        message = str(err.value)
        assert "newer Callcue" in message and f"version {SCHEMA_VERSION + 1}" in message
        assert str(db) in message and "Update Callcue" in message
    store.close()
    assert _sha(db) == before
    check = sqlite3.connect(db)
    assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    check.close()


def test_corrupt_file_is_backed_up_and_reported(db):
    db.parent.mkdir(parents=True)
    garbage = b"this is not an SQLite file, it is a crumpled note\n" * 200
    db.write_bytes(garbage)
    wal = db.with_name(db.name + "-wal")
    wal.write_bytes(b"stale wal bytes")
    with pytest.raises(CallcueError) as err:
        SessionStore(db)
    message = str(err.value)
    backups = sorted(db.parent.glob("sessions.db.corrupt-*"))
    main = [b for b in backups if not b.name.endswith("-wal")]
    assert len(main) == 1
    assert main[0].read_bytes() == garbage  # untouched
    assert main[0].with_name(main[0].name + "-wal").read_bytes() == b"stale wal bytes"
    assert str(main[0]) in message and "damaged" in message and "nothing was deleted" in message
    assert "new, empty sessions database" in message
    assert not db.exists()
    # The next start begins a new database beside the backup, which stays.
    with SessionStore(db) as store:
        assert store.list() == []
        store.begin({"kind": "live"})
    assert main[0].read_bytes() == garbage


def test_damaged_pages_found_by_check(db):
    with SessionStore(db) as store:
        for _ in range(20):
            sid = store.begin({"kind": "demo"})
            store.append(sid, [ev.Utterance("customer", i, i + 1.0, "words " * 40) for i in range(50)])
        store.flush()
    data = bytearray(db.read_bytes())
    data[4096 * 2: 4096 * 40] = bytes(range(256)) * (4096 * 38 // 256)  # header intact, pages not
    db.write_bytes(bytes(data))
    store = SessionStore(db)  # the header is fine, so opening does not notice ...
    with pytest.raises(CallcueError, match="damaged .*left as it is: close Callcue"):
        for session in store.list():
            store.load(session.id)
    with pytest.raises(CallcueError, match="moved, untouched, to .*corrupt-") as err:
        store.check()  # ... a full check does, and moves it aside
    backup = str(err.value).split(" to ", 1)[1].split(";")[0]
    assert open(backup, "rb").read() == bytes(data)
    assert not db.exists()


def test_partials_are_skipped_unless_asked(db):
    with SessionStore(db) as store:
        sid = store.begin({"kind": "live"})
        writer = SessionWriter(store, sid)
        writer.write_all([ev.Partial("customer", 0.5, "I ne"), ev.Utterance("customer", 0.4, 1.2, "I need")])
        writer.finish()
        assert [e.type for e in store.load(sid).events] == ["utterance"]


def test_foreign_sqlite_file_is_left_alone(tmp_path):
    path = tmp_path / "other.db"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE recipes (name TEXT)")
    raw.commit()
    raw.close()
    before = _sha(path)
    with pytest.raises(CallcueError, match="not a Callcue sessions database .*recipes.*left untouched"):
        SessionStore(path)
    assert _sha(path) == before


def test_full_disk_keeps_what_was_committed(db):
    """SQLite's max_page_count stands in for a full disk: the same SQLITE_FULL error."""
    store = SessionStore(db, max_bytes=64 * 1024)
    sid = store.begin({"kind": "live", "agent": "kim"})
    commits: list[float] = []
    writer = SessionWriter(store, sid, on_commit=commits.append)
    written: list[ev.Event] = []
    with pytest.raises(CallcueError) as err:
        for i in range(10_000):
            event = ev.Utterance("customer", i * 0.3, i * 0.3 + 0.2, f"line {i} " + "words take room " * 8)
            written.append(event)
            writer(event)
    message = str(err.value)
    assert "is full" in message and str(db) in message and "Everything saved before this is kept" in message
    assert commits, "some seconds were saved before the disk filled"
    saved = store.load(sid)
    assert saved.state == "open"
    assert dicts(saved.events) == dicts(written[: len(saved.events)])  # a clean prefix, no gaps
    assert saved.events[-1].end >= commits[-1] - 1.0
    assert store.pending(sid) == len(written) - len(saved.events)
    # Space comes back: the events kept in memory are written, none lost.
    store.set_size_limit(None)
    writer.finish()
    final = store.load(sid)
    assert dicts(final.events) == dicts(written) and final.state == "finished"
    store.close()
    # A fresh process sees the same.
    with SessionStore(db) as again:
        assert len(again.load(sid).events) == len(written)


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root ignores file modes")
def test_read_only_file_is_a_clear_message(db):
    with SessionStore(db) as store:
        store.begin({"kind": "live"})
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(f"{db}{suffix}"):
            os.chmod(f"{db}{suffix}", 0o400)
    with pytest.raises(CallcueError, match="read-only|cannot be written|Cannot open"):
        SessionStore(db).begin({"kind": "live"})
