"""PulseAudio/PipeWire sources recorded through PortAudio's `pulse` device: the source chosen while each
stream opens, a source that goes away mid-call (a stand-in first, then a real server, in this process)."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest
import soundfile as sf

from callcue.audio import pulse as server
from callcue.audio.capture import RATE, Chunk, DeviceCapture, plan_routes
from callcue.audio.pulse import PulseSource
from tests.audio.test_capture import Sink, block, run
from tests.pulse import FakeClock, FakeSD, in_process, pulse_sources  # noqa: F401 - a fixture

GUARD_S = 30  # only stops a hang


def desktop(clock: FakeClock) -> FakeSD:
    sd = FakeSD([("pulse", 32), ("default", 32)], default=1, clock=clock)
    opened = sd.InputStream

    def input_stream(**kwargs):  # noqa: ANN003, ANN202 - what the stream was opened with, environment included
        stream = opened(**kwargs)
        stream.env = {k: os.environ.get(k) for k in ("PULSE_SOURCE", f"PULSE_PROP_{server.TAG_PROPERTY}")}
        return stream

    sd.InputStream = input_stream
    return sd


MIC = PulseSource("alsa_input.usb-headset", "USB Headset", 1, 16000.0, False, True, 7)
SPEAKERS = PulseSource("alsa_output.pci.analog-stereo.monitor", "Monitor of Built-in Audio", 2, 48000.0, True, False, 8)


def test_each_stream_opens_with_its_own_source_and_the_environment_is_put_back(monkeypatch):
    monkeypatch.setattr(server, "list_sources", lambda: [MIC, SPEAKERS])
    monkeypatch.setenv("PULSE_SOURCE", "what-the-user-had")
    clock = FakeClock()
    sd = desktop(clock)
    routes = plan_routes("USB Headset", "Monitor of Built-in", sd=sd)
    cap = DeviceCapture(routes, sd=sd, clock=clock, watch=False, where=lambda tag, source: None)
    cap.start(Sink().chunk, Sink().status)
    agent, customer = sd.streams
    assert agent.device == customer.device == 0  # both through `pulse`
    assert agent.env["PULSE_SOURCE"] == "alsa_input.usb-headset"
    assert customer.env["PULSE_SOURCE"] == "alsa_output.pci.analog-stereo.monitor"
    tags = [s.env[f"PULSE_PROP_{server.TAG_PROPERTY}"] for s in (agent, customer)]
    assert all(tags) and tags[0] != tags[1]
    assert os.environ["PULSE_SOURCE"] == "what-the-user-had"
    assert f"PULSE_PROP_{server.TAG_PROPERTY}" not in os.environ
    cap.stop()


def test_a_source_the_server_moved_the_stream_from_is_lost_and_reopened_when_back(monkeypatch):
    present = [MIC, SPEAKERS]
    monkeypatch.setattr(server, "list_sources", lambda: list(present))
    asked: list[tuple[str, str]] = []
    moved: dict[str, str] = {}

    def where(tag: str, source: PulseSource) -> str | None:
        asked.append((tag, source.name))
        return moved.get(source.name)

    clock = FakeClock(0.0)
    sd = desktop(clock)
    cap = DeviceCapture(plan_routes("USB Headset", "Monitor of Built-in", sd=sd), sd=sd, clock=clock, watch=False,
                        where=where)
    sink = Sink()
    cap.start(sink.chunk, sink.status)
    agent, customer = sd.streams
    run(cap, clock, 3.0, agent, customer)
    # asked as soon as each runs, then every 2 s, not at every 0.1 s tick
    assert [name for _, name in asked] == [MIC.name, SPEAKERS.name] * 2
    present.remove(SPEAKERS)  # unplugged: the server moves the stream to another source and it goes on
    moved[SPEAKERS.name] = "the source 'alsa_output.pci.analog-stereo.monitor' is gone"
    run(cap, clock, 1.0, agent, customer)
    assert sink.statuses == []  # not asked again before 2 s have passed
    run(cap, clock, 0.1, agent, customer)
    assert [(k, who) for k, _, who in sink.statuses] == [("device-lost", "customer")]
    assert "is gone" in sink.statuses[0][1] and customer.closed and not agent.closed
    lost_at = len(asked)
    run(cap, clock, 4.0, agent)  # reconnect attempts find no such source: nothing is opened
    assert len(sd.streams) == 2
    assert [name for _, name in asked[lost_at:]] == [MIC.name, MIC.name]  # a lost stream is not asked about
    present.append(SPEAKERS)
    del moved[SPEAKERS.name]
    run(cap, clock, 2.0, agent)
    again = sd.streams[-1]
    assert len(sd.streams) == 3 and again.env["PULSE_SOURCE"] == SPEAKERS.name
    assert again.env[f"PULSE_PROP_{server.TAG_PROPERTY}"] != customer.env[f"PULSE_PROP_{server.TAG_PROPERTY}"]
    clock.advance(0.1)
    again.deliver(block(9), adc_delay=0.1)
    assert [k for k, _, _ in sink.statuses] == ["device-lost", "device-back"]
    agent.deliver(block(2), adc_delay=0.1)
    cap.tick()
    assert asked[-1] == (again.env[f"PULSE_PROP_{server.TAG_PROPERTY}"], SPEAKERS.name)
    cap.stop()


# --------------------------------------------------------------------------- a real server, in this process


def noise(seed: int, seconds: float = 3.0) -> np.ndarray:
    return (0.25 * np.random.default_rng(seed).standard_normal(int(seconds * RATE))).astype(np.float32)


def best_match(recorded: np.ndarray, played: np.ndarray) -> float:
    """Correlation of the played signal's middle second with the best-aligned part of a recording."""
    ref = played[RATE:2 * RATE].astype(np.float64)
    rec = recorded.astype(np.float64)
    if len(rec) < len(ref):
        return 0.0
    n = 1 << int(np.ceil(np.log2(len(rec) + len(ref))))
    xc = np.fft.irfft(np.fft.rfft(rec, n) * np.conj(np.fft.rfft(ref, n)), n)[:len(rec) - len(ref) + 1]
    k = int(np.argmax(np.abs(xc)))
    return float(np.corrcoef(rec[k:k + len(ref)], ref)[0, 1])


