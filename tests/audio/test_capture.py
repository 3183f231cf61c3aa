"""Live capture with a stand-in for sounddevice and a clock moved by hand: alignment, channel mapping,
resampling, a device lost and found again, routes. (The real thing, through PulseAudio, is in
tests/commands/test_listen.py.)"""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest

from callcue.audio.capture import FILL_MARGIN_S, RATE, Chunk, DeviceCapture, FileCapture, Route, plan_routes
from callcue.audio.devices import input_devices
from callcue.audio.pulse import PulseSource
from callcue.errors import CallcueError
from tests.pulse import FakeClock, FakeSD, FakeStream


class Sink:
    def __init__(self) -> None:
        self.chunks: list[Chunk] = []
        self.statuses: list[tuple[str, str, str | None]] = []

    def chunk(self, c: Chunk) -> None:
        self.chunks.append(c)

    def status(self, kind: str, message: str, who: str | None) -> None:
        self.statuses.append((kind, message, who))

    def audio(self, who: str) -> np.ndarray:
        parts = [c.pcm for c in self.chunks if c.channel == who]
        return np.concatenate(parts) if parts else np.zeros(0, np.int16)

    def filler(self, who: str) -> int:
        return sum(len(c.pcm) for c in self.chunks if c.channel == who and c.filler)


def two_devices(clock: FakeClock) -> tuple[FakeSD, DeviceCapture, Sink]:
    sd = FakeSD([("Headset Mic", 1), ("Monitor of Speakers", 2)], clock=clock)
    devs = input_devices(sd)
    cap = DeviceCapture([Route(devs[0], {"agent": 0}), Route(devs[1], {"customer": 0})], sd=sd, clock=clock,
                        watch=False)
    sink = Sink()
    cap.start(sink.chunk, sink.status)
    return sd, cap, sink


def block(value: int, frames: int = 1600, channels: int = 1) -> np.ndarray:
    return np.full((frames, channels), value, np.int16)


def run(cap: DeviceCapture, clock: FakeClock, seconds: float, *streams) -> None:  # noqa: ANN002
    """`seconds` of 0.1 s blocks from `streams` (the others stay silent), with the watchdog's ticks."""
    for _ in range(round(seconds / 0.1)):
        clock.advance(0.1)
        for k, s in enumerate(streams):
            s.deliver(block(2 + k), adc_delay=0.1)
        cap.tick()


def test_two_devices_that_start_apart_are_aligned_on_the_call_clock():
    clock = FakeClock(100.0)
    sd, cap, sink = two_devices(clock)
    agent, customer = sd.streams
    assert (agent.rate, agent.blocksize, customer.channels) == (16000, 1600, 1)
    clock.advance(0.25)
    agent.deliver(block(1), adc_delay=0.15)  # its first sample was recorded at 100.10: the call's sample 0
    clock.advance(0.2)
    customer.deliver(block(2), adc_delay=0.1)  # this one's at 100.35: 0.25 s later
    clock.advance(0.1)
    agent.deliver(block(1), adc_delay=0.15)
    a, c = sink.audio("agent"), sink.audio("customer")
    assert a[0] == 1 and len(a) == 3200 and sink.filler("agent") == 0
    assert np.flatnonzero(c)[0] == 4000 and len(c) == 4000 + 1600 and sink.filler("customer") == 4000
    assert sink.statuses == []
    assert cap.wait_ready(0)
    cap.stop()
    assert all(s.closed for s in sd.streams)


