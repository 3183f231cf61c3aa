"""Live capture: the agent's microphone and the customer's audio as 16 kHz chunks per channel.

A capture hands `Chunk`s to a sink from its own threads (PortAudio's callback thread, a
watchdog) and never blocks: the sink must be quick (put in a bounded queue). Every channel's
chunks are contiguous from the call's sample 0, so the engine's sample clock is the call's clock:

  * sample 0 is the first sample of the device that started first (by PortAudio's ADC time of
    that sample); a device that starts later is preceded by zeros for the time it missed, so
    two devices that start 0.1 s apart still line up (and no channel begins with a stretch of
    digital silence that its noise floor would have to climb out of);
  * a device that is lost (its stream stops, or delivers nothing for `stall_s`) is reported
    (`device-lost`), its channels are filled with zeros at the pace of the wall clock while the
    session goes on, and it is reopened every `retry_s` until audio flows again (`device-back`);
    the first chunk after that is placed where the wall clock says it belongs;
  * a PulseAudio/PipeWire source (callcue.audio.pulse) that goes away does not stop its stream: the
    server moves the stream to another source. So every `retry_s` the watchdog asks the server
    where the stream records from, and a stream that is no longer on its source is lost too.

Two devices' clocks drift apart by their crystals' tolerance (up to about 0.1 ms a second): over
half an hour, more than a talk-over's timing can bear. Each running device is kept on the call's
clock by audio.drift, in 20 ms steps (zeros put in, or samples dropped).

Locks and PortAudio: Pa_AbortStream, Pa_StopStream and Pa_CloseStream wait for a callback in progress
to return. So no lock is ever held across a PortAudio call (or a subprocess): a stream is taken out of
its `_Stream` under the lock (its generation moves on, so its late callbacks are ignored) and aborted and
closed after the lock is let go. And the callback never waits for the lock: it leaves its block in the
stream's `pending` queue and takes the lock only if it is free; whoever holds the lock hands out the
blocks left there before letting it go (`_unlock`), so blocks keep their order and none is stranded.

Channels come from `Route`s: one device per party (mono or the first channel of each), or one
stereo device with a mapping (left agent, right customer, or the other way round).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from callcue.audio.devices import InputDevice, input_devices, load_sounddevice, open_input
from callcue.audio.drift import DriftCorrector
from callcue.audio.pulse import PulseSource, new_tag, where_is
from callcue.engine.clock import RATE
from callcue.errors import CallcueError

BLOCK_S = 0.1  # what one callback delivers
FILL_MARGIN_S = 0.25  # zeros for a lost device stay this far behind the wall clock, so real audio fits after


@dataclass
class Chunk:
    channel: str
    pcm: np.ndarray  # int16, mono, 16 kHz
    captured: float  # time.monotonic() when it reached us (for measuring delays, never for the call clock)
    filler: bool = False  # zeros standing for audio we do not have (lead-in, a lost device)
    gap_before: int = 0  # samples dropped just before this chunk by an overloaded queue (set by the sink)


ChunkSink = Callable[[Chunk], object]  # what it returns is not looked at
StatusSink = Callable[[str, str, "str | None"], None]  # (kind, message, who)


class Capture(Protocol):
    """What the live pipeline needs from a source of audio (devices, or a file in the benchmark)."""

    channels: tuple[str, ...]

    def start(self, on_chunk: ChunkSink, on_status: StatusSink) -> None: ...

    def stop(self) -> None: ...

    def describe(self) -> str: ...


@dataclass
class Route:
    """One device and which of its input channels is which party: {"agent": 0, "customer": 1}."""

    device: InputDevice
    channels: dict[str, int]

    @property
    def width(self) -> int:
        return max(self.channels.values()) + 1


# --------------------------------------------------------------------------- one device


@dataclass
class _Block:
    """What one callback delivered, copied out of PortAudio's buffers (valid only during the callback)."""

    generation: int
    data: np.ndarray  # frames x channels, int16
    adc: float  # PortAudio's inputBufferAdcTime (0.0: not given)
    overflow: bool
    now: float


