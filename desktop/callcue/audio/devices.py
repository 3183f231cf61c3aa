"""Input devices as PortAudio (sounddevice) sees them, and finding the one a user named.

Everything takes the sounddevice module as an argument (`sd=None` means the real one), so
tests and benchmarks can pass a stand-in. PortAudio reads the system's audio configuration
when sounddevice is first imported: on Linux that is ALSA's, whose `pulse` plugin talks to
PulseAudio or PipeWire. With no sound server and no sound card it lists no devices at all.

ALSA shows a sound server as one device, `pulse`; the server's own sources (each microphone,
each "Monitor of ..." loopback) come from its tool `pactl` (callcue.audio.pulse) and are listed
after PortAudio's devices, as devices opened through `pulse` with the source chosen by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from callcue.audio.pulse import PulseSource
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
    default: bool = False  # the system's default input (for a source: the sound server's default source)
    source: PulseSource | None = None  # a PulseAudio/PipeWire source, recorded through PortAudio device `index`

    @property
    def loopback(self) -> bool:
        """Captures what the PC plays (a monitor or loopback source), not a microphone."""
        if self.source is not None:
            return self.source.monitor
        low = self.name.lower()
        return any(w in low for w in LOOPBACK_WORDS)

    @property
    def description(self) -> str:
        return self.source.description if self.source is not None else self.name

    @property
    def key(self) -> tuple[int, str | None]:
        """Tells devices apart: the sources all share the `pulse` device's index."""
        return self.index, self.source.name if self.source is not None else None

    def describe(self) -> str:
        kind = "monitor/loopback" if self.loopback else "input"
        mark = ", default" if self.default else ""
        if self.source is not None:
            return (f"{self.name!r} (PulseAudio source {self.description!r}, {kind}, {self.channels} ch, "
                    f"{self.rate:.0f} Hz{mark})")
        return f"{self.index} {self.name!r} ({kind}, {self.channels} ch, {self.rate:.0f} Hz, {self.hostapi}{mark})"


def load_sounddevice() -> Any:
    """The sounddevice module, or a message saying what is missing."""
    try:
        import sounddevice
    except OSError as err:  # the PortAudio library itself is missing
        raise CallcueError(f"the audio library PortAudio cannot be loaded ({err}); on Debian/Ubuntu install it "
                           "with `sudo apt-get install libportaudio2`") from None
    return sounddevice


PULSE_DEVICE = "pulse"  # the ALSA pulse plugin's device, through which a source is recorded


def input_devices(sd: Any = None, sources: list[PulseSource] | None = None) -> list[InputDevice]:
    """Every device that can record, in PortAudio's order; then, when PortAudio has the `pulse` device,
    the sound server's sources (`sources`, or what `pactl` lists: none without a server)."""
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
    via = next((d for d in out if d.name == PULSE_DEVICE), None)
    if via is not None:
        if sources is None:
            from callcue.audio.pulse import list_sources

            sources = list_sources()
        out += [InputDevice(index=via.index, name=src.name, channels=src.channels or via.channels,
                            rate=src.rate or via.rate, hostapi="PulseAudio", default=src.default, source=src)
                for src in sources]
    return out


def _default_input(sd: Any) -> int | None:
    try:
        dev = sd.default.device
        index = dev[0] if isinstance(dev, (list, tuple)) or hasattr(dev, "__getitem__") else dev
        index = int(index)
    except Exception:
        return None
    return index if index >= 0 else None


LISTING_HINT = "; `callcue devices` lists what PortAudio finds"  # left out by `callcue devices` itself
NO_SERVER_HINT = ("on Linux check that PulseAudio or PipeWire is running (`pactl info`) and that a microphone "
                  "or monitor source exists" + LISTING_HINT)


def no_devices_error() -> CallcueError:
    return CallcueError("no audio input devices found: PortAudio sees no microphone, capture card or monitor "
                        f"source, so there is nothing to listen to; {NO_SERVER_HINT}")


def require_inputs(sd: Any = None) -> list[InputDevice]:
    devices = input_devices(sd)
    if not devices:
        raise no_devices_error()
    return devices


def _listing(devices: list[InputDevice]) -> str:
    return "; ".join(d.describe() for d in devices)  # a source says so in its own description


def find_input(spec: str | int, devices: list[InputDevice], role: str = "device") -> InputDevice:
    """The input device a user named: its index, its exact name (a source's name or description), or a part
    of a name or description found in one device."""
    if not devices:
        raise no_devices_error()
    text = str(spec).strip()
    if text.isdigit():
        for d in devices:
            if d.index == int(text) and d.source is None:
                return d
        raise CallcueError(f"--{role} {text}: no input device has index {text}; the input devices are: "
                           f"{_listing(devices)}")
    low = text.casefold()
    for found in ([d for d in devices if d.name.casefold() == low],
                  [d for d in devices if d.source is not None and d.description.casefold() == low],
                  [d for d in devices if low in d.name.casefold()
                   or (d.source is not None and low in d.description.casefold())]):
        # Windows lists one device under several host APIs (MME, DirectSound, WASAPI): take the default's.
        if len({d.name for d in found}) == 1:
            return next((d for d in found if d.default), found[0])
        if found:
            raise CallcueError(f"--{role} {text!r}: matches several input devices: {_listing(found)}; give the "
                               "index or the full name (of a source: its name)")
    raise CallcueError(f"--{role} {text!r}: no such input device; the input devices are: {_listing(devices)}")


def default_input(devices: list[InputDevice]) -> InputDevice:
    if not devices:
        raise no_devices_error()
    return next((d for d in devices if d.default and d.source is None), devices[0])


def open_input(sd: Any, device: InputDevice, tag: str | None = None, **kwargs: Any) -> Any:
    """`sd.InputStream` on a device; a source is recorded through the `pulse` device with PULSE_SOURCE set
    while the stream is opened (see callcue.audio.pulse). `tag` marks the stream in the sound server."""
    if device.source is None:
        return sd.InputStream(device=device.index, **kwargs)
    from callcue.audio.pulse import new_tag, opening

    with opening(device.source.name, tag or new_tag()):
        return sd.InputStream(device=device.index, **kwargs)


def choice_names(devices: list[InputDevice]) -> list[str]:
    """What a device menu shows: PortAudio's names, and each source's description (its name when another
    device shows the same words); find_input finds each of them again."""
    seen: dict[str, int] = {}
    for d in devices:
        for text in {d.name.casefold(), d.description.casefold()}:
            seen[text] = seen.get(text, 0) + 1
    names = []
    for d in devices:
        label = d.description if d.source is not None and seen[d.description.casefold()] == 1 else d.name
        if label not in names:
            names.append(label)
    return names


def input_names() -> tuple[list[str], str | None]:
    """The names a device menu offers, or why there are none (for the overlay's settings)."""
    try:
        devices = input_devices()
    except CallcueError as err:
        return [], str(err)
    names = choice_names(devices)
    if not names:
        return [], ("no input device found: plug in a headset, or start the sound server "
                    "(PulseAudio or PipeWire)")
    return names, None


def open_named(spec: str | None, **kwargs: Any) -> Any:
    """An unstarted input stream on the device a menu or user named (None: the system's default)."""
    sd = load_sounddevice()
    if spec is None:
        return sd.InputStream(**kwargs)
    return open_input(sd, find_input(spec, input_devices(sd)), **kwargs)