def test_a_device_with_a_fast_clock_is_kept_on_the_call_clock():
    """The headset's crystal runs 150 ppm fast: after 10 minutes it has recorded 90 ms more than the
    call lasted. Samples are dropped in 20 ms steps; the PC card's channel is left as it is."""
    clock = FakeClock(100.0)
    sd, cap, sink = two_devices(clock)
    agent, customer = sd.streams
    made = 0
    for k in range(6000):  # 10 minutes of 0.1 s blocks, by the wall clock
        clock.advance(0.1)
        customer.deliver(block(2), adc_delay=0.1)
        frames = round((k + 1) * 1600 * 1.00015) - made  # 1600 now and then 1601
        made += frames
        agent.deliver(block(1, frames), adc_delay=0.1 + 0.015 * (k % 3))  # some callbacks come late
        if k % 10 == 9:
            cap.tick()
    a, c = sink.audio("agent"), sink.audio("customer")
    assert abs(len(c) - 600 * RATE) <= 1600 and sink.filler("customer") == 0
    assert abs(len(a) - len(c)) <= 0.025 * RATE  # 1600 extra samples would be 100 ms; within 25 ms
    assert cap._streams[0].drift.corrected < 0  # dropped, in whole 20 ms steps
    assert cap._streams[0].drift.corrected % 320 == 0 and sink.filler("agent") == 0
    cap.stop()


def test_without_adc_times_the_callback_time_places_the_first_block():
    clock = FakeClock(50.0)
    sd, cap, sink = two_devices(clock)
    clock.advance(0.5)
    sd.streams[0].deliver(block(3))  # no ADC time: the block ends now, so it began 0.1 s ago
    clock.advance(0.3)
    sd.streams[1].deliver(block(4))
    assert sink.audio("agent")[0] == 3 and np.flatnonzero(sink.audio("customer"))[0] == int(0.3 * RATE)
    cap.stop()


def test_a_device_whose_first_block_began_before_the_call_loses_that_part():
    clock = FakeClock(0.0)
    sd, cap, sink = two_devices(clock)
    clock.advance(0.2)
    sd.streams[0].deliver(block(1), adc_delay=0.1)  # sample 0 at 0.1 s
    sd.streams[1].deliver(block(2), adc_delay=0.15)  # recorded from 0.05 s: its first 800 samples are early
    assert len(sink.audio("customer")) == 800 and len(sink.audio("agent")) == 1600
    cap.stop()


def test_one_stereo_device_with_customer_on_the_left():
    clock = FakeClock()
    sd = FakeSD([("USB Audio", 2)], clock=clock)
    routes = plan_routes("USB Audio", "USB Audio", ("customer", "agent"), sd=sd)
    assert [r.channels for r in routes] == [{"customer": 0, "agent": 1}]
    cap = DeviceCapture(routes, sd=sd, clock=clock, watch=False)
    sink = Sink()
    cap.start(sink.chunk, sink.status)
    stereo = np.stack([np.full(1600, 7, np.int16), np.full(1600, -7, np.int16)], axis=1)
    clock.advance(0.1)
    sd.streams[0].deliver(stereo, adc_delay=0.1)
    assert sd.streams[0].channels == 2
    assert set(sink.audio("customer")) == {7} and set(sink.audio("agent")) == {-7}
    cap.stop()


def test_a_device_without_16khz_is_opened_at_its_own_rate_and_resampled():
    clock = FakeClock()
    sd = FakeSD([("Pro Interface", 1)], clock=clock)
    sd.refuse.add((0, 16000))
    cap = DeviceCapture([Route(input_devices(sd)[0], {"agent": 0})], sd=sd, clock=clock, watch=False)
    sink = Sink()
    cap.start(sink.chunk, sink.status)
    assert sd.streams[0].rate == 48000 and sd.streams[0].blocksize == 4800
    t = np.arange(48000) / 48000
    tone = (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16).reshape(-1, 1)
    for k in range(10):
        clock.advance(0.1)
        sd.streams[0].deliver(tone[k * 4800:(k + 1) * 4800], adc_delay=0.1)
    audio = sink.audio("agent")
    assert 16000 - 480 <= len(audio) <= 16000  # the resampler holds back its filter's length (about 20 ms)
    spectrum = np.abs(np.fft.rfft(audio[2000:14000].astype(float)))
    assert abs(np.argmax(spectrum) * 16000 / 12000 - 440) < 3
    cap.stop()


