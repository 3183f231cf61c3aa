"""Recordings in: WAV, FLAC and OGG at any rate, as 16 kHz int16 per party."""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from callcue.errors import CallcueError

RATE = 16000
DEFAULT_ORDER = ("agent", "customer")


@dataclass
class Recording:
    path: Path
    channels: dict[str, np.ndarray]  # who -> int16 mono at 16 kHz
    source_rate: int

    @property
    def duration_s(self) -> float:
        return max(len(a) for a in self.channels.values()) / RATE


def parse_channel_order(spec: str | None) -> tuple[str, str]:
    """`--channels customer,agent` says which party is left and which is right."""
    if not spec:
        return DEFAULT_ORDER
    parts = tuple(p.strip().lower() for p in spec.split(","))
    if sorted(parts) != sorted(DEFAULT_ORDER):
        raise CallcueError(
            f"--channels {spec!r}: give the parties of the left and right channels, "
            "e.g. 'agent,customer' or 'customer,agent'"
        )
    return parts  # type: ignore[return-value]


def _check_wav_length(path: Path) -> None:
    """A WAV whose data chunk promises more than the file holds was cut off mid-copy.

    libsndfile quietly reads what is there, so a call would look shorter than it
    was; the user should know the file is damaged.
    """
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return  # not RIFF/WAVE: soundfile gives its own message
        size = os.fstat(f.fileno()).st_size
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                raise CallcueError(f"{path}: truncated WAV: no audio data chunk; the file was cut off. "
                                   "Copy or export the recording again")
            cid, clen = struct.unpack("<4sI", chunk)
            if cid == b"data":
                available = size - f.tell()
                # 0 and 0xFFFFFFFF mean "unknown length" (streamed writers); trust the file then.
                if clen not in (0, 0xFFFFFFFF) and available < clen:
                    raise CallcueError(
                        f"{path}: truncated WAV: the header promises {clen} bytes of audio but only "
                        f"{available} are there; copy or export the recording again")
                return
            f.seek(clen + (clen & 1), os.SEEK_CUR)


def read_recording(path: str | os.PathLike[str], order: tuple[str, str] = DEFAULT_ORDER) -> Recording:
    import soundfile as sf
    import soxr

    p = Path(path)
    if not p.exists():
        raise CallcueError(f"{p}: no such file; check the path")
    if p.is_dir():
        raise CallcueError(f"{p}: is a folder, not a recording; give a WAV, FLAC or OGG file, or add --save to "
                           "analyse every recording in the folder, each saved as a session")
    if p.stat().st_size == 0:
        raise CallcueError(f"{p}: the file is empty (0 bytes); it holds no audio")
    if p.suffix.lower() == ".wav":
        _check_wav_length(p)
    try:
        data, rate = sf.read(str(p), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        reason = str(err).split(":")[-1].strip() or "unreadable"
        raise CallcueError(f"{p}: not a readable WAV, FLAC or OGG recording ({reason}); "
                           "check the file, or convert it to WAV") from None
    if data.shape[0] == 0:
        raise CallcueError(f"{p}: the recording holds no audio (0 samples)")
    nch = data.shape[1]
    if nch > 2:
        raise CallcueError(f"{p}: {nch} channels; Callcue reads mono (one mixed channel) or stereo "
                           "(agent and customer). Export the two parties as a stereo file")
    if rate != RATE:
        data = soxr.resample(data, rate, RATE, quality="HQ")
    pcm = np.clip(np.round(data * 32767.0), -32768, 32767).astype(np.int16)
    if nch == 1:
        channels = {"mixed": np.ascontiguousarray(pcm[:, 0])}
    else:
        channels = {order[0]: np.ascontiguousarray(pcm[:, 0]), order[1]: np.ascontiguousarray(pcm[:, 1])}
        channels = {k: channels[k] for k in DEFAULT_ORDER}  # always agent first
    return Recording(path=p, channels=channels, source_rate=int(rate))