@dataclass
class _Stream:
    route: Route
    state: str = "closed"  # "opening" (no audio yet), "running", "lost"
    stream: Any = None
    generation: int = 0  # callbacks of a closed stream are ignored
    emitted: int = 0  # samples handed out per channel (all channels of a route advance together)
    opened_at: float = 0.0
    last_audio: float = 0.0
    lost_at: float = 0.0
    lost_reason: str = ""
    next_try: float = 0.0
    was_lost: bool = False
    rate: int = RATE
    clock_offset: float = 0.0  # PortAudio's stream time minus time.monotonic()
    resamplers: dict[str, Any] = field(default_factory=dict)
    overflows: int = 0
    tag: str = ""  # a source's stream, as the sound server knows it
    next_source_check: float = 0.0
    drift: DriftCorrector = field(default_factory=DriftCorrector)  # its clock against the call's
    to_drop: int = 0  # samples still to drop because the device runs fast
    lock: threading.Lock = field(default_factory=threading.Lock)  # never held across a PortAudio call
    pending: deque[_Block] = field(default_factory=deque)  # callbacks' blocks, handed out by the lock's holder

    @property
    def who(self) -> str | None:
        names = list(self.route.channels)
        return names[0] if len(names) == 1 else None

    @property
    def label(self) -> str:
        return f"{' and '.join(self.route.channels)} device {self.route.device.name!r}"