def test_a_stalled_device_is_lost_filled_with_silence_and_reconnected_every_2s():
    clock = FakeClock(10.0)
    sd, cap, sink = two_devices(clock)
    agent, customer = sd.streams
    run(cap, clock, 1.0, customer, agent)  # one second of audio from both
    assert len(sink.audio("agent")) == 16000
    run(cap, clock, 1.0, customer)  # the agent's headset stops delivering; the customer goes on
    assert sink.statuses == []  # 1.0 s without audio is not yet a loss
    run(cap, clock, 0.1, customer)
    assert [(k, who) for k, _, who in sink.statuses] == [("device-lost", "agent")]
    assert "'Headset Mic'" in sink.statuses[0][1] and "reconnect" in sink.statuses[0][1]
    assert agent.closed and cap.states()["Headset Mic"] == "lost"
    # while it is lost, its channel keeps pace with the wall clock (minus a margin) in zeros
    assert len(sink.audio("agent")) == int((clock.t - 10.0 - FILL_MARGIN_S) * RATE)
    opened = len(sd.streams)
    run(cap, clock, 1.9, customer)
    assert len(sd.streams) == opened  # not yet 2 s
    run(cap, clock, 0.1, customer)
    assert len(sd.streams) == opened + 1  # the reconnect attempt
    again = sd.streams[-1]
    assert again.device == agent.device and cap.states()["Headset Mic"] == "opening"
    clock.advance(0.1)
    again.deliver(block(5), adc_delay=0.1)
    kinds = [k for k, _, _ in sink.statuses]
    assert kinds == ["device-lost", "device-back"] and "back after 2.1 s" in sink.statuses[1][1]
    audio = sink.audio("agent")
    first_new = np.flatnonzero(audio == 5)[0]
    assert first_new == int(round((clock.t - 0.1 - 10.0) * RATE))  # placed where the wall clock says
    assert set(audio[16000:first_new]) == {0}
    customer.deliver(block(2), adc_delay=0.1)  # its block of the same 0.1 s
    assert len(sink.audio("customer")) == len(audio)  # the two channels are still aligned
    cap.stop()


def test_an_unplugged_device_is_retried_until_it_is_plugged_back():
    clock = FakeClock(0.0)
    sd, cap, sink = two_devices(clock)
    agent, customer = sd.streams
    run(cap, clock, 0.1, customer, agent)
    agent.active = False  # PortAudio stopped the stream: the device is gone
    sd.unplug("Headset Mic")
    cap.tick()
    assert [k for k, _, _ in sink.statuses] == ["device-lost"] and "stream stopped" in sink.statuses[0][1]
    run(cap, clock, 6.0, customer)  # three attempts, 2 s apart, find nothing; no further messages
    assert len(sd.streams) == 2 and [k for k, _, _ in sink.statuses] == ["device-lost"]
    sd.plug("Headset Mic")  # back, under another index
    run(cap, clock, 2.0, customer)
    assert sd.streams[-1].device == 2 != agent.device
    clock.advance(0.1)
    sd.streams[-1].deliver(block(4), adc_delay=0.1)
    assert [k for k, _, _ in sink.statuses] == ["device-lost", "device-back"]
    cap.stop()


def test_a_device_that_never_delivers_is_reported_lost():
    clock = FakeClock(0.0)
    sd, cap, sink = two_devices(clock)
    run(cap, clock, 0.1, sd.streams[1])
    assert not cap.wait_ready(0)
    run(cap, clock, 5.0, sd.streams[1])
    assert [(k, w) for k, _, w in sink.statuses] == [("device-lost", "agent")]
    assert "no audio 5.1 s after opening it" in sink.statuses[0][1]
    assert cap.wait_ready(0)  # a lost device is not waited for
    cap.stop()


