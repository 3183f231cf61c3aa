"""The team store: every agent's calls in one PostgreSQL database, for their supervisors and QA.

Access is kept by the database, not by Callcue: each person connects with their own login, which is a
member of one of three group roles, and row-level security decides what that login's SQL can see:

  callcue_agent       their own sessions and events (and who opened them: the audit of their calls)
  callcue_supervisor  their team's sessions; another person's events only through
                      `callcue.read_events(id, 'view'|'export')`, which writes the audit row first
  callcue_qa          every session, the same audited way to the events

The audit table has no UPDATE or DELETE grant for anyone but its owner (IT). The server's schema is
versioned like the local store's (`callcue.schema_version`): a Callcue that knows an older schema
still works on a newer server as long as that server says it is compatible (`compatible_from`), and
never changes its schema; a newer Callcue refuses an older schema and says to run `callcue team setup`.

The DSN (`team_dsn` in settings, `CALLCUE_TEAM_DSN` overrides) is a libpq connection string or URI,
or the name of a service in the libpq service file; the password comes from a pgpass file or that
service file, never from Callcue's settings. TLS is libpq's (`sslmode=verify-full sslrootcert=...`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from callcue.errors import CallcueError

SCHEMA = "callcue"
ROLES = ("agent", "supervisor", "qa")
CONNECT_TIMEOUT_S = 5
STATEMENT_TIMEOUT_MS = 15000


class TeamError(CallcueError):
    """The team server could not be used: what, where, what to do. Local recording is never affected."""


def role_name(role: str) -> str:
    return f"callcue_{role}"


# -- the DSN ------------------------------------------------------------------------------------


def conninfo(dsn: str) -> str:
    """A libpq connection string for a DSN, URI or service name; refuses a password in it."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    text = (dsn or "").strip()
    if not text:
        raise TeamError("No team server is configured: set team_dsn in the managed settings (or "
                        "CALLCUE_TEAM_DSN) to a libpq DSN or service name, e.g. `service=callcue`.")
    if "=" not in text and "://" not in text:
        text = f"service={text}"  # a bare word is a service of pg_service.conf
    try:
        params = conninfo_to_dict(text)
    except psycopg.ProgrammingError as err:
        raise TeamError(f"The team DSN {dsn!r} is not a valid libpq connection string ({_first(err)}); "
                        "fix team_dsn (like `host=db.example user=kim dbname=callcue`).") from None
    if params.get("password"):
        raise TeamError("The team DSN holds a password; Callcue's settings must not. Remove it from team_dsn "
                        "and put it in a pgpass file (PGPASSFILE or ~/.pgpass) or the service file.")
    return text