class DeviceCapture:
    """Capture from PortAudio devices through sounddevice (or a stand-in passed as `sd`)."""

    def __init__(self, routes: list[Route], sd: Any = None, *, stall_s: float = 1.0, first_audio_s: float = 5.0,
                 retry_s: float = 2.0, tick_s: float = 0.1, latency: str = "low",
                 clock: Callable[[], float] = time.monotonic, watch: bool = True,
                 where: Callable[[str, PulseSource], str | None] = where_is) -> None:
        """`watch=False`: no watchdog thread; the caller calls `tick()` (tests, with their own `clock`).
        `where(tag, source)`: why a source's stream no longer records from it (None: it does)."""
        names = [c for r in routes for c in r.channels]
        if len(names) != len(set(names)):
            raise ValueError(f"a channel is routed twice: {names}")
        self.routes = routes
        self.channels = tuple(names)
        self.sd = sd
        self.stall_s = stall_s
        self.first_audio_s = first_audio_s
        self.retry_s = retry_s
        self.tick_s = tick_s
        self.latency = latency
        self.clock = clock
        self.watch = watch
        self.where = where
        self._t0_lock = threading.Lock()
        self._streams = [_Stream(r) for r in routes]
        self._stop = threading.Event()
        self._watch: threading.Thread | None = None
        self._on_chunk: ChunkSink = lambda c: None
        self._on_status: StatusSink = lambda k, m, w: None
        self.t0: float | None = None  # when the call's sample 0 was recorded (time.monotonic())
        self._ready = threading.Event()

    def describe(self) -> str:
        return ", ".join(f"{c} = {r.device.name!r}" + (f" channel {i + 1}" if r.device.channels > 1 and
                                                       len(r.channels) > 1 else "")
                         for r in self.routes for c, i in r.channels.items())

    # ---------------------------------------------------------------- life cycle

    def start(self, on_chunk: ChunkSink, on_status: StatusSink) -> None:
        self.sd = self.sd or load_sounddevice()
        self._on_chunk, self._on_status = on_chunk, on_status
        try:
            for s in self._streams:
                self._open(s)
        except CallcueError:
            self.stop()
            raise
        if self.watch:
            self._watch = threading.Thread(target=self._watchdog, name="callcue-capture-watch", daemon=True)
            self._watch.start()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """True once every device has delivered audio (or been declared lost)."""
        return self._ready.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        if self._watch is not None and self._watch is not threading.current_thread():
            self._watch.join()
        for s in self._streams:
            with self._locked(s):
                stream = self._detach(s)
            self._shut(stream)

    # ---------------------------------------------------------------- streams

    def _open(self, s: _Stream, reconnect: bool = False) -> None:
        """Open and start a device's stream; CallcueError (first open) or False-ish state (reconnect)."""
        sd = self.sd
        dev = s.route.device
        if reconnect:
            dev = self._find_again(dev)
            s.route.device = dev
        width = s.route.width
        if width > dev.channels:
            raise CallcueError(f"{dev.name!r} has {dev.channels} input channel(s); channel {width} was asked for")
        last_err: Exception | None = None
        before = s.state
        for rate in dict.fromkeys([RATE, int(dev.rate or RATE)]):
            with self._locked(s):
                s.generation += 1
                gen = s.generation
            tag = new_tag()
            stream = None
            try:
                stream = open_input(sd, dev, tag=tag, samplerate=rate, channels=width, dtype="int16",
                                    blocksize=int(rate * BLOCK_S), latency=self.latency,
                                    callback=self._callback(s, gen))
                offset = float(getattr(stream, "time", 0.0) or 0.0) - self.clock()
                resamplers = {}
                if rate != RATE:
                    import soxr

                    resamplers = {c: soxr.ResampleStream(rate, RATE, 1, dtype="int16") for c in s.route.channels}
                with self._locked(s):  # in place before its first callback can come
                    s.stream, s.rate, s.clock_offset, s.tag = stream, rate, offset, tag
                    s.state, s.opened_at = "opening", self.clock()
                    s.resamplers = resamplers
                stream.start()
            except Exception as err:  # sounddevice.PortAudioError, or a stand-in's error
                last_err = err
                with self._locked(s):
                    if stream is not None and s.stream is stream:
                        self._detach(s)
                        s.state = before
                self._shut(stream)
                continue
            return
        message = f"cannot open the {s.label} ({last_err}); check that it is plugged in and not used " \
                  "exclusively by another program; `callcue devices` lists the input devices"
        raise CallcueError(message)

    def _find_again(self, dev: InputDevice) -> InputDevice:
        """The same device after a loss: by name, since indexes change when devices come and go."""
        devices = input_devices(self.sd)
        match = [d for d in devices if d.name == dev.name and (d.source is None) == (dev.source is None)]
        if not match and dev.source is None and all(s.state == "lost" for s in self._streams):
            # A device that was unplugged and plugged back in is only seen by a fresh PortAudio;
            # re-initialising is safe only while no stream is open.
            reinit = (getattr(self.sd, "_terminate", None), getattr(self.sd, "_initialize", None))
            if all(reinit):
                reinit[0]()
                reinit[1]()
                devices = input_devices(self.sd)
                match = [d for d in devices if d.name == dev.name and d.source is None]
        if not match:
            raise CallcueError(f"{dev.name!r} is not there")
        return match[0]

    def _detach(self, s: _Stream) -> Any:
        """Take the stream out (its callbacks are ignored from now on); the caller shuts it after letting go
        of the lock. Holds s.lock."""
        stream, s.stream = s.stream, None
        s.generation += 1
        return stream

    @staticmethod
    def _shut(stream: Any) -> None:
        """Abort and close a detached stream. Never under a lock: PortAudio waits for its callback here."""
        if stream is None:
            return
        for op in ("abort", "close"):
            try:
                getattr(stream, op)()
            except Exception:
                pass  # a stream whose device vanished may refuse to stop; it is dropped either way

    @contextmanager
    def _locked(self, s: _Stream) -> Iterator[None]:
        s.lock.acquire()
        try:
            yield
        finally:
            self._unlock(s)

    def _unlock(self, s: _Stream) -> None:
        """Let go of s.lock, first handing out the blocks that callbacks left while it was held. A block left
        just after the last look finds the lock free (and its callback takes it) or finds it taken again
        (and that holder hands it out): none is stranded."""
        while True:
            try:
                while s.pending:
                    self._take(s, s.pending.popleft())
            finally:
                s.lock.release()
            if not s.pending or not s.lock.acquire(blocking=False):
                return

    def _callback(self, s: _Stream, gen: int):  # type: ignore[no-untyped-def]
        def callback(indata, frames, time_info, status) -> None:  # noqa: ANN001 - PortAudio's signature
            now = self.clock()
            if gen != s.generation or self._stop.is_set():
                return  # a closed stream's (read without the lock; checked again under it)
            adc = float(getattr(time_info, "inputBufferAdcTime", 0.0) or 0.0)
            overflow = bool(status and getattr(status, "input_overflow", False))
            data = np.array(indata, dtype=np.int16, copy=True).reshape(frames, -1)
            s.pending.append(_Block(gen, data, adc, overflow, now))
            if s.lock.acquire(blocking=False):  # taken: its holder hands the block out as it lets go
                self._unlock(s)

        return callback

    def _take(self, s: _Stream, b: _Block) -> None:
        """One callback's block onto the call's clock and out to the sink. Holds s.lock."""
        if b.generation != s.generation or self._stop.is_set():
            return
        now = b.now
        if b.overflow:
            s.overflows += 1
        chans = {c: b.data[:, i] for c, i in s.route.channels.items()}
        if s.resamplers:
            chans = {c: s.resamplers[c].resample_chunk(x) for c, x in chans.items()}
        if s.state != "running":
            skip = self._first_audio(s, now, len(b.data), b.adc)
            chans = {c: x[skip:] for c, x in chans.items()}
            s.drift.reset()
            s.to_drop = 0
        else:
            chans = self._keep_time(s, chans, now)
        n = len(next(iter(chans.values())))
        s.last_audio = now
        s.emitted += n
        for c, x in chans.items():  # under the lock, so a watchdog's zeros never slip in between
            self._on_chunk(Chunk(c, x, now))

    def _keep_time(self, s: _Stream, chans: dict[str, np.ndarray], now: float) -> dict[str, np.ndarray]:
        """A device whose clock runs fast or slow is put back on the call's clock (audio.drift): zeros
        before this block, or samples dropped from it. Holds s.lock."""
        n = len(next(iter(chans.values())))
        if self.t0 is not None and n:
            fix = s.drift.update(now - self.t0, s.emitted + n - s.to_drop)
            if fix > 0:
                self._fill_to(s, s.emitted + fix, now)
            s.to_drop -= min(fix, 0)
        if s.to_drop:
            cut = min(s.to_drop, n)
            s.to_drop -= cut
            chans = {c: x[cut:] for c, x in chans.items()}
        return chans

    def _first_audio(self, s: _Stream, now: float, frames: int, adc: float) -> int:
        """Audio flows (again): fill up to where its first sample belongs on the call clock; returns how
        many of its samples (at 16 kHz) came before their place and are skipped. Holds s.lock."""
        first = now - frames / s.rate
        if adc:
            at = adc - s.clock_offset
            if first - 1.0 < at <= now:  # ADC times are not always kept (some host APIs give 0 or junk)
                first = at
        with self._t0_lock:
            if self.t0 is None:
                self.t0 = first
        target = int(round((first - self.t0) * RATE))
        self._fill_to(s, target, now)
        skip = max(0, s.emitted - target)  # it started before the call's first sample (or a lost device's zeros)
        back = s.was_lost
        s.state, s.was_lost = "running", False
        if back:
            away = now - s.lost_at
            self._status("device-back", f"the {s.label} is back after {away:.1f} s", s.who)
        if all(x.state == "running" or x.was_lost for x in self._streams):
            self._ready.set()
        return skip

    def _fill_to(self, s: _Stream, target: int, now: float) -> None:
        """Zeros on the route's channels up to call sample `target`. Holds s.lock."""
        n = target - s.emitted
        if n <= 0:
            return
        s.emitted += n
        zeros = np.zeros(n, np.int16)
        for c in s.route.channels:
            self._on_chunk(Chunk(c, zeros, now, filler=True))

    def _status(self, kind: str, message: str, who: str | None) -> None:
        try:
            self._on_status(kind, message, who)
        except Exception:
            pass  # reporting must never kill the capture

    # ---------------------------------------------------------------- watchdog

    def _watchdog(self) -> None:
        while not self._stop.wait(self.tick_s):
            self.tick()

    def tick(self) -> None:
        """Notice lost devices, fill their channels with zeros, try to reopen them."""
        for s in self._streams:
            self._check_source(s, self.clock())
            self._check(s, self.clock())

    def states(self) -> dict[str, str]:
        """Each device's state by name: "opening", "running" or "lost"."""
        return {s.route.device.name: s.state for s in self._streams}

    def _check(self, s: _Stream, now: float) -> None:
        with self._locked(s):
            stream, gen = s.stream, s.generation
        active = False
        if stream is not None:  # asked of PortAudio outside the lock
            try:
                active = bool(stream.active)
            except Exception:
                active = False
        doomed = None
        with self._locked(s):
            if s.generation != gen:
                return  # stopped meanwhile
            if s.state == "running":
                if not active:
                    doomed = self._lose(s, now, "its stream stopped")
                elif now - s.last_audio > self.stall_s:
                    doomed = self._lose(s, now, f"no audio for {now - s.last_audio:.1f} s")
            elif s.state == "opening" and now - s.opened_at > (self.retry_s if s.was_lost else self.first_audio_s):
                if s.was_lost:
                    doomed = self._detach(s)
                    s.state = "lost"
                else:
                    doomed = self._lose(s, now, f"no audio {now - s.opened_at:.1f} s after opening it")
            if s.state in ("lost", "opening") and s.was_lost and self.t0 is not None:
                self._fill_to(s, int((now - self.t0 - FILL_MARGIN_S) * RATE), now)
            retry = s.state == "lost" and now + 1e-6 >= s.next_try
            if retry:
                s.next_try = now + self.retry_s
        self._shut(doomed)
        if not retry:
            return
        try:
            self._open(s, reconnect=True)
        except CallcueError:
            pass  # still gone: try again in retry_s
        except Exception:
            pass

    def _check_source(self, s: _Stream, now: float) -> None:
        """A running source's stream still records from its source? Asked of the server (a subprocess, so
        not under the lock PortAudio's callback takes) at most every `retry_s`."""
        source = s.route.device.source
        if source is None or s.state != "running" or now + 1e-6 < s.next_source_check:
            return
        s.next_source_check = now + self.retry_s
        gen, tag = s.generation, s.tag
        try:
            why = self.where(tag, source)
        except Exception:
            why = None  # a question we could not ask is no loss
        if why:
            doomed = None
            with self._locked(s):
                if s.generation == gen and s.state == "running":
                    doomed = self._lose(s, self.clock(), why)
            self._shut(doomed)

    def _lose(self, s: _Stream, now: float, reason: str) -> Any:
        """Holds s.lock. Returns the detached stream, for the caller to shut once it has let go of the lock."""
        stream = self._detach(s)
        s.state, s.was_lost, s.lost_at, s.lost_reason = "lost", True, now, reason
        s.next_try = now + self.retry_s
        self._ready.set()  # a lost device is not waited for
        self._status("device-lost", f"lost the {s.label} ({reason}); the call goes on with silence on that "
                     f"channel while Callcue reconnects every {self.retry_s:.0f} s", s.who)
        return stream


