"""Recordings in: WAV, FLAC and OGG at any rate, as 16 kHz int16 per party."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from callcue.engine.clock import RATE
from callcue.errors import CallcueError

DEFAULT_ORDER = ("agent", "customer")
BLOCK = 100 * 1600  # 10 s at 16 kHz: what a RecordingReader hands out at a time, a multiple of the 0.1 s chunk


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


def _unreadable(p: Path, err: Exception) -> CallcueError:
    reason = str(err).split(":")[-1].strip() or "unreadable"
    if "does not exist" in reason:  # libsndfile's MPEG reader on bytes it cannot decode: the file is there
        reason = "its contents are not audio that libsndfile can decode"
    return CallcueError(f"{p}: not a readable WAV, FLAC or OGG recording ({reason}); check the file, or convert it "
                        "to WAV")


def _to_pcm(data: np.ndarray) -> np.ndarray:
    """float32 samples (libsndfile's scale) to int16, one sample at a time: a block gives the same as the whole."""
    return np.clip(np.round(data * 32767.0), -32768, 32767).astype(np.int16)


def _samples_at_16k(frames: int, rate: int) -> int:
    """How many samples soxr makes of `frames` at `rate`: frames * 16000 / rate, halves rounded up (its one-shot
    and its stream, flushed, give the same number)."""
    return (2 * frames * RATE + rate) // (2 * rate)


@dataclass
class RecordingReader:
    """A recording read in blocks, so that memory does not grow with its length (a 2-hour call is 460 MB as
    16 kHz int16 stereo, and several times that while decoded at once). The samples are read_recording's:
    the same float32 decoding and rounding, per sample, and soxr's streaming resampler, which gives the
    one-shot resampler's samples exactly (same quality, flushed at the end; tests/audio/test_recording.py).
    Each `blocks()` reads the file again from its start."""

    path: Path
    source_rate: int
    source_frames: int
    names: tuple[str, ...]  # what each file channel is, in file order: ("mixed",) or the parties left, right

    @property
    def channels(self) -> tuple[str, ...]:
        """The parties as read_recording's Recording.channels has them: agent first."""
        return ("mixed",) if self.names == ("mixed",) else DEFAULT_ORDER

    @property
    def samples(self) -> int:
        """Samples per channel at 16 kHz (from the file's header)."""
        return self.source_frames if self.source_rate == RATE else _samples_at_16k(self.source_frames,
                                                                                   self.source_rate)

    @property
    def duration_s(self) -> float:
        return self.samples / RATE

    def blocks(self, size: int = BLOCK) -> Iterator[dict[str, np.ndarray]]:
        """The recording as {party: int16 at 16 kHz}, `size` samples per channel a block (the last one
        shorter), from the start. A chunked reader that works on multiples of its chunk size sees
        the same chunks as it would in the whole arrays."""
        if size <= 0:
            raise ValueError(f"block size {size}")
        pending: list[np.ndarray] = []
        held = 0
        for pcm in self._pcm():
            pending.append(pcm)
            held += len(pcm)
            while held >= size:
                joined = pending[0] if len(pending) == 1 else np.concatenate(pending)
                yield self._split(joined[:size])
                pending, held = [joined[size:]], held - size
        if held:
            yield self._split(np.concatenate(pending) if len(pending) > 1 else pending[0])

    def read(self) -> Recording:
        """All of it at once (read_recording)."""
        import soundfile as sf

        try:
            data, rate = sf.read(str(self.path), dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError, TypeError) as err:
            raise _unreadable(self.path, err) from None
        if data.shape[0] == 0:
            raise CallcueError(f"{self.path}: the recording holds no audio (0 samples)")
        if rate != RATE:
            import soxr

            data = soxr.resample(data, rate, RATE, quality="HQ")
        return Recording(path=self.path, channels=self._split(_to_pcm(data)), source_rate=int(rate))

    def _pcm(self) -> Iterator[np.ndarray]:
        """int16 frames x channels at 16 kHz, in pieces of any length."""
        import soundfile as sf

        stream = None
        if self.source_rate != RATE:
            import soxr

            stream = soxr.ResampleStream(self.source_rate, RATE, len(self.names), dtype="float32", quality="HQ")
        source_block = max(1, BLOCK * self.source_rate // RATE)
        try:
            with sf.SoundFile(str(self.path)) as f:
                while True:
                    data = f.read(source_block, dtype="float32", always_2d=True)
                    last = len(data) < source_block
                    if stream is not None:
                        data = stream.resample_chunk(data, last=last)
                    if len(data):
                        yield _to_pcm(data)
                    if last:
                        return
        except (sf.LibsndfileError, RuntimeError, TypeError) as err:
            raise _unreadable(self.path, err) from None

    def _split(self, pcm: np.ndarray) -> dict[str, np.ndarray]:
        by_name = {who: np.ascontiguousarray(pcm[:, i]) for i, who in enumerate(self.names)}
        return {who: by_name[who] for who in self.channels}  # always agent first


def open_recording(path: str | os.PathLike[str], order: tuple[str, str] = DEFAULT_ORDER) -> RecordingReader:
    """A recording checked (the same checks and messages as read_recording), to be read in blocks."""
    import soundfile as sf

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
        info = sf.info(str(p))
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise _unreadable(p, err) from None
    if info.frames == 0:
        raise CallcueError(f"{p}: the recording holds no audio (0 samples)")
    nch = info.channels
    if nch > 2:
        raise CallcueError(f"{p}: {nch} channels; Callcue reads mono (one mixed channel) or stereo "
                           "(agent and customer). Export the two parties as a stereo file")
    names = ("mixed",) if nch == 1 else tuple(order)
    return RecordingReader(path=p, source_rate=int(info.samplerate), source_frames=int(info.frames), names=names)


def read_recording(path: str | os.PathLike[str], order: tuple[str, str] = DEFAULT_ORDER) -> Recording:
    """A recording at once, as 16 kHz int16 per party (open_recording(...).blocks() for a long one)."""
    return open_recording(path, order).read()