class Recorder:
    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.parts: dict[str, list[np.ndarray]] = {"agent": [], "customer": []}
        self.statuses: list[tuple[str, str, str | None]] = []

    def chunk(self, c: Chunk) -> None:
        with self.cond:
            self.parts[c.channel].append(c.pcm)
            self.cond.notify_all()

    def status(self, kind: str, message: str, who: str | None) -> None:
        with self.cond:
            self.statuses.append((kind, message, who))
            self.cond.notify_all()

    def samples(self, who: str) -> int:
        return sum(len(x) for x in self.parts[who])

    def audio(self, who: str) -> np.ndarray:
        with self.cond:
            return np.concatenate(self.parts[who]) / 32768.0

    def wait(self, what: str, predicate) -> None:  # noqa: ANN001
        with self.cond:
            assert self.cond.wait_for(predicate, GUARD_S), f"{what}: {self.statuses}"


@pytest.mark.slow
def test_two_sources_in_one_process_record_two_different_signals(pulse_sources, tmp_path):  # noqa: F811
    """The crux: PULSE_SOURCE is read for every stream, not once per process. Two noises, one per null sink;
    each channel must hold its own (correlation near 1) and not the other's (near 0)."""
    played = {"agent": noise(1), "customer": noise(2)}
    for who, x in played.items():
        sf.write(tmp_path / f"{who}.wav", x, RATE)
    with in_process(pulse_sources) as sd:
        routes = plan_routes("agent.monitor", "customer.monitor", sd=sd)
        assert [r.device.source.name for r in routes] == ["agent.monitor", "customer.monitor"]
        assert routes[0].device.index == routes[1].device.index  # one PortAudio device, `pulse`
        rec = Recorder()
        cap = DeviceCapture(routes, sd=sd)
        cap.start(rec.chunk, rec.status)
        try:
            assert cap.wait_ready(GUARD_S) and cap.states() == {"agent.monitor": "running",
                                                                 "customer.monitor": "running"}
            players = [pulse_sources.play(who, tmp_path / f"{who}.wav") for who in played]
            for p in players:
                assert p.wait(GUARD_S) == 0, p.stderr.read()
            # the players are done when the sinks have taken the audio: wait until the capture has it too
            with rec.cond:
                end = {who: rec.samples(who) for who in played}
            rec.wait("audio after the players", lambda: all(rec.samples(w) >= end[w] + RATE // 2 for w in played))
        finally:
            cap.stop()
    own = {who: best_match(rec.audio(who), played[who]) for who in played}
    other = {who: best_match(rec.audio(who), played["customer" if who == "agent" else "agent"]) for who in played}
    assert min(own.values()) > 0.95 and max(abs(v) for v in other.values()) < 0.2, (own, other)
    assert rec.statuses == []


@pytest.mark.slow
def test_the_server_says_where_a_stream_records_from(pulse_sources):  # noqa: F811
    """where_is, for real: nothing while the stream is on its source; "gone" once the sink is unloaded (the
    server moved the stream elsewhere and it still runs); the plain listing's check without JSON too."""
    with in_process(pulse_sources) as sd:
        routes = plan_routes("customer.monitor", None, sd=sd)
        rec = Recorder()
        cap = DeviceCapture(routes, sd=sd, watch=False, where=lambda tag, source: None)
        cap.start(rec.chunk, rec.status)
        try:
            stream = cap._streams[0]
            source = stream.route.device.source
            deadline = time.monotonic() + GUARD_S
            while server.where_is(stream.tag, source) is not None or not any(
                    (o.get("properties") or {}).get(server.TAG_PROPERTY) == stream.tag
                    for o in server._json("list", "source-outputs") or []):
                assert time.monotonic() < deadline, "our stream never showed up in the server"
                time.sleep(0.05)  # polling the server for the stream, not waiting for time to pass
            pulse_sources.remove_sink("customer")
            assert server.where_is(stream.tag, source) == "the source 'customer.monitor' is gone"
            assert server.where_is("no-such-tag", source) == "the source 'customer.monitor' is gone"
            assert stream.stream.active  # the stream goes on, from another source: only the server can tell
            pulse_sources.add_sink("customer")
            moved = server.where_is(stream.tag, source)
            assert moved is not None and "moved its stream to" in moved  # back, but the stream is elsewhere
        finally:
            cap.stop()
