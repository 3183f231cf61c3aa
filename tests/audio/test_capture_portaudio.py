"""The capture with the real PortAudio, on the virtual PulseAudio: a source lost while PortAudio is calling
back. The watchdog used to abort the stream while holding the lock the callback waits for, and
PortAudio's abort waits for the callback: with a 0.3 s pause inside that lock (callbacks come every
0.1 s) the capture froze every time. The capture runs in a child process, so a freeze fails the test
(at its time limit) instead of hanging it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.pulse import pulse_sources  # noqa: F401 - a fixture

GUARD_S = 60  # a bound on a freeze, not a timing: the child ends in a few seconds

CHILD = r"""
import threading, time
from callcue.audio import capture as C
from callcue.audio.devices import find_input, input_devices

devices = input_devices()
dev = find_input("agent.monitor", devices, "agent")
gone = threading.Event()
lost = threading.Event()
blocks = []
cap = C.DeviceCapture([C.Route(dev, {"agent": 0})], retry_s=60.0,
                      where=lambda tag, src: "the source is gone (test)" if gone.is_set() else None)
real_lose = C.DeviceCapture._lose

def slow_lose(self, s, now, reason):
    time.sleep(0.3)  # the fault: a pause inside the stream's lock, while PortAudio calls back
    return real_lose(self, s, now, reason)

C.DeviceCapture._lose = slow_lose

def status(kind, message, who):
    if kind == "device-lost":
        lost.set()

cap.start(lambda c: blocks.append(len(c.pcm)), status)
assert cap.wait_ready(20), "no audio from the source"
gone.set()
assert lost.wait(20), "the loss was not reported"
cap.stop()
print("stopped", sum(blocks) > 0, flush=True)
"""


@pytest.mark.slow
def test_a_source_lost_while_portaudio_calls_back_does_not_freeze_the_capture(pulse_sources):  # noqa: F811
    pulse_sources.noise_bed(seconds=60.0)  # audio flows, so PortAudio calls back all the time
    try:
        r = subprocess.run([sys.executable, "-c", CHILD], env=pulse_sources.env, capture_output=True, text=True,
                           timeout=GUARD_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the capture froze: no end within {GUARD_S} s of a source lost during a callback")
    assert r.returncode == 0 and r.stdout.split() == ["stopped", "True"], r.stdout + r.stderr