def where(dsn: str) -> str:
    """The server and login a DSN names, for messages (never a password)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        p = conninfo_to_dict(conninfo(dsn))
    except CallcueError:
        return repr(dsn)
    if "service" in p and "host" not in p:
        return f"service {p['service']}"
    host = p.get("host") or "localhost"
    port = f":{p['port']}" if p.get("port") else ""
    user = f"{p['user']}@" if p.get("user") else ""
    db = f"/{p['dbname']}" if p.get("dbname") else ""
    return f"{user}{host}{port}{db}"


def _first(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0].strip() if text else type(err).__name__


def explain(err: BaseException, dsn: str, action: str) -> TeamError:
    """One clear line for what psycopg raised while `action` (connecting, syncing, ...)."""
    import psycopg

    at = where(dsn)
    text = str(err)
    low = text.lower()
    if isinstance(err, TeamError):
        return err
    state = getattr(err, "sqlstate", None) or ""
    if "password authentication failed" in low:
        return TeamError(f"The team server {at} refused the password (while {action}). Fix the login's line "
                         "in the pgpass file (PGPASSFILE or ~/.pgpass) or ask IT to reset it; local recording "
                         "goes on.")
    if "no password supplied" in low or "fe_sendauth" in low:
        return TeamError(f"The team server {at} asks for a password and none was found (while {action}). Add "
                         "the login's line to the pgpass file (PGPASSFILE or ~/.pgpass); local recording goes on.")
    if "does not exist" in low and ("database" in low or "role" in low):
        return TeamError(f"The team server {at} says: {_first(err)} (while {action}). Check team_dsn or ask IT "
                         "to run `callcue team setup` / `callcue team grant`.")
    if "certificate" in low or "sslrootcert" in low or "sslmode" in low:
        return TeamError(f"The team server {at} failed the TLS check ({_first(err)}, while {action}). Check "
                         "sslmode and sslrootcert in team_dsn (the CA that signed the server's certificate) "
                         "or ask IT; sessions wait on this PC.")
    if state == "53100" or "no space left" in low or "disk full" in low:
        return TeamError(f"The team server {at} has a full disk (while {action}); sessions wait on this PC and "
                         "are sent when IT frees space. Local recording goes on.")
    if state == "42501" or "permission denied" in low:
        return TeamError(f"The team server {at} refused this login (while {action}): {_first(err)}. Ask IT to "
                         "run `callcue team grant LOGIN --role agent|supervisor|qa`.")
    if state == "57014":
        return TeamError(f"The team server {at} took too long (while {action}); Callcue tries again later. "
                         "Local recording goes on.")
    if isinstance(err, psycopg.OperationalError) or isinstance(err, OSError):
        return TeamError(f"Cannot reach the team server {at} ({_first(err)}, while {action}); sessions wait on "
                         "this PC and are sent when it answers. Check the network or team_dsn.")
    return TeamError(f"The team server {at} failed while {action}: {_first(err)}.")


def connect(dsn: str, *, autocommit: bool = False, timeout_s: float = CONNECT_TIMEOUT_S,
            action: str = "connecting") -> Any:
    """A psycopg connection with timeouts: connecting, each statement, and a dead TCP peer."""
    import psycopg

    info = conninfo(dsn)
    try:
        return psycopg.connect(
            info, autocommit=autocommit, connect_timeout=max(1, int(timeout_s)),
            application_name="callcue", keepalives=1, keepalives_idle=10, keepalives_interval=5,
            keepalives_count=2, tcp_user_timeout=int(timeout_s * 2000),
            options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c lock_timeout={STATEMENT_TIMEOUT_MS}",
        )
    except psycopg.Error as err:
        raise explain(err, dsn, action) from None


@contextmanager
def errors(dsn: str, action: str) -> Iterator[None]:
    import psycopg

    try:
        yield
    except psycopg.Error as err:
        raise explain(err, dsn, action) from None


# -- the schema ---------------------------------------------------------------------------------

# Each entry takes the server from version i to i + 1 and states from which client version on it can
# still be written by an older Callcue (new columns with defaults keep old clients working).
V1 = """
CREATE SCHEMA callcue;
CREATE TABLE callcue.schema_version (
    version          integer NOT NULL,
    compatible_from  integer NOT NULL,
    server_id        uuid NOT NULL DEFAULT gen_random_uuid(),
    installed_at     timestamptz NOT NULL DEFAULT now(),
    installed_by     name NOT NULL DEFAULT current_user
);
CREATE TABLE callcue.members (
    login  name PRIMARY KEY,
    role   text NOT NULL CHECK (role IN ('agent', 'supervisor', 'qa')),
    team   text
);
CREATE TABLE callcue.sessions (
    id                text PRIMARY KEY,
    login             name NOT NULL DEFAULT current_user,
    team              text,
    agent             text,
    kind              text NOT NULL,
    profile           text,
    started_at        timestamptz NOT NULL,
    duration_s        double precision,
    model             text,
    state             text NOT NULL,
    summary           jsonb,
    peak_frustration  double precision,
    flags             text[] NOT NULL DEFAULT '{}',
    last_seq          integer NOT NULL DEFAULT -1,
    meta_tag          text,
    frustration       double precision,
    frustration_trend text,
    last_cue          text,
    last_event_t      double precision,
    seen_at           timestamptz NOT NULL DEFAULT now(),
    pc                text
);
CREATE INDEX sessions_login ON callcue.sessions (login, started_at);
CREATE INDEX sessions_team ON callcue.sessions (team, started_at);
CREATE INDEX sessions_started ON callcue.sessions (started_at);
CREATE INDEX sessions_open ON callcue.sessions (seen_at) WHERE state = 'open';
CREATE TABLE callcue.events (
    session_id   text NOT NULL REFERENCES callcue.sessions (id) ON DELETE CASCADE,
    seq          integer NOT NULL,
    login        name NOT NULL DEFAULT current_user,
    type         text NOT NULL,
    t            double precision NOT NULL,
    data         jsonb NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, seq)
);
CREATE TABLE callcue.audit (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor        name NOT NULL,
    action       text NOT NULL,
    session_id   text,
    agent_login  name,
    team         text,
    detail       jsonb
);
CREATE INDEX audit_session ON callcue.audit (session_id);
-- Sessions erased on the server (`callcue team forget`): each PC erases its own copy at its next sync.
CREATE TABLE callcue.forgotten (
    id          bigserial PRIMARY KEY,
    session_id  text NOT NULL,
    login       name NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX forgotten_login ON callcue.forgotten (login, id);

-- The team a session belongs to is the uploader's team when it first arrives; neither it nor the
-- login can be changed by the agent afterwards.
CREATE FUNCTION callcue.stamp_session() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        NEW.login := OLD.login;
        NEW.team := OLD.team;
    ELSE
        NEW.team := (SELECT m.team FROM callcue.members m WHERE m.login = NEW.login);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER sessions_stamp BEFORE INSERT OR UPDATE ON callcue.sessions
    FOR EACH ROW EXECUTE FUNCTION callcue.stamp_session();

-- The connected login's team (session_user: a definer function's current_user is its owner).
CREATE FUNCTION callcue.my_team() RETURNS text LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
    SELECT m.team FROM callcue.members m WHERE m.login = session_user
