"""The live-chat endpoint: loopback only, token, status codes, and a conversation that gets its cues."""

import http.client
import json
import os
import socket
import stat
import threading
from pathlib import Path

import pytest

from callcue.chat.server import ChatServer, load_or_create_token, token_path
from callcue.errors import CallcueError


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def server(playbook, clock):
    got: list[tuple[str, list]] = []
    srv = ChatServer(playbook, port=0, clock=clock, tick_s=None, on_events=lambda c, e: got.append((c, e)))
    srv.published = got
    with srv:
        yield srv


def call(srv, method, path, body=None, token=True, headers=None, raw=None):
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    h = {"Authorization": f"Bearer {srv.token}"} if token is True else ({"Authorization": token} if token else {})
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    if data is not None:
        h["Content-Type"] = "application/json"
    h.update(headers or {})
    conn.request(method, path, body=data, headers=h)
    resp = conn.getresponse()
    out = resp.status, json.loads(resp.read() or b"{}"), dict(resp.getheaders())
    conn.close()
    return out


def post(srv, chat, who, text, t=None):
    body = {"who": who, "text": text} | ({"t": t} if t is not None else {})
    status, data, _ = call(srv, "POST", f"/v1/chats/{chat}/messages", body)
    assert status == 200, data
    return data


def cue_ids(data):
    return [c["id"] for c in data["cues"]]


# ---- a conversation ---------------------------------------------------------------------------

def test_a_posted_conversation_gets_its_cues(server, clock):
    c = "conv-1"
    assert cue_ids(post(server, c, "customer", "Hi, my parcel has not arrived.", 0)) == []
    data = post(server, c, "customer", "Hello?? Is anyone there?", 130)
    assert cue_ids(data) == ["reply-waiting"] and data["cues"][0]["at"] == 120.0
    assert [e["type"] for e in data["events"]] == ["cue", "utterance", "frustration"]
    data = post(server, c, "customer", "I want to speak to a manager NOW", 140)
    assert cue_ids(data) == ["escalation-request"] and data["active_cue"]["id"] == "escalation-request"
    assert data["frustration"] > 0.5
    data = post(server, c, "agent", "I'm so sorry about the wait. I will refund you today.", 150)
    assert [e["type"] for e in data["events"]] == ["utterance"]  # the promise waits behind the alert
    status, check, _ = call(server, "POST", f"/v1/chats/{c}/check", {"draft": "Please be advised it is closed."})
    assert status == 200 and {f["id"] for f in check["flags"]} == {"cold", "no-acknowledgement"}
    status, events, _ = call(server, "GET", f"/v1/chats/{c}/events?since=0")
    assert status == 200 and events["next"] == len(events["events"]) and events["events"][0]["type"] == "call"
    clock.t += 60  # a minute later on the server's clock: the alert has left the screen, the promise shows
    status, end, _ = call(server, "POST", f"/v1/chats/{c}/end", {})
    assert status == 200 and end["events"][-1]["type"] == "summary"
    assert end["events"][-1]["cues"] == ["reply-waiting", "escalation-request", "note-commitment"]
    # every event also went to the hook, in order, for the overlay's chat panel
    hooked = [e.to_dict() for chat, evs in server.published if chat == c for e in evs]
    assert [e["type"] for e in hooked].count("cue") == 3 and hooked[-1]["type"] == "summary"


def test_batch_of_messages_and_iso_times(server):
    body = {"messages": [{"t": "2024-05-01T10:00:00Z", "who": "customer", "text": "Card charged twice!"},
                         {"t": "2024-05-01T10:03:00Z", "who": "customer", "text": "hello?"}]}
    status, data, _ = call(server, "POST", "/v1/chats/iso/messages", body)
    assert status == 200 and cue_ids(data) == ["reply-waiting"] and data["cues"][0]["at"] == 120.0


def test_waiting_fires_on_the_servers_clock_while_nobody_writes(server, clock):
    post(server, "w", "customer", "Where is my refund?")  # no "t": the server's clock
    clock.t += 119
    assert server.tick_all() == {}
    clock.t += 2
    fired = server.tick_all()
    assert [e.id for e in fired["w"]] == ["reply-waiting"] and fired["w"][0].at == 120.0
    assert server.published[-1][0] == "w" and server.published[-1][1] == fired["w"]


def test_the_ticker_thread_delivers_to_the_hook(playbook, clock):
    done = threading.Event()
    got = []

    def hook(chat, events):
        got.extend(events)
        if any(e.type == "cue" for e in events):
            done.set()

    with ChatServer(playbook, port=0, clock=clock, tick_s=0.01, on_events=hook) as srv:
        post(srv, "t", "customer", "Anyone there?")
        clock.t += 500
        assert done.wait(10), "the ticker did not fire the waiting cue"
    assert [e.id for e in got if e.type == "cue"] == ["reply-waiting"]