# --------------------------------------------------------------------------- building routes


def plan_routes(agent: str | None, customer: str | None, order: tuple[str, str] = ("agent", "customer"),
                sd: Any = None) -> list[Route]:
    """Routes for `callcue listen`'s --agent/--customer.

    * both, different devices: one channel each (the first channel of a stereo device);
    * both the same device: a stereo device, `order[0]` on the left and `order[1]` on the right;
    * one or neither: a mono call (channel "mixed") from that device or the system's default input.
    """
    from callcue.audio.devices import default_input, find_input, require_inputs

    devices = require_inputs(sd)
    if agent and customer:
        a, c = find_input(agent, devices, "agent"), find_input(customer, devices, "customer")
        if a.key == c.key:
            if a.channels < 2:
                raise CallcueError(f"--agent and --customer are both {a.name!r}, which has one input channel; "
                                   "give two devices, or a stereo device with the agent and customer on its "
                                   "left and right channels")
            return [Route(a, {order[0]: 0, order[1]: 1})]
        return [Route(a, {"agent": 0}), Route(c, {"customer": 0})]
    if agent or customer:
        role = "agent" if agent else "customer"
        return [Route(find_input(agent or customer, devices, role), {"mixed": 0})]  # type: ignore[arg-type]
    return [Route(default_input(devices), {"mixed": 0})]


