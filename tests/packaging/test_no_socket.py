"""No network socket at run time: `analyze --model`, `listen` and the self-test, each run under
`strace -f -e trace=socket` (the process and whatever it starts, C libraries included: Kaldi,
PortAudio, Qt), open no AF_INET or AF_INET6 socket. PulseAudio's and X's AF_UNIX sockets are fine.

`import vosk` used to open one: vosk imports `requests` for its download helpers, and urllib3 binds
an IPv6 socket at import time to learn whether IPv6 works (see callcue.speech.models._import_vosk).
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.commands.test_listen import GUARD_S, MONITORS, Listen
from tests.conftest import CALLS, USES_CALLS
from tests.packaging.conftest import desktop_env, x_display
from tests.pulse import pulse  # noqa: F401 - a fixture
from tests.speech.conftest import korean_model_dir

pytestmark = USES_CALLS  # the calls this run makes (tests/data/calls)

INET = re.compile(r"\bsocket\((AF_INET6?)\b")


def traced(command: list[str], log: Path) -> list[str]:
    """`command` run under strace: only the socket() calls are stopped at (seccomp-bpf), so it runs at
    nearly its own speed; every process it starts is followed (-f)."""
    if shutil.which("strace") is None:
        pytest.fail("strace is not installed (./setup.sh --test installs it)")
    return ["strace", "-f", "--seccomp-bpf", "-qq", "-e", "trace=socket", "-o", str(log), "--", *command]


def inet_sockets(log: Path) -> list[str]:
    text = log.read_text()
    assert "socket(" in text or text == "" or "+++" in text, text[-2000:]
    return [line for line in text.splitlines() if INET.search(line)]


class TracedListen(Listen):
    """`callcue listen` under strace. strace blocks the signals sent to it (-o FILE), so Ctrl-C goes to
    the traced process itself (callcue starts itself again on jemalloc by exec: the same process)."""

    def __init__(self, env: dict, command: list[str]) -> None:
        self.strace = subprocess.Popen(command, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.proc = self.strace
        self.out: queue.Queue[str | None] = queue.Queue()
        self.err: queue.Queue[str | None] = queue.Queue()
        self.events: list[dict] = []
        self.stderr: list[str] = []
        for stream, q in ((self.strace.stdout, self.out), (self.strace.stderr, self.err)):
            threading.Thread(target=self._pump, args=(stream, q), daemon=True).start()

    def end(self, sig: int = signal.SIGINT) -> int:
        children = Path(f"/proc/{self.strace.pid}/task/{self.strace.pid}/children").read_text().split()
        assert len(children) == 1, children
        os.kill(int(children[0]), sig)
        self.proc = _Waiter(self.strace)
        return super().end(sig)


class _Waiter:
    """Listen.end() signals its proc and waits: the signal has been sent to the traced process already."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.wait = proc.wait

    def send_signal(self, sig: int) -> None:
        pass


def test_the_check_sees_an_inet_socket_when_there_is_one(tmp_path):
    """The check itself: a process that opens an IPv6 socket, as `import vosk` did, is caught."""
    log = tmp_path / "strace.txt"
    code = "import socket; socket.socket(socket.AF_INET6).close()"
    subprocess.run(traced([sys.executable, "-c", code], log), check=True, timeout=GUARD_S)
    assert [INET.search(line).group(1) for line in inet_sockets(log)] == ["AF_INET6"]


def test_vosk_is_imported_without_urllib3_and_requests_still_works_when_asked_for(tmp_path):
    log = tmp_path / "strace.txt"
    code = ("import sys; from callcue.speech.models import _import_vosk; vosk = _import_vosk(); "
            "assert vosk.KaldiRecognizer and 'urllib3' not in sys.modules, sorted(sys.modules); "
            "print('imported', flush=True); import requests; print(requests.codes.ok)")
    r = subprocess.run(traced([sys.executable, "-c", code], log), capture_output=True, text=True, timeout=GUARD_S)
    assert r.returncode == 0 and r.stdout.split() == ["imported", "200"], r.stderr
    # requests, once used, loads (and urllib3 probes IPv6): the probe is put off, not broken
    assert len(inet_sockets(log)) == 1


def test_analyze_with_a_model_opens_no_inet_socket(tmp_path):
    import soundfile as sf

    log = tmp_path / "strace.txt"
    data, rate = sf.read(CALLS / "password-reset.wav", dtype="int16")
    excerpt = tmp_path / "excerpt.wav"
    sf.write(excerpt, data[: 15 * rate], rate)  # 15 s: words on both channels, in a short decode
    cmd = [sys.executable, "-m", "callcue", "analyze", str(excerpt), "--model", str(korean_model_dir()), "--json"]
    r = subprocess.run(traced(cmd, log), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    events = [json.loads(line) for line in r.stdout.splitlines()]
    assert events[0]["transcript"] == "vosk" and any(e["type"] == "utterance" and e["words"] for e in events)
    assert inet_sockets(log) == []


@pytest.mark.slow
def test_listen_with_a_model_opens_no_inet_socket(pulse, tmp_path):  # noqa: F811
    """A live call on the virtual PulseAudio's monitors, words recognised, ended by Ctrl-C."""
    log = tmp_path / "strace.txt"
    cmd = [sys.executable, "-m", "callcue", "listen", *MONITORS, "--json", "--no-save", "--model",
           str(korean_model_dir())]
    traced_listen = TracedListen(pulse.env, traced(cmd, log))
    traced_listen.wait_stderr("listening")
    pulse.play("agent", CALLS / "password-reset.wav")
    traced_listen.wait_event(type="utterance")
    assert traced_listen.end(signal.SIGINT) == 0, traced_listen.stderr
    assert traced_listen.events[-1]["type"] == "summary"
    assert "socket(AF_UNIX" in log.read_text()  # PulseAudio's, and the check did see sockets
    assert inet_sockets(log) == []


def test_the_self_test_opens_no_inet_socket(pulse, tmp_path):  # noqa: F811
    """On a desktop: an X display (Xvfb, local socket only), the virtual PulseAudio, the Korean model."""
    log = tmp_path / "strace.txt"
    with x_display() as display:
        env = desktop_env(display, pulse.env)
        r = subprocess.run(traced([sys.executable, "-m", "callcue", "--self-test"], log), env=env,
                           capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert "decodes test audio" in " ".join(r.stdout.split()), r.stdout + r.stderr  # the model was loaded
    assert inet_sockets(log) == []