def test_a_device_that_cannot_be_opened_names_it():
    sd = FakeSD([("Headset Mic", 1)])
    sd.refuse |= {(0, 16000), (0, 48000)}
    cap = DeviceCapture([Route(input_devices(sd)[0], {"agent": 0})], sd=sd, watch=False)
    with pytest.raises(CallcueError, match="cannot open the agent device 'Headset Mic'"):
        cap.start(Sink().chunk, Sink().status)


def test_routes_from_the_command_line_options():
    sd = FakeSD([("Mic", 1), ("Monitor of Speakers", 2), ("Mono Mic", 1)], default=2)
    two = plan_routes("Mic", "monitor", sd=sd)
    assert [(r.device.name, r.channels) for r in two] == [("Mic", {"agent": 0}), ("Monitor of Speakers",
                                                                                  {"customer": 0})]
    assert [r.channels for r in plan_routes("1", "1", sd=sd)] == [{"agent": 0, "customer": 1}]
    assert [(r.device.name, r.channels) for r in plan_routes(None, None, sd=sd)] == [("Mono Mic", {"mixed": 0})]
    assert [r.channels for r in plan_routes(None, "Monitor of Speakers", sd=sd)] == [{"mixed": 0}]
    with pytest.raises(CallcueError, match="has one input channel"):
        plan_routes("Mic", "Mic", sd=sd)
    with pytest.raises(CallcueError, match="no such input device"):
        plan_routes("Mic", "Bluetooth", sd=sd)


def test_a_recording_as_a_capture_hands_out_every_chunk():
    pcm = {"agent": np.arange(4000, dtype=np.int16), "customer": -np.arange(4000, dtype=np.int16)}
    cap = FileCapture(pcm, realtime=False)
    sink = Sink()
    cap.start(sink.chunk, sink.status)
    assert cap.done.wait(10)
    cap.stop()
    assert [len(c.pcm) for c in sink.chunks if c.channel == "agent"] == [1600, 1600, 800]
    assert np.array_equal(sink.audio("customer"), pcm["customer"]) and cap.lossless


# --------------------------------------------------------------------------- no deadlock with PortAudio

WAIT_S = 2.0  # how long a stand-in waits for a callback before it calls it stuck (a bound, not a timing)


class PortAudioLikeStream(FakeStream):
    """A stream whose abort() and close() do what PortAudio's Pa_AbortStream/Pa_CloseStream do: wait for
    the callback in progress to return. Here that callback comes in on PortAudio's thread just as the
    stream is aborted (the unlucky moment of a real unplug); a callback that cannot finish within WAIT_S
    is recorded in `sd.stuck` instead of hanging the test."""

    def abort(self) -> None:
        self._callback_in_progress("abort")
        super().abort()

    def close(self) -> None:
        self._callback_in_progress("close")
        super().close()

    def _callback_in_progress(self, op: str) -> None:
        thread = threading.Thread(target=self.deliver, args=(block(9),), kwargs={"adc_delay": 0.1}, daemon=True)
        thread.start()
        thread.join(WAIT_S)
        if thread.is_alive():
            self.sd.stuck.append(op)


class PortAudioLikeSD(FakeSD):
    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.stuck: list[str] = []

    def InputStream(self, **kwargs) -> FakeStream:  # noqa: N802 - sounddevice's name
        return PortAudioLikeStream(self, **kwargs)


def portaudio_like(clock: FakeClock, source: bool = False, where=None) -> tuple[PortAudioLikeSD, DeviceCapture, Sink]:  # noqa: ANN001
    sd = PortAudioLikeSD([("Headset Mic", 1), ("Monitor of Speakers", 2)], clock=clock)
    devs = input_devices(sd)
    if source:
        mic = PulseSource("headset.mic", "Headset Mic", 1, 16000.0, False, index=7)
        devs[0] = dataclasses.replace(devs[0], source=mic)
    kwargs = {"where": where} if where else {}
    cap = DeviceCapture([Route(devs[0], {"agent": 0}), Route(devs[1], {"customer": 0})], sd=sd, clock=clock,
                        watch=False, **kwargs)
    sink = Sink()
    cap.start(sink.chunk, sink.status)
    run(cap, clock, 0.5, sd.streams[0], sd.streams[1])
    return sd, cap, sink