$$;

-- Another person's events: allowed to QA and to the session's team supervisor, audited first.
-- A session that does not exist and one that may not be read give the same error.
CREATE FUNCTION callcue.read_events(p_session text, p_action text DEFAULT 'view')
RETURNS TABLE (seq integer, type text, t double precision, data jsonb)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    me name := session_user;
    s_login name;
    s_team text;
BEGIN
    IF p_action NOT IN ('view', 'export') THEN
        RAISE EXCEPTION 'action must be view or export' USING ERRCODE = '22023';
    END IF;
    SELECT s.login, s.team INTO s_login, s_team FROM callcue.sessions s WHERE s.id = p_session;
    IF NOT FOUND OR (s_login <> me AND NOT (
            pg_has_role(me, 'callcue_qa', 'MEMBER')
            OR (pg_has_role(me, 'callcue_supervisor', 'MEMBER') AND s_team IS NOT NULL
                AND s_team = (SELECT m.team FROM callcue.members m WHERE m.login = me)))) THEN
        RAISE EXCEPTION 'no session % that this login may read', p_session USING ERRCODE = '42501';
    END IF;
    IF s_login <> me THEN
        INSERT INTO callcue.audit (actor, action, session_id, agent_login, team)
        VALUES (me, p_action, p_session, s_login, s_team);
    END IF;
    RETURN QUERY SELECT e.seq, e.type, e.t, e.data FROM callcue.events e
        WHERE e.session_id = p_session AND e.login = s_login ORDER BY e.seq;
END $$;

ALTER TABLE callcue.sessions ENABLE ROW LEVEL SECURITY;
CREATE POLICY agent_own ON callcue.sessions TO callcue_agent
    USING (login = current_user) WITH CHECK (login = current_user);
CREATE POLICY supervisor_team ON callcue.sessions FOR SELECT TO callcue_supervisor
    USING (team IS NOT NULL AND team = callcue.my_team());
CREATE POLICY qa_all ON callcue.sessions FOR SELECT TO callcue_qa USING (true);

ALTER TABLE callcue.events ENABLE ROW LEVEL SECURITY;
CREATE POLICY agent_own ON callcue.events TO callcue_agent
    USING (login = current_user)
    WITH CHECK (login = current_user AND EXISTS (
        SELECT 1 FROM callcue.sessions s WHERE s.id = session_id AND s.login = current_user));

ALTER TABLE callcue.members ENABLE ROW LEVEL SECURITY;
CREATE POLICY self ON callcue.members FOR SELECT TO callcue_agent, callcue_supervisor, callcue_qa
    USING (login = current_user);
CREATE POLICY supervisor_team ON callcue.members FOR SELECT TO callcue_supervisor
    USING (team IS NOT NULL AND team = callcue.my_team());
CREATE POLICY qa_all ON callcue.members FOR SELECT TO callcue_qa USING (true);

ALTER TABLE callcue.forgotten ENABLE ROW LEVEL SECURITY;
CREATE POLICY agent_own ON callcue.forgotten FOR SELECT TO callcue_agent USING (login = current_user);

ALTER TABLE callcue.audit ENABLE ROW LEVEL SECURITY;
CREATE POLICY agent_own ON callcue.audit FOR SELECT TO callcue_agent USING (agent_login = current_user);
CREATE POLICY supervisor_team ON callcue.audit FOR SELECT TO callcue_supervisor
    USING (actor = current_user OR (team IS NOT NULL AND team = callcue.my_team()));
CREATE POLICY qa_all ON callcue.audit FOR SELECT TO callcue_qa USING (true);

