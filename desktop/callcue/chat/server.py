"""Live chats: a local HTTP endpoint that a chat tool or browser extension posts messages to.

It listens on the loopback interface only (127.0.0.1 or ::1), and every request
must carry the token kept in the user's config folder (readable by the owner
only). Nothing is sent anywhere: responses go back to the local caller, and
events go to the `on_events(chat_id, events)` hook (the overlay's chat panel).

This is the edge where the wall clock lives: the engine's ChatSession runs on the
chat's own clock; here a message with no time of its own is stamped with the
server's clock, and a ticker moves each chat's clock on so that "no reply for two
minutes" fires while nobody writes.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import os
import re
import secrets
import socket
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from callcue.chat.engine import ChatSession
from callcue.chat.readers import MAX_TEXT_CHARS, SPEAKERS, parse_time
from callcue.engine.events import Event
from callcue.engine.playbook import Playbook, load_playbook
from callcue.errors import CallcueError

TOKEN_FILE = "chat-token"
MAX_CHATS = 200  # live chats kept at once; the one idle longest is dropped beyond this
# Connection limits: the endpoint serves one chat tool or extension on this computer, which needs a
# few connections at a time. Beyond MAX_CONNECTIONS a connection is answered 503 at once, without a
# thread; a connection that sends nothing for READ_TIMEOUT_S (idle between requests, or stalled in
# one) is closed, so idle ones cannot hold the slots.
MAX_CONNECTIONS = 32
READ_TIMEOUT_S = 10.0
MAX_MESSAGE_CHARS = 200  # what an error message quotes of the request
CHAT_ID = re.compile(r"^[A-Za-z0-9._~-]{1,128}$")
ROUTE = re.compile(r"^/v1/chats/(?P<id>[^/]+)(?:/(?P<what>messages|check|end|events))?/?$")

EventsHook = Callable[[str, list[Event]], None]


# ---- the token ---------------------------------------------------------------------------------

def token_path() -> Path:
    from callcue.paths import user_config_dir

    return user_config_dir() / TOKEN_FILE


def load_or_create_token(path: Path | None = None) -> str:
    """The endpoint's token; created on first use with mode 0600 (owner read/write only)."""
    p = path or token_path()
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            if os.name == "posix" and p.stat().st_mode & 0o077:
                os.chmod(p, 0o600)  # someone loosened it: only the owner may read the token
            try:
                token = p.read_text(encoding="utf-8").strip()
            except UnicodeDecodeError:
                token = ""  # bytes, not a token: damaged, as an empty or truncated one is
            if len(token) >= 16:
                return token
            p.unlink()  # empty or truncated: make a new one
            return load_or_create_token(p)
        token = secrets.token_urlsafe(32)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(token + "\n")
        return token
    except (OSError, UnicodeDecodeError) as err:
        raise CallcueError(f"{p}: cannot read or create the chat token ({err}); check the folder's "
                           "permissions") from None


# ---- the server --------------------------------------------------------------------------------

