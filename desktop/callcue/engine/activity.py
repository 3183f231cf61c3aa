"""Voice activity per channel: webrtcvad on 30 ms frames, smoothed into stretches of speech."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from callcue.engine.clock import RATE

FRAME_S = 0.03
FRAME = int(RATE * FRAME_S)  # 480 samples
DIGITAL_SILENCE_DB = -90.0  # below any microphone's own hiss


def frame_db(frame: np.ndarray) -> float:
    """RMS level of an int16 frame in dB full scale."""
    x = frame.astype(np.float32)
    ms = float(np.dot(x, x)) / len(x) if len(x) else 0.0
    return 10.0 * math.log10(ms / (32768.0**2) + 1e-12)


@dataclass
class Segment:
    who: str
    start: float
    end: float  # end of the last voiced frame

    @property
    def duration(self) -> float:
        return self.end - self.start


class ChannelActivity:
    """Turns per-frame voice decisions of one channel into stretches of speech.

    A stretch opens when `onset_frames` of the last 5 frames are voiced (its
    start is the first of them) and closes after `hangover_s` of no voice (its
    end is the last voiced frame). The hangover bridges the pauses between
    words and sentences of one turn.
    """

    def __init__(self, who: str, vad_mode: int = 2, onset_frames: int = 3, hangover_s: float = 0.5,
                 gate_db: float = 6.0):
        import webrtcvad

        self.who = who
        self.vad = webrtcvad.Vad(int(vad_mode))
        self.onset_frames = onset_frames
        self.hangover = max(1, round(hangover_s / FRAME_S))
        self.gate_db = gate_db
        self.recent: deque[tuple[int, bool]] = deque(maxlen=5)
        self.open: Segment | None = None
        self.last_voiced_end = 0.0
        self.unvoiced_run = 0
        self.floor_db: float | None = None

    def is_voice(self, frame: np.ndarray, level_db: float) -> bool:
        # The noise floor falls at once and rises slowly, so it tracks the quiet
        # between words rather than the speech itself.
        if level_db < DIGITAL_SILENCE_DB:
            return False  # zeros from an idle source or a lost device: no floor to learn from
        if self.floor_db is None or level_db < self.floor_db:
            self.floor_db = level_db
        else:
            self.floor_db += 0.02
        if level_db < self.floor_db + self.gate_db:
            return False
        return self.vad.is_speech(frame.tobytes(), RATE)

    def step(self, k: int, voiced: bool) -> tuple[Segment | None, Segment | None]:
        """Feed frame k's decision; returns (opened, closed) stretches, either may be None."""
        self.recent.append((k, voiced))
        opened = closed = None
        if voiced:
            self.unvoiced_run = 0
            if self.open is not None:
                self.open.end = (k + 1) * FRAME_S
                self.last_voiced_end = self.open.end
            elif sum(v for _, v in self.recent) >= self.onset_frames:
                first = next(i for i, v in self.recent if v)
                self.open = Segment(self.who, round(first * FRAME_S, 3), round((k + 1) * FRAME_S, 3))
                self.last_voiced_end = self.open.end
                opened = self.open
        else:
            self.unvoiced_run += 1
            if self.open is not None and self.unvoiced_run >= self.hangover:
                closed, self.open = self.open, None
        return opened, closed

    def close(self) -> Segment | None:
        closed, self.open = self.open, None
        return closed

    @property
    def speaking(self) -> bool:
        return self.open is not None