# --------------------------------------------------------------------------- a recording as a source


class FileCapture:
    """A recording played as if it were captured: 0.1 s chunks per channel, at real-time pace (`speed`
    times it) or as fast as the pipeline takes them (`realtime=False` or `speed=0`).

    `lossless`: the pipeline waits for room instead of dropping audio when it falls behind (by
    default only when not paced; the demo is always lossless, so it shows what analyze gives). The
    benchmark uses it paced and lossy to measure the live pipeline's delays without a sound card.
    """

    def __init__(self, channels: dict[str, np.ndarray], realtime: bool = True, block_s: float = BLOCK_S,
                 clock: Callable[[], float] = time.monotonic, speed: float = 1.0,
                 lossless: bool | None = None) -> None:
        self.pcm = {c: np.asarray(x, dtype=np.int16) for c, x in channels.items()}
        self.channels = tuple(self.pcm)
        self.realtime = realtime and speed > 0
        self.speed = speed if speed > 0 else 1.0
        self.lossless = (not self.realtime) if lossless is None else lossless
        self.block = int(block_s * RATE)
        self.clock = clock
        self.done = threading.Event()  # every chunk has been handed out, or stop() was called
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.t0 = 0.0

    def describe(self) -> str:
        return f"a recording ({', '.join(self.channels)})"

    @property
    def duration_s(self) -> float:
        return max(len(x) for x in self.pcm.values()) / RATE

    def start(self, on_chunk: ChunkSink, on_status: StatusSink) -> None:
        self._thread = threading.Thread(target=self._play, args=(on_chunk,), name="callcue-file-capture",
                                        daemon=True)
        self.t0 = self.clock()
        self._thread.start()

    def _play(self, on_chunk: ChunkSink) -> None:
        total = max(len(x) for x in self.pcm.values())
        try:
            for k, pos in enumerate(range(0, total, self.block)):
                if self.realtime:
                    # a device delivers a block once it has been recorded, at the end of its time
                    due = self.t0 + (k + 1) * self.block / RATE / self.speed
                    if self._stop.wait(max(0.0, due - self.clock())):
                        return
                elif self._stop.is_set():
                    return
                now = self.clock()
                for c, x in self.pcm.items():
                    part = x[pos:pos + self.block]
                    if len(part):
                        on_chunk(Chunk(c, part, now))
        finally:
            self.done.set()

    def wait_ready(self, timeout: float | None = None) -> bool:
        return True

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
