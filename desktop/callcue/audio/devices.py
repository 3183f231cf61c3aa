"""Input devices as PortAudio (sounddevice) sees them, and finding the one a user named.

Everything takes the sounddevice module as an argument (`sd=None` means the real one), so
tests and benchmarks can pass a stand-in. PortAudio reads the system's audio configuration
when sounddevice is first imported: on Linux that is ALSA's, whose `pulse` plugin talks to
PulseAudio or PipeWire. With no sound server and no sound card it lists no devices at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from callcue.errors import CallcueError

# Words in a device's name that say it captures what the PC plays (the softphone's output):
# PulseAudio/PipeWire monitors, Windows' Stereo Mix, virtual cables and loopback drivers.
LOOPBACK_WORDS = ("monitor", "loopback", "stereo mix", "what u hear", "wave out mix", "blackhole",
                  "soundflower", "cable output", "vb-audio", "voicemeeter out")


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    channels: int  # input channels
    rate: float  # the device's default sample rate
    hostapi: str
    default: bool = False  # the system's default input

    @property
    def loopback(self) -> bool:
        """Captures what the PC plays (a monitor or loopback source), not a microphone."""
        low = self.name.lower()
        return any(w in low for w in LOOPBACK_WORDS)

    def describe(self) -> str:
        kind = "monitor/loopback" if self.loopback else "input"
        mark = ", default" if self.default else ""
        return f"{self.index} {self.name!r} ({kind}, {self.channels} ch, {self.rate:.0f} Hz, {self.hostapi}{mark})"


def load_sounddevice() -> Any:
    """The sounddevice module, or a message saying what is missing."""
    try:
        import sounddevice
    except OSError as err:  # the PortAudio library itself is missing
        raise CallcueError(f"the audio library PortAudio cannot be loaded ({err}); on Debian/Ubuntu install it "
                           "with `sudo apt-get install libportaudio2`") from None
    return sounddevice


def input_devices(sd: Any = None) -> list[InputDevice]:
    """Every device that can record, in PortAudio's order."""
    sd = sd or load_sounddevice()
    try:
        devices = list(sd.query_devices())
        hostapis = [h["name"] for h in sd.query_hostapis()]
    except Exception as err:  # PortAudio errors are plain exceptions with a C message
        raise CallcueError(f"cannot list the audio devices ({err}); {NO_SERVER_HINT}") from None
    default_in = _default_input(sd)
    out = []
    for i, d in enumerate(devices):
        if int(d.get("max_input_channels", 0)) <= 0:
            continue
        index = int(d.get("index", i))
        api = d.get("hostapi", 0)
        out.append(InputDevice(index=index, name=str(d["name"]), channels=int(d["max_input_channels"]),
                               rate=float(d.get("default_samplerate") or 0.0),
                               hostapi=hostapis[api] if isinstance(api, int) and 0 <= api < len(hostapis)
                               else str(api), default=index == default_in))
    return out


def _default_input(sd: Any) -> int | None:
    try:
        dev = sd.default.device
        index = dev[0] if isinstance(dev, (list, tuple)) or hasattr(dev, "__getitem__") else dev
        index = int(index)
    except Exception:
        return None
    return index if index >= 0 else None


NO_SERVER_HINT = ("on Linux check that PulseAudio or PipeWire is running (`pactl info`) and that a microphone "
                  "or monitor source exists; `callcue devices` lists what PortAudio finds")


def no_devices_error() -> CallcueError:
    return CallcueError("no audio input devices found: PortAudio sees no microphone, capture card or monitor "
                        f"source, so there is nothing to listen to; {NO_SERVER_HINT}")


def require_inputs(sd: Any = None) -> list[InputDevice]:
    devices = input_devices(sd)
    if not devices:
        raise no_devices_error()
    return devices


def _listing(devices: list[InputDevice]) -> str:
    return "; ".join(d.describe() for d in devices)


def find_input(spec: str | int, devices: list[InputDevice], role: str = "device") -> InputDevice:
    """The input device a user named: its index, its exact name, or a part of its name found in one device."""
    if not devices:
        raise no_devices_error()
    text = str(spec).strip()
    if text.isdigit():
        for d in devices:
            if d.index == int(text):
                return d
        raise CallcueError(f"--{role} {text}: no input device has index {text}; the input devices are: "
                           f"{_listing(devices)}")
    low = text.casefold()
    exact = [d for d in devices if d.name.casefold() == low]
    if exact:
        # Windows lists one device under several host APIs (MME, DirectSound, WASAPI): take the default's.
        return next((d for d in exact if d.default), exact[0])
    part = [d for d in devices if low in d.name.casefold()]
    if len({d.name for d in part}) == 1:
        return next((d for d in part if d.default), part[0])
    if part:
        raise CallcueError(f"--{role} {text!r}: matches several input devices: {_listing(part)}; give the "
                           "index or the full name")
    raise CallcueError(f"--{role} {text!r}: no such input device; the input devices are: {_listing(devices)}")


def default_input(devices: list[InputDevice]) -> InputDevice:
    if not devices:
        raise no_devices_error()
    return next((d for d in devices if d.default), devices[0])
