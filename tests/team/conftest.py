"""The team tests share one PostgreSQL server (tests/team/pg.py); each test gets its own database."""

from __future__ import annotations

import itertools
import os

import pytest

from tests.team.pg import PgServer, remove, start_server

_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server():
    server = start_server()
    try:
        yield server
    finally:
        remove(server)


@pytest.fixture
def pg(pg_server: PgServer, monkeypatch) -> PgServer:
    """The server, running and answering, with its pgpass file in PGPASSFILE (as libpq reads it)."""
    pg_server.resume()
    if not (pg_server.data / "postmaster.pid").exists():
        pg_server.start()
    monkeypatch.setenv("PGPASSFILE", str(pg_server.pgpass))
    for name in ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD", "PGSERVICE"):
        monkeypatch.delenv(name, raising=False)
    yield pg_server
    pg_server.resume()
    if not (pg_server.data / "postmaster.pid").exists():
        pg_server.start()


@pytest.fixture
def team_db(pg: PgServer) -> str:
    """A fresh, empty database on the shared server; its name."""
    return pg.create_db(f"team{os.getpid()}_{next(_numbers)}")


@pytest.fixture
def team(pg: PgServer, team_db: str):
    """A team database set up by `callcue team setup`, with the floor of tests/team/helpers.FLOOR granted
    by `callcue team grant` and given passwords in the pgpass file."""
    from callcue import cli
    from tests.team.helpers import FLOOR, Team

    t = Team(pg, team_db)
    assert cli.main(["team", "setup", "--dsn", t.admin]) == 0
    for login, role, name in FLOOR:
        assert cli.main(["team", "grant", login, "--role", role, *(["--team", name] if name else []),
                         "--dsn", t.admin]) == 0
        t.logins[login] = pg.add_login(login)
    return t
