"""Fuzzing the live-chat endpoint (issue 19): a real server on loopback gets random requests (methods,
paths, headers, bodies: near-valid messages and junk) over raw sockets. Every one is answered with a
status line and a JSON body ({"error", "status"} for errors), never a 500, and nothing reaches the
server's standard error. A few seconds (hypothesis, no example database)."""

from __future__ import annotations

import os
from pathlib import Path

# hypothesis keeps a cache of its own: in pytest's cache folder of the project, not a new .hypothesis/
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY",
                      str(Path(__file__).resolve().parents[2] / ".pytest_cache" / "hypothesis"))

import json
import socket

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from callcue.chat.server import ChatServer


@pytest.fixture(scope="module")
def server(playbook):
    # a short read timeout: a request the fuzzer leaves unfinished ends the sooner
    with ChatServer(playbook, port=0, tick_s=None, read_timeout_s=2.0) as srv:
        yield srv


TOKEN = object()  # stands for the server's own token in a generated request

scalars = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
           | st.integers(10**300, 10**320)  # no float holds them
           | st.sampled_from(["agent", "customer", "CUSTOMER ", "boss", "", "2024-05-01T10:15:00Z", "10:15",
                              "2024-05-01T10:15:00", "1e400", "-1", "12.5"]))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.sampled_from(["who", "text", "t", "id", "messages", "draft"])
                                             | st.text(max_size=4), inner, max_size=4), max_leaves=12)
message = st.fixed_dictionaries(
    {"who": st.sampled_from(["agent", "customer"]) | scalars, "text": st.text(max_size=40) | scalars},
    optional={"t": st.floats(0, 1e6) | st.integers(0, 10**12) | scalars, "id": json_values})
bodies = (message | st.fixed_dictionaries({"messages": st.lists(message, max_size=4) | json_values})
          | st.fixed_dictionaries({"draft": st.text(max_size=60) | scalars}) | json_values
          ).map(lambda v: json.dumps(v, allow_nan=True).encode()) | st.binary(max_size=80)
paths = (st.builds(lambda c, w, q: f"/v1/chats/{c}{w}{q}",
                   st.sampled_from(["t1", "t2", "a%20b", "x" * 130, "", "..", "%00"]),
                   st.sampled_from(["/messages", "/check", "/end", "/events", "", "/other", "/messages/"]),
                   st.sampled_from(["", "?since=0", "?since=-5", "?since=x", "?since=" + "9" * 30]))
         | st.sampled_from(["/", "*", "//", "/v1", "http://evil.example/v1/chats/t1"])
         | st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=20))
methods = st.sampled_from(["GET", "POST", "POST", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "BREW", "get",
                           ""])
versions = st.sampled_from([" HTTP/1.0", " HTTP/1.1", " HTTP/1.1", "", " HTTP/2.0", " HTTP/1", " FOO"])
hosts = st.sampled_from(["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}", "evil.example", "", None,
                         "127.0.0.1"])
tokens = st.sampled_from([TOKEN, TOKEN, None, "Bearer wrong", "Basic abc", "Bearer", ""])
lengths = st.sampled_from(["right", "right", "right", "none", "short", "long", "-1", "abc", "9" * 30, "+5"])
extra_headers = st.lists(st.tuples(st.sampled_from(["X-A", "Transfer-Encoding", "Connection", "Expect", "X B"]),
                                   st.sampled_from(["chunked", "close", "keep-alive", "100-continue", "ü", ""])),
                         max_size=2)


def build(srv, method, path, version, host, token, length, extra, body) -> bytes:
    lines = [f"{method} {path}{version}"]
    if host is not None:
        lines.append(f"Host: {host.format(port=srv.port)}")
    if token is TOKEN:
        lines.append(f"Authorization: Bearer {srv.token}")
    elif token is not None:
        lines.append(f"Authorization: {token}")
    n = {"right": len(body), "short": max(0, len(body) - 3), "long": len(body) + 10}.get(length, length)
    if length != "none":
        lines.append(f"Content-Length: {n}")
    lines += [f"{k}: {v}" for k, v in extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body


def exchange(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)  # all of it is sent: a body cut short ends here, not at the timeout
        got = b""
        while chunk := s.recv(65536):
            got += chunk
    return got


def check_answer(request: bytes, got: bytes, capfd) -> int:
    """The property: a status line, JSON, an error that says what (never a 500), nothing on stderr."""
    head, sep, payload = got.partition(b"\r\n\r\n")
    assert got.startswith(b"HTTP/1.") and sep, (request[:200], got[:200])
    status = int(head.split()[1])
    event(f"status {status}")
    assert status != 500, (request[:300], payload[:300])
    assert b"content-type: application/json" in head.lower()
    if payload == b"":
        assert request.startswith(b"HEAD ")  # a HEAD it could read gets headers only
    else:
        answer = json.loads(payload)
        assert isinstance(answer, dict)
        if status >= 400:
            assert answer["status"] == status and isinstance(answer["error"], str) and answer["error"]
            assert "\n" not in answer["error"] and len(answer["error"]) < 600
    err = capfd.readouterr().err
    assert err == "", err
    return status


FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@FUZZ
@given(method=methods, path=paths, version=versions, host=hosts, token=tokens, length=lengths, extra=extra_headers,
       body=bodies)
def test_fuzz_any_request_gets_json(server, capfd, method, path, version, host, token, length, extra, body):
    request = build(server, method, path, version, host, token, length, extra, body)
    check_answer(request, exchange(server.port, request), capfd)


@FUZZ
@given(chat=st.sampled_from(["c1", "c2", "c3"]), what=st.sampled_from(["messages"] * 4 + ["check", "end", "events"]),
       body=bodies)
def test_fuzz_bodies_of_well_formed_requests(server, capfd, chat, what, body):
    """Framing, Host and token right, so that the bodies reach the chats' engines."""
    method = "GET" if what == "events" else "POST"
    path = f"/v1/chats/{chat}" + ("/events?since=0" if what == "events" else f"/{what}")
    request = build(server, method, path, " HTTP/1.1", "127.0.0.1:{port}", TOKEN, "right", [], body)
    check_answer(request, exchange(server.port, request), capfd)