# ---- status codes -----------------------------------------------------------------------------

def test_401_without_or_with_a_wrong_token(server):
    for token in (None, "Bearer nope", f"Basic {server.token}", "Bearer"):
        status, data, headers = call(server, "POST", "/v1/chats/a/messages", {"who": "agent", "text": "x"},
                                     token=token)
        assert status == 401 and "token" in data["error"] and headers["WWW-Authenticate"].startswith("Bearer")
    assert server.session("a") is None  # nothing was taken in


@pytest.mark.parametrize("raw, words", [
    (b"{not json", "not JSON"),
    (b"\xff\xfe", "not UTF-8"),
    (b"[1, 2]", "must be a JSON object"),
    (b'{"who": "robot", "text": "hi"}', '"who" must be "agent" or "customer"'),
    (b'{"who": "agent"}', '"text" must be a string'),
    (b'{"who": "agent", "text": "hi", "colour": "red"}', "unknown field"),
    (b'{"who": "agent", "text": "hi", "t": "last tuesday"}', "is not seconds"),
    (b'{"messages": []}', "non-empty list"),
])
def test_400_with_a_json_error_for_a_bad_body(server, raw, words):
    status, data, headers = call(server, "POST", "/v1/chats/b/messages", raw=raw)
    assert status == 400 and words in data["error"] and headers["Content-Type"].startswith("application/json")


def test_400_for_mixed_time_kinds_and_a_bad_chat_id(server):
    post(server, "m", "customer", "hi", 5)
    status, data, _ = call(server, "POST", "/v1/chats/m/messages", {"who": "agent", "text": "hello"})
    assert status == 400 and "same kind of time" in data["error"]
    status, data, _ = call(server, "POST", "/v1/chats/a%20b/messages", {"who": "agent", "text": "x"})
    assert status == 400 and "chat id" in data["error"]


def test_413_for_a_body_too_large(server):
    big = json.dumps({"who": "customer", "text": "a" * (server.max_body + 10)}).encode()
    status, data, _ = call(server, "POST", "/v1/chats/big/messages", raw=big)
    assert status == 413 and "larger than" in data["error"]
    assert server.session("big") is None


def test_404_405_411_and_403(server):
    assert call(server, "POST", "/v1/nothing", {})[0] == 404
    assert call(server, "GET", "/v1/chats/never-seen")[0] == 404
    assert call(server, "GET", "/v1/chats/x/messages")[0] == 405
    assert call(server, "PUT", "/v1/chats/x/messages", {})[0] == 405
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.putrequest("POST", "/v1/chats/x/messages")
    conn.putheader("Authorization", f"Bearer {server.token}")
    conn.endheaders()
    assert conn.getresponse().status == 411
    conn.close()
    status, data, _ = call(server, "POST", "/v1/chats/x/messages", {"who": "agent", "text": "x"},
                           headers={"Host": "evil.example:80"})
    assert status == 403 and "Host" in data["error"]


# ---- loopback only, and the token file ------------------------------------------------------------

def _listening(port: int) -> list[str]:
    """Local addresses with a listening TCP socket on `port`, from the kernel's own tables."""
    out = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        p = Path(name)
        if not p.exists():
            continue
        for line in p.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, hexport = local.split(":")
            if int(hexport, 16) == port and state == "0A":
                out.append(addr)
    return out


def test_it_listens_on_loopback_only(server):
    assert server.httpd.server_address[0] == "127.0.0.1"
    addrs = _listening(server.port)
    if Path("/proc/net/tcp").exists():
        assert addrs == ["0100007F"]  # 127.0.0.1, and nothing on 0.0.0.0 or any other interface
    try:  # the machine's own outward address (no packet is sent by a UDP connect)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))
            own = s.getsockname()[0]
    except OSError:
        own = None
    if own and not own.startswith("127."):
        with pytest.raises(OSError):
            socket.create_connection((own, server.port), timeout=2).close()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com"])
def test_it_refuses_to_bind_anywhere_else(playbook, host):
    with pytest.raises(CallcueError, match="loopback"):
        ChatServer(playbook, host=host, port=0, tick_s=None)


def test_serve_refuses_a_public_address_with_exit_2(capsys):
    from callcue.cli import main

    assert main(["chat", "serve", "--host", "0.0.0.0", "--port", "0"]) == 2
    assert "loopback" in capsys.readouterr().err


def test_the_token_is_created_once_and_readable_by_the_owner_only():
    path = token_path()
    assert not path.exists()
    token = load_or_create_token()
    assert path.exists() and len(token) >= 32 and path.read_text().strip() == token
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        path.chmod(0o644)
    assert load_or_create_token() == token
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_server_uses_the_token_file(playbook):
    with ChatServer(playbook, port=0, tick_s=None) as srv:
        assert srv.token == token_path().read_text().strip()