REVOKE ALL ON SCHEMA callcue FROM PUBLIC;
GRANT USAGE ON SCHEMA callcue TO callcue_agent, callcue_supervisor, callcue_qa;
GRANT SELECT ON callcue.schema_version, callcue.members, callcue.audit
    TO callcue_agent, callcue_supervisor, callcue_qa;
GRANT SELECT, INSERT, UPDATE ON callcue.sessions, callcue.events TO callcue_agent;
GRANT SELECT ON callcue.forgotten TO callcue_agent;
GRANT SELECT ON callcue.sessions TO callcue_supervisor, callcue_qa;
REVOKE ALL ON FUNCTION callcue.read_events(text, text), callcue.my_team(), callcue.stamp_session()
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION callcue.read_events(text, text), callcue.my_team()
    TO callcue_agent, callcue_supervisor, callcue_qa;
"""

MIGRATIONS: list[tuple[str, int]] = [(V1, 1)]  # (SQL, compatible_from of the version it makes)
LATEST = len(MIGRATIONS)


@dataclass
class ServerSchema:
    version: int
    compatible_from: int
    server_id: str


def read_schema(conn: Any) -> ServerSchema | None:
    """The server's schema version, or None when Callcue was never set up in this database."""
    row = conn.execute(
        "SELECT to_regclass('callcue.schema_version') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return None
    row = conn.execute("SELECT version, compatible_from, server_id::text FROM callcue.schema_version").fetchone()
    if row is None:
        return None
    return ServerSchema(int(row[0]), int(row[1]), str(row[2]))


def check_schema(conn: Any, dsn: str, known: int | None = None) -> ServerSchema:
    """Refuse a server this Callcue (knowing schema `known`, default LATEST) cannot use, with what to run."""
    import psycopg

    known = LATEST if known is None else known
    try:
        found = read_schema(conn)
    except psycopg.Error as err:
        conn.rollback()
        raise explain(err, dsn, "reading the schema version") from None
    at = where(dsn)
    if found is None:
        raise TeamError(f"The team database {at} has no Callcue schema (or this login may not see it); IT runs "
                        "`callcue team setup` on it, then `callcue team grant LOGIN --role ...`.")
    if found.version < known:
        raise TeamError(f"The team database {at} has schema version {found.version}; this Callcue needs {known}. "
                        "IT runs `callcue team setup` with this Callcue to upgrade it; sessions wait on this PC.")
    if found.compatible_from > known:
        raise TeamError(f"The team database {at} has schema version {found.version}, made for Callcue versions "
                        f"that know schema {found.compatible_from} or later; this one knows {known}. Update "
                        "Callcue on this PC; sessions wait on this PC and nothing was changed on the server.")
    return found


def setup(dsn: str) -> list[str]:
    """Create (or upgrade) the schema, the group roles and the policies; what was done, one line each.

    Run by IT with a login that may create roles (a superuser, or the database owner with CREATEROLE)."""
    from psycopg import sql

    done: list[str] = []
    with connect(dsn, action="setting up the team database") as conn, \
            errors(dsn, "setting up the team database"):
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('callcue team setup'))")
        current = read_schema(conn)
        have = current.version if current else 0
        if have > LATEST:
            raise TeamError(f"The team database {where(dsn)} has schema version {have}, newer than this Callcue's "
                            f"{LATEST}; it was left as it is. Run `callcue team setup` with the newer Callcue.")
        for role in ROLES:
            name = role_name(role)
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
            if exists:
                done.append(f"group role {name}: already there")
            else:
                conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(name)))
                done.append(f"created group role {name} (NOLOGIN)")
        if have == LATEST:
            done.append(f"schema {SCHEMA} is already at version {LATEST}: nothing to change")
        for version in range(have + 1, LATEST + 1):
            script, compatible = MIGRATIONS[version - 1]
            conn.execute(script)  # psycopg sends a script of several statements as one simple query
            if version == 1:
                conn.execute("INSERT INTO callcue.schema_version (version, compatible_from) VALUES (%s, %s)",
                             (version, compatible))
                done += [f"created schema {SCHEMA}: tables schema_version, members, sessions, events, audit, "
                         "forgotten",
                         "enabled row-level security: agents read their own sessions, supervisors their "
                         "team's, QA all; others' events only through callcue.read_events (audited)",
                         "audit: readable by supervisors and QA, changed by no one but the owner"]
            else:
                conn.execute("UPDATE callcue.schema_version SET version = %s, compatible_from = %s",
                             (version, compatible))
                done.append(f"upgraded schema {SCHEMA} to version {version}")
        conn.commit()
    return done


