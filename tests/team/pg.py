"""A real PostgreSQL server for the team tests: Debian's `postgresql` package, started by the test itself.

`initdb` in a fresh folder under /tmp, listening on a private Unix socket and a free port on
127.0.0.1, run as an unprivileged user when the tests run as root (PostgreSQL refuses root),
stopped and removed at the end. Passwords are SCRAM and reach libpq from a pgpass file only,
as they do on an agent's PC. Never a mock: RLS, roles and faults are the server's own.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

SUPERUSER = "callcue_it"


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    which = shutil.which("initdb")
    if which:
        return Path(which).parent
    raise RuntimeError("PostgreSQL's initdb is not installed: run `./setup.sh --test` "
                       "(Debian's postgresql package)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _runas() -> str | None:
    """The user the server runs as: ourselves, or an unprivileged one when we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and no unprivileged user (postgres, nobody) to run PostgreSQL as")


@dataclass
class PgServer:
    base: Path
    port: int
    bindir: Path
    user: str | None
    passwords: dict[str, str] = field(default_factory=dict)

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def sockdir(self) -> Path:
        return self.base / "sock"

    @property
    def pgpass(self) -> Path:
        return self.base / "pgpass"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.bindir / args[0]), *args[1:]], user=self.user, check=check,
                              capture_output=True, text=True, cwd=self.base, timeout=120)

    def init(self) -> None:
        pwfile = self.base / "pw"
        self.passwords[SUPERUSER] = "it-" + os.urandom(6).hex()
        pwfile.write_text(self.passwords[SUPERUSER] + "\n")
        self.sockdir.mkdir()
        if self.user:
            uid = pwd.getpwnam(self.user).pw_uid
            for p in (self.base, self.sockdir, pwfile):
                os.chown(p, uid, -1)
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=scram-sha-256",
                  f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C", "--no-sync")
        pwfile.unlink()
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\n"
                       f"unix_socket_directories = '{self.sockdir}'\nfsync = off\n"
                       "max_connections = 60\nlog_min_messages = warning\n")
        self._tls()
        self.write_pgpass()

    @property
    def ca(self) -> Path:
        return self.base / "tls" / "ca.pem"

    def _tls(self) -> None:
        """A private CA and a server certificate for localhost, so clients can use sslmode=verify-full."""
        tls = self.base / "tls"
        tls.mkdir()

        def openssl(*args: str) -> None:
            subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=tls, timeout=60)

        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
                "-days", "2", "-subj", "/CN=callcue test CA")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
                "-subj", "/CN=localhost")
        (tls / "ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "server.pem", "-days", "2", "-extfile", "ext")
        key = tls / "server.key"
        key.chmod(0o600)
        if self.user:
            uid = pwd.getpwnam(self.user).pw_uid
            for p in (tls, key, tls / "server.pem"):
                os.chown(p, uid, -1)
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"ssl = on\nssl_cert_file = '{tls / 'server.pem'}'\nssl_key_file = '{key}'\n")

    def write_pgpass(self) -> None:
        lines = [f"*:*:*:{user}:{pw}" for user, pw in self.passwords.items()]
        self.pgpass.write_text("\n".join(lines) + "\n")
        self.pgpass.chmod(0o600)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.base / "log"), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def pids(self) -> list[int]:
        """The postmaster and all its children (backends), for SIGSTOP/SIGCONT."""
        try:
            main = int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return []
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(main)], capture_output=True, text=True)
        return [main] + [int(x) for x in out.stdout.split()]

    def pause(self) -> None:
        """The server stops answering but keeps its sockets: a network that times out."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def _signal(self, sig: int) -> None:
        for pid in self.pids():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass  # a backend whose connection just ended

    def dsn(self, user: str = SUPERUSER, dbname: str = "postgres", tcp: bool = False) -> str:
        host = "127.0.0.1" if tcp else str(self.sockdir)
        return f"host={host} port={self.port} dbname={dbname} user={user} connect_timeout=5"

    def add_login(self, login: str) -> str:
        """Give a login a password (as IT would) and put it in the pgpass file (as on the PC)."""
        import psycopg
        from psycopg import sql

        pw = "pw-" + os.urandom(6).hex()
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(login), sql.Literal(pw)))
        self.passwords[login] = pw
        self.write_pgpass()
        return pw

    def create_db(self, name: str) -> str:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return name


def start_server() -> PgServer:
    base = Path(tempfile.mkdtemp(prefix="callcue-pg-"))  # /tmp: a root-only pytest folder is out of reach
    server = PgServer(base=base, port=_free_port(), bindir=_bindir(), user=_runas())
    try:
        server.init()
        server.start()
    except BaseException:
        remove(server)
        raise
    return server


def remove(server: PgServer) -> None:
    server.resume()
    server.stop("immediate")
    for _ in range(50):
        if not (server.data / "postmaster.pid").exists():
            break
        time.sleep(0.1)  # pg_ctl -w returned; the pid file goes with the last process
    shutil.rmtree(server.base, ignore_errors=True)
