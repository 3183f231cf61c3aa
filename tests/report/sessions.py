"""Sample sessions for the report and review tests (and the docs' screenshots): the test calls,
analysed once each, saved as sessions of three agents over four weeks."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from callcue.store import SessionMeta, SessionStore
from tests.conftest import RUN_DIR, calls

AGENTS = ("kim", "lee", "sam")
WEEKS = 4
FIRST_MONDAY = datetime(2024, 5, 6, 9, 30)  # a fixed past, so the week grouping is the same every run


@cache
def analysed(name: str) -> tuple:
    """A call's events in the order the engine made them (as a live call would save them)."""
    from callcue.calls.offline import analyze_recording

    made: list = []
    analyze_recording(str(calls() / f"{name}.wav"), str(calls() / f"{name}.vtt"), on_event=made.append)
    return tuple(made)


def plan() -> list[tuple[str, str, datetime]]:
    """(call, agent, start) for each sample session: each agent takes a different call each week."""
    names = sorted(p.stem for p in calls().glob("*.wav"))
    out = []
    for week in range(WEEKS):
        for a, agent in enumerate(AGENTS):
            name = names[(week + a * 2) % len(names)]
            out.append((name, agent, FIRST_MONDAY + timedelta(days=7 * week + a, hours=a)))
    return out


def build(path: Path, sessions: list[tuple[str, str, datetime]] | None = None) -> dict[str, str]:
    """Write the sample sessions to a new database at `path`; returns {session id: call name}."""
    from callcue.sessions_io import record

    ids: dict[str, str] = {}
    with SessionStore(path) as store:
        for name, agent, start in sessions or plan():
            meta = SessionMeta(kind="analyze", agent=agent, profile="acme" if agent != "sam" else "telco",
                               started_at=start, source=str(calls() / f"{name}.wav"))
            ids[record(analysed(name), store, meta)] = name
    return ids


_template: tuple[Path, dict[str, str]] | None = None


def sample_db(dest: Path) -> dict[str, str]:
    """A copy of the sample database at `dest` (built once per test run); returns {id: call name}."""
    global _template
    import shutil

    if _template is None:
        path = RUN_DIR / "sample" / "sessions.db"  # removed with RUN_DIR when the run ends
        shutil.rmtree(path.parent, ignore_errors=True)  # a dead run's, under a reused pid
        path.parent.mkdir(parents=True)
        _template = (path, build(path))
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_template[0], dest)  # closed cleanly: the -wal was checkpointed into the file
    dest.chmod(0o600)
    return dict(_template[1])
