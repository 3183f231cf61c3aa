"""A private PulseAudio server with two null sinks, for live-capture tests (see ../shared/AUDIO.md).

The server gets its own XDG_RUNTIME_DIR (mode 700) and HOME, so it never meets a desktop's
server. With the `pulse` fixture, HOME holds an .asoundrc that gives PortAudio one named ALSA
device per monitor source: `agent_monitor` and `customer_monitor` (ALSA names cannot hold dots).
With `pulse_sources` there is none, as on a user's desktop: PortAudio shows only `pulse` and
`default`, and Callcue finds the sources `agent.monitor` and `customer.monitor` through pactl.
PortAudio reads the ALSA configuration when sounddevice is first imported, so whatever captures
must be a process started with `env` (a `callcue listen` subprocess), or re-initialise PortAudio
(`in_process`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

SINKS = ("agent", "customer")

ASOUNDRC = """\
pcm.{name}_monitor {{
    type pulse
    device "{name}.monitor"
    hint {{ show on description "{name} sink monitor (PulseAudio)" }}
}}
"""


def available() -> str | None:
    """Why a server cannot be started here, or None."""
    for tool in ("pulseaudio", "pactl", "paplay"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (./setup.sh --test installs pulseaudio and pulseaudio-utils)"
    return None


class PulseServer:
    def __init__(self, base: Path, asoundrc: bool = True) -> None:
        self.base = Path(base)
        self.asoundrc = asoundrc
        self.runtime = self.base / "runtime"
        self.home = self.base / "home"
        self.proc: subprocess.Popen[bytes] | None = None
        self.modules: dict[str, int] = {}
        self.players: list[subprocess.Popen[bytes]] = []
        self.env = dict(os.environ)

    def start(self, timeout: float = 10.0) -> PulseServer:
        self.runtime.mkdir(parents=True, exist_ok=True)
        self.runtime.chmod(0o700)
        self.home.mkdir(parents=True, exist_ok=True)
        if self.asoundrc:
            (self.home / ".asoundrc").write_text("".join(ASOUNDRC.format(name=s) for s in SINKS))
        self.env.update(XDG_RUNTIME_DIR=str(self.runtime), HOME=str(self.home))
        for var in ("PULSE_SERVER", "PULSE_SINK", "PULSE_SOURCE", "PULSE_COOKIE"):
            self.env.pop(var, None)
        self.log = open(self.base / "pulseaudio.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            ["pulseaudio", "--daemonize=no", "-n", "--exit-idle-time=-1", "--disallow-exit",
             "--load=module-native-protocol-unix"],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while self.pactl("info", check=False).returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                log = (self.base / "pulseaudio.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"PulseAudio did not start:\n{log}")
            time.sleep(0.02)  # polling a server's readiness, not waiting for audio time
        for sink in SINKS:
            self.add_sink(sink)
        return self

    def pactl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["pactl", *args], env=self.env, capture_output=True, text=True, check=check,
                              timeout=10)

    def add_sink(self, name: str) -> None:
        out = self.pactl("load-module", "module-null-sink", f"sink_name={name}",
                         "rate=16000", "channels=1", f"sink_properties=device.description={name}")
        self.modules[name] = int(out.stdout.strip())

    def remove_sink(self, name: str) -> None:
        """Pull the plug: the sink and its monitor source disappear, as a USB headset does."""
        self.pactl("unload-module", str(self.modules.pop(name)))

    def play(self, sink: str, wav: Path) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(["paplay", f"--device={sink}", str(wav)], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.players.append(proc)
        return proc

    def noise_bed(self, seconds: float = 120.0, db: float = -55.0) -> None:
        """Line noise into every sink, as a phone line or a headset has, until the server stops.

        A null sink's monitor is digital silence when nothing plays. The engine's noise floor
        follows a falling level at once and a rising one slowly, so after digital silence the
        first hiss would pass its gate for a long while and could open a stretch of "speech".
        """
        import numpy as np
        import soundfile as sf

        wav = self.base / "noise.wav"
        rng = np.random.default_rng(5)
        sf.write(wav, (10 ** (db / 20) * rng.standard_normal(int(seconds * 16000))).astype(np.float32), 16000)
        for sink in SINKS:
            self.play(sink, wav)

    def stop(self) -> None:
        for player in self.players:
            if player.poll() is None:
                player.terminate()
            player.wait()
        self.players = []
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if getattr(self, "log", None):
            self.log.close()


# --------------------------------------------------------------------------- a short call to play

# One talk-over (the agent starts 1.6 s before the customer ends) and one 5.5 s silence, in
# about 17 s: the live tests play it in real time, so it is kept short.
SHORT_CALL = {
    "title": "A short call with one talk-over and one silence (live capture tests)",
    "voices": {"agent": "en-us+f1", "customer": "en-us+m3"},
    "lead_in": 0.5,
    "tail": 1.0,
    "turns": [
        {"who": "agent", "text": "Thanks for calling Contoso support, this is Sam. How can I help?", "mood": "calm"},
        {"who": "customer", "text": "My internet drops every evening and I am tired of restarting the router.",
         "mood": "annoyed", "gap": 0.5},
        {"who": "agent", "text": "I understand, let me check your line right now.", "mood": "calm", "gap": -1.6},
        {"who": "customer", "text": "Okay, thank you.", "mood": "calm", "gap": 5.5},
        {"who": "agent", "text": "It is fixed now.", "mood": "warm", "gap": 0.6},
    ],
}


class Call:
    def __init__(self, folder: Path, name: str) -> None:
        import json

        self.wav = folder / f"{name}.wav"
        self.truth = json.loads((folder / f"{name}.truth.json").read_text())
        self.parts = {who: folder / f"{name}.{who}.wav" for who in ("agent", "customer")}


def make_short_call(folder: Path) -> Call:
    """Synthesise SHORT_CALL with tools/make_call.py and split it into one mono file per party."""
    import json
    import sys

    import soundfile as sf

    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "live-short.json"
    script.write_text(json.dumps(SHORT_CALL))
    from tests.conftest import MAKE_CALL

    subprocess.run([sys.executable, str(MAKE_CALL), str(script), str(folder)], check=True,
                   capture_output=True, timeout=120)
    call = Call(folder, "live-short")
    data, rate = sf.read(call.wav, dtype="int16")
    for i, who in enumerate(("agent", "customer")):
        sf.write(call.parts[who], data[:, i], rate)
    return call


# --------------------------------------------------------------------------- a stand-in for sounddevice


class FakeClock:
    """A clock the test moves by hand: no test waits for real time to pass."""

    def __init__(self, t: float = 100.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> float:
        self.t += seconds
        return self.t


class FakeStream:
    def __init__(self, sd: FakeSD, device: int, samplerate: float, channels: int, dtype: str, blocksize: int,
                 latency: str, callback) -> None:  # noqa: ANN001
        if (device, int(samplerate)) in sd.refuse or device not in [d["index"] for d in sd.devices]:
            raise sd.PortAudioError(f"Error opening InputStream: device {device} at {samplerate} Hz refused")
        self.sd, self.device, self.rate, self.channels = sd, device, int(samplerate), channels
        self.blocksize, self.callback = blocksize, callback
        self.active = False
        self.closed = False
        sd.streams.append(self)

    @property
    def time(self) -> float:
        return self.sd.clock() + self.sd.pa_offset  # PortAudio's own clock runs on another origin

    def start(self) -> None:
        self.active = True

    def abort(self) -> None:
        self.active = False

    def close(self) -> None:
        self.active = False
        self.closed = True

    def deliver(self, pcm, adc_delay: float | None = None) -> None:  # noqa: ANN001
        """One callback with `pcm` (frames x channels int16), captured `adc_delay` s before now."""
        import types

        import numpy as np

        pcm = np.asarray(pcm, dtype=np.int16).reshape(len(pcm), -1)
        frames = len(pcm)
        adc = 0.0 if adc_delay is None else self.time - adc_delay
        self.callback(pcm, frames, types.SimpleNamespace(inputBufferAdcTime=adc), types.SimpleNamespace(
            input_overflow=False))


class FakeSD:
    """What DeviceCapture and devices.py use of sounddevice: query_devices, query_hostapis, default, InputStream."""

    class PortAudioError(Exception):
        pass

    def __init__(self, devices: list[tuple[str, int]], default: int = 0, clock: FakeClock | None = None,
                 outputs: list[str] = ()) -> None:
        import types

        self.devices = [{"index": i, "name": n, "max_input_channels": ch, "max_output_channels": 0,
                         "default_samplerate": 48000.0, "hostapi": 0} for i, (n, ch) in enumerate(devices)]
        self.devices += [{"index": len(self.devices) + k, "name": n, "max_input_channels": 0,
                          "max_output_channels": 2, "default_samplerate": 48000.0, "hostapi": 0}
                         for k, n in enumerate(outputs)]
        self.default = types.SimpleNamespace(device=(default, -1))
        self.clock = clock or FakeClock()
        self.pa_offset = 5000.0
        self.refuse: set[tuple[int, int]] = set()  # (device, rate) pairs that fail to open
        self.streams: list[FakeStream] = []

    def query_devices(self):  # noqa: ANN201
        return list(self.devices)

    def query_hostapis(self):  # noqa: ANN201
        return [{"name": "Fake API"}]

    def InputStream(self, **kwargs) -> FakeStream:  # noqa: N802 - sounddevice's name
        return FakeStream(self, **kwargs)

    def unplug(self, name: str) -> None:
        self.devices = [d for d in self.devices if d["name"] != name]

    def plug(self, name: str, channels: int = 1) -> None:
        self.devices.append({"index": max([d["index"] for d in self.devices] + [-1]) + 1, "name": name,
                             "max_input_channels": channels, "max_output_channels": 0,
                             "default_samplerate": 48000.0, "hostapi": 0})


# --------------------------------------------------------------------------- fixtures


def _serve(asoundrc: bool):  # noqa: ANN202 - a fixture's generator
    why = available()
    if why:
        pytest.fail(why)
    # a short base path: the server's socket path must fit in 108 bytes
    base = Path(tempfile.mkdtemp(prefix="cc-pulse-"))
    server = PulseServer(base, asoundrc=asoundrc)
    server.env.pop("CALLCUE_MODEL", None)
    server.start()
    yield server
    server.stop()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pulse(request):
    """A running private PulseAudio server with sinks `agent` and `customer`; `.env` reaches it. Its HOME
    has the .asoundrc (unless parametrized indirectly with False)."""
    yield from _serve(getattr(request, "param", True))


@pytest.fixture
def pulse_sources():
    """The same server without an .asoundrc: the monitors are PulseAudio sources only, as on a desktop."""
    yield from _serve(False)


@contextlib.contextmanager
def in_process(server: PulseServer):
    """This process's PortAudio talking to `server`: its environment, and PortAudio re-initialised so that
    it sees the server's `pulse` device; both put back after."""
    import sounddevice as sd

    from callcue.audio.pulse import restore_environ

    keys = ("HOME", "XDG_RUNTIME_DIR", "PULSE_SERVER", "PULSE_SINK", "PULSE_SOURCE", "PULSE_COOKIE")
    saved = {k: os.environ.get(k) for k in keys}
    for k in keys:
        os.environ.pop(k, None)
        if k in server.env:
            os.environ[k] = server.env[k]
    sd._terminate()
    sd._initialize()
    try:
        yield sd
    finally:
        restore_environ(saved)
        sd._terminate()
        sd._initialize()


@pytest.fixture(scope="session")
def short_call(tmp_path_factory) -> Call:
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is not installed (./setup.sh installs it): it speaks the test call")
    return make_short_call(tmp_path_factory.mktemp("short-call"))
