"""Benchmark the team store: many agent PCs syncing into one PostgreSQL on this machine.

  python bench/bench_team.py [--pcs 200] [--calls 40] [--days 5] [--events 60] [--threads 16]
                             [--live 40] [--live-seconds 30] [--queries 200]

1. A PostgreSQL server of its own (the test fixture's: initdb under /tmp, fsync off), `team setup`, one login
   per agent (`team grant`), teams of 10 with a supervisor each.
2. Each PC's local store (`sessions.db`, the real schema) gets calls * days sessions with their events,
   written straight into SQLite (generating them through the engine would measure the engine).
3. Sync throughput: every PC runs `team_sync.sync` once, `--threads` at a time (each with its own
   connections, as PCs would); then the server must hold exactly the PCs' events (none lost or doubled).
4. Live lag: `--live` PCs each in a call writing an event every 0.5 s into its store with a SyncWorker
   running (every 2 s, as in a call); a floor view (a QA login) polls the calls in progress every 0.25 s.
   The lag is from the event's local commit to the floor view seeing it.
5. Review queries as a supervisor at that size: a filtered list, a month of trends, one call's load
   (through the audited read_events).
Prints the numbers; no assertion but "nothing lost or doubled" (exit 1 otherwise).
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "desktop"))

import psycopg  # noqa: E402

from callcue.store import SessionStore, team, team_sync  # noqa: E402
from tests.team.pg import remove, start_server  # noqa: E402


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def make_pc(path: Path, agent: str, sessions: int, events: int, days: int, rng: random.Random) -> int:
    SessionStore(path).close()  # the real schema, at the latest version
    conn = sqlite3.connect(path)
    now = datetime.now(UTC)
    total = 0
    with conn:
        for n in range(sessions):
            sid = f"{agent}{n:05d}".ljust(12, "0")[:12]
            start = now - timedelta(days=rng.random() * days, hours=1)
            peak = round(rng.random(), 3)
            conn.execute("INSERT INTO sessions (id, kind, agent, profile, started_at, duration_s, state, summary,"
                         " peak_frustration) VALUES (?, 'live', ?, 'default', ?, ?, 'finished', ?, ?)",
                         (sid, agent, start.isoformat(timespec="seconds"), 2.0 * events,
                          json.dumps({"duration_s": 2.0 * events, "frustration_peak": peak, "cues": []}), peak))
            if rng.random() < 0.1:
                conn.execute("INSERT INTO session_flags VALUES (?, 'escalation')", (sid,))
            rows = []
            for i in range(events):
                t = 2.0 * i
                if i % 3 == 2:
                    data = {"type": "frustration", "at": t, "level": round(rng.random() * peak, 3), "trend": "rising"}
                elif i % 7 == 6:
                    data = {"type": "cue", "at": t, "id": "acknowledge", "skill": "empathy", "severity": "info",
                            "text": "Acknowledge the wait", "why": "", "evidence": {}, "until": t + 8}
                else:
                    data = {"type": "utterance", "who": "customer" if i % 2 else "agent", "start": t, "end": t + 1.6,
                            "text": f"words of utterance {i} in this call about a bill", "words": [],
                            "sentiment": 0.0, "frustration": None, "wpm": 150.0, "syllables_per_s": 4.0,
                            "signals": []}
                rows.append((sid, i, data["type"], t, json.dumps(data, separators=(",", ":"))))
            conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)", rows)
            total += len(rows)
    conn.close()
    return total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pcs", type=int, default=200)
    ap.add_argument("--calls", type=int, default=40, help="calls a day per PC")
    ap.add_argument("--days", type=int, default=5)
    ap.add_argument("--events", type=int, default=60, help="events per call")
    ap.add_argument("--threads", type=int, default=16, help="PCs syncing at the same time")
    ap.add_argument("--live", type=int, default=40, help="PCs in a live call during the lag measurement")
    ap.add_argument("--live-seconds", type=float, default=30.0)
    ap.add_argument("--queries", type=int, default=200)
    a = ap.parse_args()
    rng = random.Random(1)
    base = Path(tempfile.mkdtemp(prefix="callcue-bench-team-"))
    server = start_server()
    import os

    os.environ["PGPASSFILE"] = str(server.pgpass)
    try:
        db = server.create_db("bench")
        admin = server.dsn(dbname="bench")
        team.setup(admin)
        agents = [f"a{i:03d}" for i in range(a.pcs)]
        for i, login in enumerate(agents):
            team.grant(admin, login, "agent", f"t{i // 10:02d}")
            server.add_login(login)
        for t in range(max(1, (a.pcs + 9) // 10)):
            team.grant(admin, f"s{t:02d}", "supervisor", f"t{t:02d}")
            server.add_login(f"s{t:02d}")
        team.grant(admin, "qa", "qa", None)
        server.add_login("qa")
        dsn = {login: server.dsn(user=login, dbname=db) for login in agents}

        t0 = time.perf_counter()
        pcs = {}
        local_total = 0
        for login in agents:
            path = base / login / "sessions.db"
            path.parent.mkdir()
            local_total += make_pc(path, login, a.calls * a.days, a.events, a.days, rng)
            pcs[login] = path
        print(f"made {a.pcs} PCs, {a.pcs * a.calls * a.days} sessions, {local_total} events "
              f"in {time.perf_counter() - t0:.0f} s")

        t0 = time.perf_counter()
        with ThreadPoolExecutor(a.threads) as pool:
            reports = list(pool.map(lambda login: team_sync.sync(pcs[login], dsn[login]), agents))
        took = time.perf_counter() - t0
        sessions = sum(r.sessions for r in reports)
        events = sum(r.events for r in reports)
        print(f"sync: {sessions} sessions, {events} events in {took:.1f} s with {a.threads} PCs at a time: "
              f"{sessions / took:.0f} sessions/s, {events / took:.0f} events/s")
        with psycopg.connect(admin) as conn:
            there, distinct = conn.execute("SELECT count(*), count(DISTINCT (session_id, seq)) FROM callcue.events"
                                           ).fetchone()
            bad = conn.execute("SELECT count(*) FROM callcue.sessions WHERE last_seq <> %s - 1",
                               (a.events,)).fetchone()[0]
        exact = there == distinct == local_total and bad == 0
        print(f"server holds {there} events for {local_total} local: "
              f"{'nothing lost or doubled' if exact else 'MISMATCH'}")

        # -- live lag -------------------------------------------------------------------------
        written: dict[tuple[str, int], float] = {}
        lags: list[float] = []
        stop = threading.Event()
        lock = threading.Lock()
        live = agents[: a.live]
        workers = []
        stores = {}
        for login in live:
            store = SessionStore(pcs[login])
            sid = store.begin({"kind": "live", "agent": login})
            stores[login] = (store, sid)
            workers.append(team_sync.SyncWorker(pcs[login], dsn[login], every_s=2.0,
                                                live=lambda sid=sid: [sid]).start())

        def call(login: str) -> None:
            from callcue.engine import events as ev

            store, sid = stores[login]
            seq, t = 0, 0.0
            while not stop.wait(0.5):
                t += 0.5
                store.append(sid, [ev.Frustration(t, 0.5, "steady")])
                store.flush()
                with lock:
                    written[(sid, seq)] = time.perf_counter()
                seq += 1

        def floor() -> None:
            seen: dict[str, int] = {}
            with psycopg.connect(server.dsn(user="qa", dbname=db), autocommit=True) as conn:
                while not stop.is_set():
                    rows = conn.execute("SELECT id, last_seq FROM callcue.sessions WHERE state = 'open'").fetchall()
                    now = time.perf_counter()
                    with lock:
                        for sid, last in rows:
                            for s in range(seen.get(sid, -1) + 1, last + 1):
                                at = written.pop((sid, s), None)
                                if at is not None:
                                    lags.append(now - at)
                            seen[sid] = max(seen.get(sid, -1), last)
                    stop.wait(0.25)

        threads = [threading.Thread(target=call, args=(login,)) for login in live] + [threading.Thread(target=floor)]
        for th in threads:
            th.start()
        time.sleep(a.live_seconds)
        stop.set()
        for th in threads:
            th.join()
        for w in workers:
            w.stop()
        for store, sid in stores.values():
            store.finish(sid)
            store.close()
        print(f"live lag ({a.live} calls, an event each 0.5 s, sync every 2 s, floor view polling 0.25 s): "
              f"p50 {pct(lags, 50):.2f} s, p99 {pct(lags, 99):.2f} s over {len(lags)} events "
              f"({len(written)} not seen at the end)")

        # -- review queries -------------------------------------------------------------------
        for who in ("s00", "qa"):  # a supervisor (their team) and QA (the whole floor)
            timings: dict[str, list[float]] = {"list with filters": [], "a month of trends": [],
                                               "one call's load": []}
            with psycopg.connect(server.dsn(user=who, dbname=db), autocommit=True) as conn:
                ids = [r[0] for r in conn.execute("SELECT id FROM callcue.sessions")]
                since = datetime.now(UTC) - timedelta(days=30)
                for _ in range(a.queries):
                    t = time.perf_counter()
                    conn.execute("SELECT id, agent, started_at, duration_s, peak_frustration, flags"
                                 " FROM callcue.sessions WHERE started_at >= %s AND peak_frustration >= %s"
                                 " ORDER BY started_at DESC LIMIT 200",
                                 (since - timedelta(days=rng.random() * 5), rng.random())).fetchall()
                    timings["list with filters"].append(time.perf_counter() - t)
                    t = time.perf_counter()
                    conn.execute("SELECT date_trunc('day', started_at), login, count(*), avg(peak_frustration),"
                                 " count(*) FILTER (WHERE 'escalation' = ANY(flags)) FROM callcue.sessions"
                                 " WHERE started_at >= %s GROUP BY 1, 2", (since,)).fetchall()
                    timings["a month of trends"].append(time.perf_counter() - t)
                    t = time.perf_counter()
                    conn.execute("SELECT data FROM callcue.read_events(%s, 'view')", (rng.choice(ids),)).fetchall()
                    timings["one call's load"].append(time.perf_counter() - t)
            for name, values in timings.items():
                print(f"query {name} ({'supervisor' if who != 'qa' else 'QA'}, {len(ids)} sessions visible): "
                      f"p50 {pct(values, 50) * 1000:.1f} ms, p99 {pct(values, 99) * 1000:.1f} ms")
        return 0 if exact else 1
    finally:
        remove(server)
        import shutil

        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
