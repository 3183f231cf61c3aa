"""The fixture's server is real: it answers over its private socket and TCP, as an unprivileged user."""

from __future__ import annotations

import os
import pwd

import psycopg
import pytest


def test_server_answers_over_socket_and_tcp_with_a_pgpass_password(pg, team_db):
    for tcp in (False, True):
        with psycopg.connect(pg.dsn(dbname=team_db, tcp=tcp)) as conn:
            assert conn.execute("SELECT current_database()").fetchone()[0] == team_db
            owner = conn.execute("SELECT current_setting('data_directory')").fetchone()[0]
    assert owner == str(pg.data)
    if os.geteuid() == 0:
        assert pwd.getpwuid(pg.data.stat().st_uid).pw_name != "root"


def test_a_wrong_password_is_refused(pg, tmp_path, monkeypatch):
    bad = tmp_path / "pgpass"
    bad.write_text("*:*:*:callcue_it:wrong\n")
    bad.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(bad))
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(pg.dsn())


def test_tls_with_verify_full(pg, team_db, tmp_path):
    from callcue.store import team

    dsn = f"host=localhost port={pg.port} dbname={team_db} user=callcue_it sslmode=verify-full sslrootcert={pg.ca}"
    with team.connect(dsn) as conn:
        assert conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()[0] is True
    other = tmp_path / "other-ca.pem"
    import subprocess

    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(tmp_path / "k"),
                    "-out", str(other), "-days", "1", "-subj", "/CN=someone else"], check=True, capture_output=True)
    with pytest.raises(team.TeamError, match="failed the TLS check.*certificate verify failed.*sslrootcert"):
        team.connect(dsn.replace(str(pg.ca), str(other)))