class _Live:
    """A chat and the server-clock bookkeeping that maps wall time onto the chat's clock."""

    def __init__(self, session: ChatSession, clock: float):
        self.session = session
        self.lock = threading.Lock()
        self.started = clock  # server clock at the chat's first message
        self.last_seen = clock  # server clock at the chat's latest message
        self.origin: datetime | None = None  # the first ISO time the client sent, if it sends them
        self.mode: str | None = None  # "server", "seconds" or "iso": where message times come from

    def mode_name(self) -> str:
        return {"server": "the server's clock (no \"t\")", "seconds": "seconds in \"t\"",
                "iso": "ISO times in \"t\""}.get(self.mode or "", "nothing")

    def chat_now(self, clock: float) -> float:
        """The chat's clock now: its latest time plus the real time gone by since."""
        return self.session.now + max(0.0, clock - self.last_seen)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False
    block_on_close = False  # stop() closes the open connections itself, so it never waits for a timeout
    request_queue_size = 64  # connections waiting to be accepted (the cap is then applied to each)

    def __init__(self, addr: tuple[str, int], handler: type[BaseHTTPRequestHandler], chat: ChatServer):
        self.chat = chat
        self._slots = threading.BoundedSemaphore(chat.max_connections)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        if ":" in addr[0]:
            self.address_family = socket.AF_INET6
        super().__init__(addr, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self._refuse(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._open_lock:
                self._open.discard(request)
            self._slots.release()

    def _refuse(self, request: socket.socket) -> None:
        """503 in JSON on a connection beyond the cap, from the accepting thread: a few hundred bytes to
        a new socket, sent at once; what the client already sent is drained so that closing does not
        reset the connection before the answer is read."""
        body = json.dumps({"error": f"too many connections to the chat endpoint (at most "
                                    f"{self.chat.max_connections} at once); close idle ones and try again",
                           "status": 503}).encode()
        head = ("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n"
                f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\nRetry-After: 1\r\n"
                "Connection: close\r\n\r\n").encode()
        try:
            request.settimeout(0.2)
            request.sendall(head + body)
            request.setblocking(False)
            request.recv(65536)
        except OSError:
            pass
        self.shutdown_request(request)

    def close_connections(self) -> None:
        """Wake every connection's thread (a read in progress ends at once) so that they all finish."""
        with self._open_lock:
            open_now = list(self._open)
        for sock in open_now:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Not socketserver's traceback: a client that went away is normal; anything else is one line."""
        err = sys.exc_info()[1]
        if isinstance(err, (ConnectionError, TimeoutError)) or self.chat._stop.is_set():
            return
        print(f"callcue: chat endpoint: {type(err).__name__}: {err}"[:300], file=sys.stderr)


def _loopback(host: str) -> str:
    if host == "localhost":
        return "127.0.0.1"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise CallcueError(f"{host!r}: the chat endpoint binds to a loopback address only "
                           "(127.0.0.1 or ::1)") from None
    if not ip.is_loopback:
        raise CallcueError(f"{host}: not a loopback address; the chat endpoint listens on this computer only "
                           "(127.0.0.1 or ::1)")
    return str(ip)


class ChatServer:
    """The local endpoint. `start()` serves in the background; `serve_forever()` blocks.

    on_events(chat_id, events) is called with every event the chats produce, from
    posts and from the ticker, in order per chat. It runs on the server's threads:
    a Qt panel should hand the events to its own thread (a queued signal).
    """

    def __init__(self, playbook: Playbook | None = None, host: str = "127.0.0.1", port: int | None = None,
                 token: str | None = None, on_events: EventsHook | None = None,
                 clock: Callable[[], float] = time.monotonic, tick_s: float | None = 1.0,
                 max_body: int | None = None, max_connections: int = MAX_CONNECTIONS,
                 read_timeout_s: float = READ_TIMEOUT_S):
        self.playbook = playbook or load_playbook()
        chat = self.playbook.section("chat")
        self.host = _loopback(host)
        self.token = token or load_or_create_token()
        self.on_events = on_events
        self.clock = clock
        self.tick_s = tick_s
        self.max_body = int(max_body if max_body is not None else chat["max_body_bytes"])
        self.max_connections = max_connections
        self.read_timeout_s = read_timeout_s
        self.chats: dict[str, _Live] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        want = int(chat["port"] if port is None else port)
        if not 0 <= want <= 65535:
            raise CallcueError(f"port {want}: a port is a number from 1 to 65535 (0: any free one); choose "
                               "another with --port (the overlay: Settings, Panel, Chat port)")
        try:
            self.httpd = _HTTPServer((self.host, want), _Handler, self)
        except OSError as err:
            # Said where each place that starts an endpoint can change its port: the overlay and the demo
            # in their settings (they have no --port), `chat serve` with --port.
            raise CallcueError(f"cannot listen on {self.host}:{want} ({err.strerror or err}); is another "
                               "Callcue running? Choose another chat port in Settings, Panel, Chat port (or "
                               "`callcue chat serve --port N`)") from None

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # lifecycle

    def start(self) -> ChatServer:
        # a short poll so that stop() returns at once
        t = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                             name="callcue-chat-http", daemon=True)
        t.start()
        self._threads.append(t)
        if self.tick_s:
            k = threading.Thread(target=self._ticker, name="callcue-chat-tick", daemon=True)
            k.start()
            self._threads.append(k)
        return self

    def serve_forever(self) -> None:
        self.start()
        try:
            while not self._stop.wait(0.5):
                pass
        finally:
            self.stop()

    def stop(self) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.httpd.close_connections()
        for t in self._threads:
            t.join(timeout=5)
        self._threads = []

    def __enter__(self) -> ChatServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # the chats

    def session(self, chat_id: str) -> ChatSession | None:
        live = self.chats.get(chat_id)
        return live.session if live else None

    def _live(self, chat_id: str, create: bool) -> _Live | None:
        with self._lock:
            live = self.chats.get(chat_id)
            if live is None and create:
                if len(self.chats) >= MAX_CHATS:
                    oldest = min(self.chats, key=lambda k: self.chats[k].last_seen)
                    del self.chats[oldest]
                live = _Live(ChatSession(chat_id=chat_id, playbook=self.playbook), self.clock())
                self.chats[chat_id] = live
            return live

    def _publish(self, chat_id: str, events: list[Event]) -> None:
        if events and self.on_events is not None:
            try:
                self.on_events(chat_id, events)
            except Exception as err:  # a broken listener must not take the endpoint down
                print(f"callcue: chat event listener failed: {err!r}", file=sys.stderr)

    def tick_all(self) -> dict[str, list[Event]]:
        """Move every chat's clock on to now (the ticker does this every tick_s)."""
        out: dict[str, list[Event]] = {}
        now = self.clock()
        with self._lock:
            chats = list(self.chats.items())
        for chat_id, live in chats:
            with live.lock:
                events = live.session.tick(live.chat_now(now))
                live.last_seen = now
                self._publish(chat_id, events)
            if events:
                out[chat_id] = events
        return out

    def _ticker(self) -> None:
        assert self.tick_s
        while not self._stop.wait(self.tick_s):
            try:
                self.tick_all()
            except Exception as err:
                print(f"callcue: chat ticker: {err!r}", file=sys.stderr)

    def post_messages(self, chat_id: str, messages: list[dict[str, Any]]) -> list[Event]:
        """Validate and add messages (the body of POST .../messages); raises ValueError for a bad one."""
        checked = [_message(m, i) for i, m in enumerate(messages)]
        live = self._live(chat_id, create=True)
        assert live is not None
        out: list[Event] = []
        with live.lock:
            now = self.clock()
            for who, text, t in checked:
                out += live.session.add(who, text, self._chat_time(live, t, now))
                live.last_seen = now
            self._publish(chat_id, out)
        return out

    def _chat_time(self, live: _Live, t: float | datetime | None, now: float) -> float:
        mode = "server" if t is None else "iso" if isinstance(t, datetime) else "seconds"
        if live.mode is None:
            live.mode = mode
        elif mode != live.mode:
            raise ValueError(f"this chat's messages so far were timed by {live.mode_name()}; "
                             "send the same kind of time (or none) with every message")
        if isinstance(t, datetime):
            if live.origin is None:
                live.origin = t
            if (t.tzinfo is None) != (live.origin.tzinfo is None):
                raise ValueError("mixes ISO times with and without a time zone")
            return max(0.0, (t - live.origin) / timedelta(seconds=1))
        if t is None:
            return live.chat_now(now)
        return float(t)

    def act(self, chat_id: str, action: str) -> list[Event]:
        """The agent's answer to a chat's cue ("dismiss", "snooze", "hold", "resume"), on the chat's clock
        now: the chat's engine counts it (cooldowns, the summary's dismissals) as a call's does."""
        live = self._live(chat_id, create=False)
        if live is None:
            return []
        with live.lock:
            now = self.clock()
            events = live.session.act(action, live.chat_now(now))
            live.last_seen = now
            self._publish(chat_id, events)
        return events

    def end(self, chat_id: str) -> list[Event]:
        with self._lock:
            live = self.chats.pop(chat_id, None)
        if live is None:
            return []
        with live.lock:
            events = live.session.finish(live.chat_now(self.clock()))
            self._publish(chat_id, events)
        return events


MAX_T = 10 * 365 * 86400  # seconds: a chat's clock does not run for ten years


def _clip(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS - 3] + "..."


def _quote(value: Any) -> str:
    """A client's value in an error message: as JSON, and short."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        text = type(value).__name__
    return _clip(text)


def _message(m: Any, i: int) -> tuple[str, str, float | datetime | None]:
    where = f"message {i + 1}"
    if not isinstance(m, dict):
        raise ValueError(f"{where}: expected an object with \"who\" and \"text\"")
    unknown = set(m) - {"who", "text", "t", "id"}
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}; "
                         "a message has \"who\", \"text\" and optionally \"t\"")
    who = m.get("who")
    if not isinstance(who, str) or who.strip().lower() not in SPEAKERS:
        raise ValueError(f"{where}: \"who\" must be \"agent\" or \"customer\", not {_quote(who)}")
    text = m.get("text")
    if not isinstance(text, str):
        raise ValueError(f"{where}: \"text\" must be a string")
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"{where}: \"text\" is longer than {MAX_TEXT_CHARS} characters")
    raw_t = m.get("t")
    if isinstance(raw_t, (list, dict)):
        raise ValueError(f"{where}: \"t\" must be seconds from the chat's start or an ISO time, not a "
                         f"{'list' if isinstance(raw_t, list) else 'object'}")
    if isinstance(raw_t, int) and not isinstance(raw_t, bool) and raw_t > MAX_T:
        # checked before parse_time, which would overflow turning an integer of 400 digits into a float
        raise ValueError(f"{where}: \"t\" is seconds from the chat's start; {_clip(str(raw_t))} is too large (use "
                         "an ISO time for clock times)")
    try:
        t = parse_time(raw_t, where)
    except CallcueError as err:
        raise ValueError(_clip(str(err))) from None
    if isinstance(t, (int, float)) and t > MAX_T:
        raise ValueError(f"{where}: \"t\" is seconds from the chat's start; {t:.0f} is too large (use an ISO time "
                         "for clock times)")
    return who.strip().lower(), text, t


# ---- HTTP ----------------------------------------------------------------------------------------

EXAMPLE_BODY = {"messages": '{"who": "customer", "text": "..."}', "check": '{"draft": "..."}', "end": "{}"}
_NO_BODY = object()  # _body()'s answer when it has replied with an error (a body may be JSON null)


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    server_version = "callcue-chat"
    sys_version = ""

    def setup(self) -> None:
        self.timeout = self.server.chat.read_timeout_s  # each read and write of this connection
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # requests carry customers' words: nothing is logged

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (a bad request line, headers too long, an unknown method) in JSON too."""
        self.close_connection = True
        reason = message or self.responses.get(code, ("error",))[0]
        self._error(code, _clip(f"{reason}; see docs/chat-api.md"), {"Connection": "close"})

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError):
            self.close_connection = True  # the client went away or stalled: nobody to answer
        except Exception as err:  # a bug: one line on stderr, and a JSON answer, never a traceback
            print(f"callcue: chat endpoint: {type(err).__name__}: {err}"[:300], file=sys.stderr)
            self.close_connection = True
            try:
                self._error(500, "the chat endpoint failed on this request; its message is on the server's "
                            "standard error")
            except OSError:
                pass

    def _reply(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        if self.request_version == "HTTP/0.9":  # a request line it cannot read, or "GET /" alone: a status
            self.request_version = "HTTP/1.0"   # line and headers all the same, so the client sees JSON
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        self._reply(status, {"error": message, "status": status}, headers)

    def _guard(self) -> bool:
        """Host and token; False (with the reply sent) when the request may not go on."""
        chat = self.server.chat
        host = (self.headers.get("Host") or "").strip().lower()
        bound = f"[{chat.host}]" if ":" in chat.host else chat.host  # --host 127.0.0.2 is asked for by that name
        allowed = {f"{name}:{chat.port}" for name in ("127.0.0.1", "localhost", "[::1]", bound)}
        if host and host not in allowed:
            # a web page that rebinds its own name to 127.0.0.1 still sends its own Host
            self._error(403, f"Host {_quote(host)} is not this computer's loopback address; ask for "
                        f"{bound}:{chat.port}")
            return False
        auth = self.headers.get("Authorization") or ""
        scheme, _, given = auth.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), chat.token.encode()):
            self._error(401, "missing or wrong token: send \"Authorization: Bearer TOKEN\" with the token from "
                        f"{token_path()}", {"WWW-Authenticate": 'Bearer realm="callcue"'})
            return False
        return True

    def _route(self) -> tuple[str, str | None] | None:
        m = ROUTE.match(urlsplit(self.path).path)
        if m is None:
            self._error(404, "no such endpoint; see docs/chat-api.md (POST /v1/chats/{id}/messages)")
            return None
        chat_id = m.group("id")
        if not CHAT_ID.match(chat_id):
            self._error(400, "a chat id is 1 to 128 letters, digits, '.', '_', '~' or '-'")
            return None
        return chat_id, m.group("what")

    def _body(self) -> Any:
        """The JSON body, or _NO_BODY with the error reply sent."""
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            self._error(411, "send a Content-Length (chunked bodies are not accepted)")
            return _NO_BODY
        if length is None:
            self.close_connection = True  # a body may follow all the same: the connection cannot be reused
            self._error(411, "send a Content-Length with the JSON body")
            return _NO_BODY
        try:
            if not length.strip().isdigit():
                raise ValueError
            n = int(length)
        except ValueError:
            self.close_connection = True
            self._error(400, "Content-Length is not a number")
            return _NO_BODY
        if n > self.server.chat.max_body:
            self.close_connection = True  # the body is not read: the connection cannot be reused
            self._error(413, f"body of {n} bytes is larger than {self.server.chat.max_body} bytes; "
                        "send fewer messages at once")
            return _NO_BODY
        try:
            raw = self.rfile.read(n)
        except TimeoutError:
            self.close_connection = True
            self._error(408, f"the body stopped arriving: nothing came for {self.server.chat.read_timeout_s:g} s "
                        f"of the {n} bytes its Content-Length announced; send the whole body at once")
            return _NO_BODY
        if len(raw) < n:
            self.close_connection = True  # the client closed its side: the answer may still reach it
            self._error(400, f"the body ended after {len(raw)} of its {n} bytes (Content-Length)")
            return _NO_BODY
        try:
            return json.loads(raw.decode("utf-8"), parse_constant=_not_json)
        except UnicodeDecodeError:
            self._error(400, "the body is not UTF-8 text")
        except json.JSONDecodeError as err:
            self._error(400, f"the body is not JSON ({err.msg} at line {err.lineno} column {err.colno})")
        except RecursionError:
            self._error(400, "the body is nested too deeply to be messages")
        except ValueError as err:  # NaN or Infinity, or a number of thousands of digits
            self._error(400, _clip(f"the body is not JSON that Callcue reads ({err})"))
        return _NO_BODY

    def _checked_route(self) -> tuple[str, str | None] | None:
        """The request's (chat id, what) once its token, host and path check out (None: answered already)."""
        return self._route() if self._guard() else None

    def do_POST(self) -> None:
        route = self._checked_route()
        if route is None:
            return
        chat_id, what = route
        if what not in ("messages", "check", "end"):
            self._error(405, f"POST is not allowed here; use POST /v1/chats/{chat_id}/messages",
                        {"Allow": "GET"} if what == "events" else {"Allow": ""})
            return
        chat = self.server.chat
        body = self._body()
        if body is _NO_BODY:
            return
        if not isinstance(body, dict):
            example = EXAMPLE_BODY[what]
            self._error(400, f"the body must be a JSON object ({example}), not {_kind(body)}")
            return
        if what == "end":
            events = chat.end(chat_id)
            self._reply(200, {"chat": chat_id, "events": [e.to_dict() for e in events]})
            return
        if what == "check":
            draft = body.get("draft")
            if not isinstance(draft, str) or not draft.strip():
                self._error(400, "\"draft\" must be the text of the reply to check")
                return
            session = chat.session(chat_id)
            if session is not None:
                result = session.check_reply(draft)
            else:
                from callcue.chat.replycheck import check_reply

                result = check_reply(draft, chat.playbook)
            self._reply(200, {"chat": chat_id, **result.to_dict()})
            return
        messages = body["messages"] if "messages" in body else [body]
        if not isinstance(messages, list) or not messages:
            self._error(400, "\"messages\" must be a non-empty list of messages")
            return
        try:
            events = chat.post_messages(chat_id, messages)
        except (ValueError, CallcueError) as err:
            self._error(400, str(err))
            return
        session = chat.session(chat_id)
        active = session.active_cue if session else None
        self._reply(200, {"chat": chat_id, "events": [e.to_dict() for e in events],
                          "cues": [e.to_dict() for e in events if e.type == "cue"],
                          "frustration": session.frustration if session else None,
                          "active_cue": active.to_dict() if active else None})

    def do_GET(self) -> None:
        route = self._checked_route()
        if route is None:
            return
        chat_id, what = route
        if what not in (None, "events"):
            self._error(405, "GET is allowed on /v1/chats/{id} and /v1/chats/{id}/events only", {"Allow": "POST"})
            return
        session = self.server.chat.session(chat_id)
        if session is None:
            self._error(404, f"no live chat {chat_id!r}; post a message to start one")
            return
        query = parse_qs(urlsplit(self.path).query)
        try:
            since = int(query.get("since", ["0"])[0])
        except ValueError:
            self._error(400, "\"since\" must be a whole number (the \"next\" of the previous answer)")
            return
        events = session.events[max(0, since):]
        active = session.active_cue
        self._reply(200, {"chat": chat_id, "events": [e.to_dict() for e in events],
                          "next": len(session.events), "frustration": session.frustration,
                          "active_cue": active.to_dict() if active else None})

    def _not_allowed(self) -> None:
        if self._guard():
            self._error(405, f"{self.command} is not allowed; use POST or GET", {"Allow": "GET, POST"})

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _not_allowed


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "true or false", int: "a number", float: "a number", str: "text", list: "a list"}.get(
        type(value), type(value).__name__)