def test_a_stalled_device_is_closed_while_portaudio_calls_back():
    """The watchdog used to abort a lost stream while holding the lock that the callback waits for: the
    callback could not return, so abort() never did (a live call frozen for good)."""
    clock = FakeClock(10.0)
    sd, cap, sink = portaudio_like(clock)
    agent, customer = sd.streams[:2]
    run(cap, clock, 1.2, customer)  # the agent's device stops delivering: lost
    assert [k for k, _, _ in sink.statuses] == ["device-lost"] and agent.closed
    assert sd.stuck == []
    assert 9 not in sink.audio("agent")  # the block of a stream being closed is not handed out
    cap.stop()
    assert sd.stuck == []


def test_a_source_that_is_gone_is_closed_while_portaudio_calls_back():
    clock = FakeClock(10.0)
    gone: list[str] = []
    sd, cap, sink = portaudio_like(clock, source=True, where=lambda tag, src: gone[0] if gone else None)
    gone.append("the source 'headset.mic' is gone")
    run(cap, clock, 2.0, *sd.streams[:2])
    assert [k for k, _, _ in sink.statuses] == ["device-lost"] and "is gone" in sink.statuses[0][1]
    assert sd.stuck == []
    cap.stop()


def test_stop_while_portaudio_calls_back():
    clock = FakeClock(10.0)
    sd, cap, sink = portaudio_like(clock)
    cap.stop()
    assert sd.stuck == [] and all(s.closed for s in sd.streams)


def test_the_callback_does_not_wait_while_the_watchdog_holds_the_lock():
    """PortAudio calls back while the watchdog is in the middle of filling a lost device's channel with
    zeros (under the lock): the callback returns at once, and its block is handed out right after the
    zeros, by the watchdog as it lets go of the lock."""
    clock = FakeClock(10.0)
    sd = FakeSD([("Headset Mic", 1), ("Monitor of Speakers", 2)], clock=clock)
    devs = input_devices(sd)
    cap = DeviceCapture([Route(devs[0], {"agent": 0}), Route(devs[1], {"customer": 0})], sd=sd, clock=clock,
                        watch=False)
    waited: list[bool] = []
    armed: list[FakeStream] = []

    class PausingSink(Sink):
        def chunk(self, c: Chunk) -> None:
            super().chunk(c)
            if c.channel == "agent" and c.filler and armed:  # inside the watchdog's locked section
                thread = threading.Thread(target=armed.pop().deliver, args=(block(5),),
                                          kwargs={"adc_delay": 0.1}, daemon=True)
                thread.start()
                thread.join(WAIT_S)
                waited.append(thread.is_alive())

    sink = PausingSink()
    cap.start(sink.chunk, sink.status)
    run(cap, clock, 0.5, *sd.streams[:2])
    run(cap, clock, 3.3, sd.streams[1])  # the agent's device is lost, then reopened: no audio from it yet
    assert len(sd.streams) == 3 and cap.states()["Headset Mic"] == "opening"
    armed.append(sd.streams[2])
    run(cap, clock, 0.1, sd.streams[1])  # the watchdog fills the agent's channel with zeros; a block comes
    assert waited == [False]  # the callback did not wait for the lock
    audio = sink.audio("agent")
    first = np.flatnonzero(audio == 5)[0]
    assert set(audio[:first][8000:]) == {0} and set(audio[first:]) == {5}  # right after the zeros
    assert [k for k, _, _ in sink.statuses] == ["device-lost", "device-back"]
    cap.stop()
