"""A private PulseAudio server with two null sinks, for live-capture tests (see ../shared/AUDIO.md).

The server gets its own XDG_RUNTIME_DIR (mode 700) and HOME, so it never meets a desktop's
server. HOME holds an .asoundrc that gives PortAudio one named ALSA device per monitor source:
`agent_monitor` and `customer_monitor` (ALSA names cannot hold dots). PortAudio reads the ALSA
configuration when sounddevice is first imported, so whatever captures must be a process
started with `env` (a `callcue listen` subprocess).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

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
    def __init__(self, base: Path) -> None:
        self.base = Path(base)
        self.runtime = self.base / "runtime"
        self.home = self.base / "home"
        self.proc: subprocess.Popen[bytes] | None = None
        self.modules: dict[str, int] = {}
        self.env = dict(os.environ)

    def start(self, timeout: float = 10.0) -> PulseServer:
        self.runtime.mkdir(parents=True, exist_ok=True)
        self.runtime.chmod(0o700)
        self.home.mkdir(parents=True, exist_ok=True)
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
        return subprocess.Popen(["paplay", f"--device={sink}", str(wav)], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def stop(self) -> None:
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
