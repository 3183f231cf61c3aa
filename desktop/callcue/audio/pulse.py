"""PulseAudio/PipeWire sources through the server's own tool, `pactl`, and opening one through PortAudio.

On a Linux desktop PortAudio (ALSA) shows only `pulse` and `default`, not the server's sources
(microphones and "Monitor of ..." loopbacks). `pactl` lists them; pipewire-pulse answers it the same
way. A source is then recorded through PortAudio's `pulse` device with PULSE_SOURCE set while the
stream is opened: the ALSA pulse plugin makes a new libpulse context for every stream it opens, and
libpulse reads PULSE_SOURCE into that context's configuration and records from it. Each stream thus
keeps its own source, in one process (measured: two streams, two null sinks' monitors, own signal
correlation 0.9999, the other's 0.03).

No pactl, no server, a server that does not answer: no sources, never an error.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

PACTL_TIMEOUT_S = 3.0
TAG_PROPERTY = "callcue.stream"  # set on our record streams (PULSE_PROP_...), so we can find them in the server


@dataclass(frozen=True)
class PulseSource:
    name: str  # the server's name, e.g. "alsa_output.pci-0000_00_1f.3.analog-stereo.monitor"
    description: str  # what desktops show, e.g. "Monitor of Built-in Audio Analog Stereo"
    channels: int
    rate: float
    monitor: bool  # a monitor of a sink: what the PC plays (loopback), not a microphone
    default: bool = False  # the server's default source
    index: int = -1  # the server's index, which changes when the source comes back


def _run(*args: str) -> subprocess.CompletedProcess[str] | None:
    if shutil.which("pactl") is None:
        return None
    env = dict(os.environ, LC_ALL="C")  # fixed words in text output, and a decimal point in JSON numbers
    try:
        return subprocess.run(["pactl", *args], env=env, capture_output=True, text=True, timeout=PACTL_TIMEOUT_S,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None


def _json(*args: str) -> Any:
    """pactl's JSON (pactl 16 and later), or None when it has none or fails."""
    r = _run("--format=json", *args)
    if r is None or r.returncode != 0:
        return None
    try:
        return json.loads(r.stdout)
    except ValueError:
        return None


def _spec(text: str) -> tuple[int, float]:
    """Channels and rate of a sample specification such as "s16le 2ch 44100Hz"."""
    ch = re.search(r"(\d+)ch", text or "")
    hz = re.search(r"(\d+)Hz", text or "")
    return (int(ch.group(1)) if ch else 0), (float(hz.group(1)) if hz else 0.0)


def server_running() -> bool:
    r = _run("info")
    return r is not None and r.returncode == 0


def list_sources() -> list[PulseSource]:
    """The server's sources, in its order; [] without pactl or a server."""
    data = _json("list", "sources")
    if isinstance(data, list):
        info = _json("info")
        default = info.get("default_source_name") if isinstance(info, dict) else None
        out = []
        for s in data:
            try:
                props = s.get("properties") or {}
                monitor_of = s.get("monitor_of_sink", s.get("monitor_source")) or ""  # pactl 16 calls it the latter
                channels, rate = _spec(str(s.get("sample_specification", "")))
                out.append(PulseSource(
                    name=str(s["name"]), description=str(s.get("description") or s["name"]), channels=channels,
                    rate=rate, monitor=props.get("device.class") == "monitor" or monitor_of not in ("", "n/a"),
                    default=s["name"] == default, index=int(s.get("index", -1))))
            except (KeyError, TypeError, ValueError):
                continue
        return out
    return _list_sources_text()


def _list_sources_text() -> list[PulseSource]:
    """pactl before 16: its plain listing (English, LC_ALL=C), and the default from `pactl info`."""
    r = _run("list", "sources")
    if r is None or r.returncode != 0:
        return []
    info = _run("info")
    m = re.search(r"^Default Source: (.+)$", info.stdout if info and info.returncode == 0 else "", re.M)
    default = m.group(1).strip() if m else None
    out = []
    for block in re.split(r"^Source #", r.stdout, flags=re.M)[1:]:
        fields = dict(re.findall(r"^\t([A-Z][A-Za-z ]*): (.*)$", block, re.M))
        name = fields.get("Name", "").strip()
        if not name:
            continue
        try:
            index = int(block.split(None, 1)[0])
        except (IndexError, ValueError):
            index = -1
        channels, rate = _spec(fields.get("Sample Specification", ""))
        monitor_of = fields.get("Monitor of Sink", "n/a").strip()
        out.append(PulseSource(name=name, description=fields.get("Description", name).strip() or name,
                               channels=channels, rate=rate,
                               monitor=monitor_of != "n/a" or 'device.class = "monitor"' in block,
                               default=name == default, index=index))
    return out


# --------------------------------------------------------------------------- opening a source

_OPEN_LOCK = threading.Lock()
_TAGS = itertools.count(1)


@contextmanager
def opening(source: str, tag: str) -> Iterator[None]:
    """PULSE_SOURCE (and our tag, as a stream property) in the environment while a stream is opened.

    Under a lock, so two streams opened at once each get their own; the previous values come back
    after, so nothing else in the process (a level meter, the default device) is pointed at it.
    """
    keys = {"PULSE_SOURCE": source, f"PULSE_PROP_{TAG_PROPERTY}": tag}
    with _OPEN_LOCK:
        saved = {k: os.environ.get(k) for k in keys}
        os.environ.update(keys)
        try:
            yield
        finally:
            restore_environ(saved)


def restore_environ(saved: dict[str, str | None]) -> None:
    """Put environment variables back as they were (None: it was not set)."""
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def new_tag() -> str:
    """A name for one record stream, unique on this machine while the process lives."""
    return f"{os.getpid()}-{next(_TAGS)}"


# --------------------------------------------------------------------------- is it still there?


def where_is(tag: str, source: PulseSource) -> str | None:
    """Why the stream tagged `tag` no longer records from `source`, or None (it does, or we cannot tell).

    A source that goes away (a headset unplugged, a null sink unloaded) does not stop the stream:
    the server moves it to another source and the audio goes on, from the wrong place.
    """
    outputs = _json("list", "source-outputs")
    ours = [o for o in outputs if isinstance(o, dict) and (o.get("properties") or {}).get(TAG_PROPERTY) == tag] \
        if isinstance(outputs, list) else []
    if ours:
        at = ours[0].get("source")
        if at == source.index:
            return None
        names = {s.index: s.name for s in list_sources()}
        if names.get(at) == source.name:
            return None
        if names and source.name not in names.values():
            return f"the source {source.name!r} is gone"
        return f"the sound server moved its stream to {names.get(at, 'another source')!r}" if names else None
    # pactl before 16 (no JSON), or a server that keeps no client properties on its streams: whether the
    # source is still there is what can be seen
    r = _run("list", "short", "sources")
    if r is None or r.returncode != 0:
        return None  # no server: the stream stalls, which the capture notices by itself
    names = [line.split("\t")[1] for line in r.stdout.splitlines() if line.count("\t") >= 1]
    return None if source.name in names else f"the source {source.name!r} is gone"