def grant(dsn: str, login: str, role: str, team: str | None) -> list[str]:
    """Make `login` an agent, supervisor or QA (creating the login role without a password if needed)."""
    from psycopg import sql

    if role not in ROLES:
        raise TeamError(f"Role {role!r} is not one of {', '.join(ROLES)}.")
    if role == "supervisor" and not team:
        raise TeamError("A supervisor needs a team: add --team NAME (the team whose calls they review).")
    if not login or login.startswith("callcue_") or login.startswith("pg_"):
        raise TeamError(f"Login {login!r} cannot be used; choose the person's own database login.")
    done: list[str] = []
    with connect(dsn, action="granting a role") as conn, errors(dsn, "granting a role"):
        check_schema(conn, dsn)
        ident = sql.Identifier(login)
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (login,)).fetchone():
            done.append(f"login {login}: already there")
        else:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(ident))
            done.append(f"created login {login} (no password yet: set one with `\\password {login}` in psql, "
                        "or use certificates)")
        for other in ROLES:
            if other != role:
                conn.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(role_name(other)), ident))
        conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(role_name(role)), ident))
        conn.execute(
            "INSERT INTO callcue.members (login, role, team) VALUES (%s, %s, %s)"
            " ON CONFLICT (login) DO UPDATE SET role = EXCLUDED.role, team = EXCLUDED.team", (login, role, team))
        done.append(f"{login} is now {role_name(role)}" + (f" in team {team}" if team else " (no team)"))
        conn.commit()
    return done


def forget(dsn: str, *, agent: str | None = None, session: str | None = None,
           older_than_days: float | None = None) -> list[str]:
    """Erase sessions on the server (IT: the schema's owner); what went, one line each.

    `agent` (a login) or `session` (an id): each PC that sent them erases its copy at its next sync
    (`callcue.forgotten`). `older_than_days`: the retention; each PC applies the same days itself
    (`retention_days`). A call in progress is never erased: its PC would only send it again."""
    if sum(x is not None for x in (agent, session, older_than_days)) != 1:
        raise TeamError("Say what to forget: --agent LOGIN, --session ID or --older-than DAYS (one of them).")
    if older_than_days is not None and older_than_days < 0:
        raise TeamError(f"--older-than {older_than_days:g}: give a number of days, 0 or more.")
    args: list[Any]
    if agent is not None:
        cond, args = "login = %s", [agent]
    elif session is not None:
        cond, args = "id = %s", [session]
    else:
        cond, args = "started_at < now() - make_interval(secs => %s)", [float(older_than_days or 0) * 86400]
    with connect(dsn, action="forgetting sessions") as conn, errors(dsn, "forgetting sessions"):
        check_schema(conn, dsn)
        live = conn.execute(f"SELECT count(*) FROM callcue.sessions WHERE {cond} AND state = 'open'",
                            args).fetchone()[0]
        if session is not None and live:
            raise TeamError(f"Session {session} is a call in progress; forget it once the call has ended.")
        events = conn.execute(
            f"SELECT count(*) FROM callcue.events WHERE session_id IN (SELECT id FROM callcue.sessions"
            f" WHERE {cond} AND state <> 'open')", args).fetchone()[0]
        gone = conn.execute(f"DELETE FROM callcue.sessions WHERE {cond} AND state <> 'open'"
                            " RETURNING id, login, team", args).fetchall()
        if older_than_days is None:
            conn.cursor().executemany("INSERT INTO callcue.forgotten (session_id, login) VALUES (%s, %s)",
                                      [(sid, login) for sid, login, _team in gone])
        conn.cursor().executemany(
            "INSERT INTO callcue.audit (actor, action, session_id, agent_login, team, detail)"
            " VALUES (current_user, 'forget', %s, %s, %s, %s::jsonb)",
            [(sid, login, team, '{"retention": true}' if older_than_days is not None else None)
             for sid, login, team in gone])
        conn.commit()
    if session is not None and not gone:
        raise TeamError(f"No session {session} on the team server {where(dsn)} (nothing was changed).")
    lines = [f"deleted {len(gone)} session(s) and {events} event(s) on the server"]
    if older_than_days is None and gone:
        lines.append(f"{len(gone)} tombstone(s) written: each agent's PC erases its copy at its next sync")
    if live:
        lines.append(f"{live} call(s) in progress were kept; run it again after they end")
    return lines
