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


# ---- limits: every request gets a JSON answer, no traceback (issue 19 item 7) ----------------------

def exchange(srv, data: bytes, host=None) -> tuple[int, dict, bytes]:
    """Raw bytes in, (status, JSON body, head) out: for requests http.client will not send."""
    with socket.create_connection((host or "127.0.0.1", srv.port), timeout=10) as s:
        s.sendall(data)
        got = b""
        while chunk := s.recv(65536):
            got += chunk
    head, _, body = got.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body), head


def request(srv, body: bytes, path="/v1/chats/a/messages", host=None) -> bytes:
    return (f"POST {path} HTTP/1.0\r\nHost: {host or '127.0.0.1'}:{srv.port}\r\n"
            f"Authorization: Bearer {srv.token}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


@pytest.mark.parametrize("body, words", [
    (b"null", "the body must be a JSON object"),
    (b"[]", "not a list"),
    (b"5", "not a number"),
    (b"\"hi\"", "not text"),
    (b"[" * 20000 + b"]" * 20000, "nested too deeply"),
    (b'{"who": "customer", "text": "x", "t": ' + b"9" * 400 + b"}", "is too large"),
    (b'{"who": "customer", "text": "x", "t": ' + b"9" * 5000 + b"}", "the body is not JSON that Callcue reads"),
    (b'{"who": "customer", "text": "x", "t": NaN}', "NaN is not a JSON number"),
    (b'{"who": "customer", "text": "x", "t": -Infinity}', "-Infinity is not a JSON number"),
    (b'{"who": "customer", "text": "x", "t": [1]}', "\"t\" must be seconds"),
    (b'{"who": "' + b"x" * 5000 + b'", "text": "x"}', "\"who\" must be"),
    (b'{"who": "customer", "text": "x", "t": 1e400}', "time inf must be seconds"),
])
def test_every_body_gets_a_json_400(server, body, words):
    status, data, _ = exchange(server, request(server, body))
    assert status == 400 and words in data["error"] and data["status"] == 400
    assert len(data["error"]) < 400
    assert server.session("a") is None


@pytest.mark.parametrize("what", ["end", "check"])
def test_a_null_body_elsewhere_is_400_too(server, what):
    status, data, _ = exchange(server, request(server, b"null", f"/v1/chats/a/{what}"))
    assert status == 400 and "not null" in data["error"]


@pytest.mark.parametrize("data, status", [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET /v1/chats/a HTTP/9.9\r\n\r\n", 505),
    (b"BREW /v1/chats/a HTTP/1.0\r\n\r\n", 501),
    (b"GET /" + b"a" * 70000 + b" HTTP/1.0\r\n\r\n", 414),
    (b"GET /v1/chats/a HTTP/1.0\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n", 431),
    (b"GET /v1/chats/a HTTP/1.0\r\n" + b"X: y\r\n" * 120 + b"\r\n", 431),
])
def test_http_servers_own_errors_are_json(server, data, status):
    got, body, head = exchange(server, data)
    assert got == status and body["status"] == status and body["error"]
    assert b"application/json" in head and b"<html" not in head.lower()


def test_head_and_options_are_405_in_json(server):
    status, data, headers = call(server, "OPTIONS", "/v1/chats/a/messages")
    assert status == 405 and data["status"] == 405 and headers["Allow"] == "GET, POST"


def test_a_stalled_body_gets_408_and_an_idle_connection_is_closed(playbook):
    with ChatServer(playbook, port=0, tick_s=None, read_timeout_s=0.2) as srv:
        whole = request(srv, b'{"who": "customer", "text": "hello"}')
        status, data, _ = exchange(srv, whole[:-10])  # the client's socket stays open, its body unfinished
        assert status == 408 and "stopped arriving" in data["error"]
        with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
            assert s.recv(100) == b""  # closed by the server: sent nothing, so nothing to answer
        assert srv.session("a") is None


def test_connections_beyond_the_cap_get_503_and_no_thread(playbook):
    with ChatServer(playbook, port=0, tick_s=None, max_connections=3, read_timeout_s=60) as srv:
        before = threading.active_count()
        # idle connections (a client that connects and sends nothing) hold their slot until the timeout;
        # connections are accepted in the order they were made, so these three are the ones served
        held = [socket.create_connection(("127.0.0.1", srv.port), timeout=10) for _ in range(3)]
        refused = [exchange(srv, b"GET /v1/chats/x HTTP/1.0\r\n\r\n") for _ in range(20)]
        assert {r[0] for r in refused} == {503} and "too many connections" in refused[0][1]["error"]
        assert threading.active_count() <= before + 3
        for s in held:
            s.close()


def test_a_client_that_goes_away_leaves_no_traceback(server, capfd):
    import struct

    body = json.dumps({"who": "customer", "text": "x" * 200}).encode()
    for _ in range(20):
        for data in (request(server, body), f"GET /v1/chats/a/events HTTP/1.0\r\nHost: 127.0.0.1:{server.port}\r\n"
                     f"Authorization: Bearer {server.token}\r\n\r\n".encode(), request(server, body)[:-100]):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            s.sendall(data)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # reset, not a close
            s.close()
    assert post(server, "after", "customer", "still here?")["chat"] == "after"
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Error" not in err


def test_a_failure_inside_is_a_500_in_json_and_one_line(server, capfd, monkeypatch):
    def broken(*args):
        raise RuntimeError("engine bug\nsecond line")

    monkeypatch.setattr(server, "post_messages", broken)
    status, data, _ = call(server, "POST", "/v1/chats/b/messages", {"who": "agent", "text": "x"})
    assert status == 500 and data["status"] == 500
    err = capfd.readouterr().err
    assert "Traceback" not in err and err.startswith("callcue: chat endpoint: RuntimeError: engine bug")


def test_another_loopback_address_answers_to_its_own_name(playbook):
    try:
        srv = ChatServer(playbook, host="127.0.0.2", port=0, tick_s=None)
    except CallcueError as err:
        pytest.skip(f"this machine cannot bind 127.0.0.2: {err}")
    with srv:
        status, data, _ = exchange(srv, request(srv, b'{"who": "customer", "text": "hi"}', host="127.0.0.2"),
                                   host="127.0.0.2")
        assert status == 200 and srv.url == f"http://127.0.0.2:{srv.port}"
        status, data, _ = exchange(srv, request(srv, b"{}", host="evil.example"), host="127.0.0.2")
        assert status == 403 and "127.0.0.2" in data["error"]


def test_every_status_the_endpoint_sends_is_documented():
    import re

    import callcue.chat.server as mod

    source = Path(mod.__file__).read_text()
    sent = {int(c) for c in re.findall(r"_error\((\d{3})", source)} | {503}
    sent |= {400, 414, 431, 501, 505}  # http.server's own, through send_error
    doc = (Path(__file__).resolve().parents[2] / "docs" / "chat-api.md").read_text()
    table = set(int(c) for c in re.findall(r"^\| (\d{3}) \|", doc, re.M))
    assert sent <= table, f"add to docs/chat-api.md's status codes: {sorted(sent - table)}"


def test_a_token_file_of_random_bytes_is_replaced():
    path = token_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(64) + b"\xff")
    token = load_or_create_token()
    assert len(token) >= 32 and path.read_text().strip() == token


@pytest.mark.parametrize("port", ["99999", "-1"])
def test_serve_refuses_a_port_out_of_range_with_one_line(port, capsys):
    from callcue.cli import main

    assert main(["chat", "serve", "--port", port]) == 2  # an OverflowError traceback before
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"port {port}: a port is a number from 1 to 65535" in err
