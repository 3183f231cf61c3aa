"""Sessions on disk (SQLite) and the redaction that runs before anything is stored or exported.

    store = SessionStore()                      # user data dir / sessions.db, or a path from settings
    store.recover()                             # at start-up: sessions a crash left open
    sid = store.begin(SessionMeta(kind="live", agent="kim", profile="acme"))
    writer = SessionWriter(store, sid)          # during the call: writer(event) for each event
    writer.finish(summary)                      # or store.finish(sid, summary)
    store.list(agent="kim", flags=("escalation",)); store.load(sid).events
"""

from callcue.store.redaction import TAGS, find_spans, luhn_ok, redact, redact_event, redact_value, redact_words
from callcue.store.schema import LATEST as SCHEMA_VERSION
from callcue.store.sessions import (
    KINDS,
    STATES,
    SessionMeta,
    SessionStore,
    SessionWriter,
    StoredSession,
    default_path,
)

__all__ = [
    "KINDS",
    "SCHEMA_VERSION",
    "STATES",
    "TAGS",
    "SessionMeta",
    "SessionStore",
    "SessionWriter",
    "StoredSession",
    "default_path",
    "find_spans",
    "luhn_ok",
    "redact",
    "redact_event",
    "redact_value",
    "redact_words",
]
