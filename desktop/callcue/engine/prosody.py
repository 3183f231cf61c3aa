"""Voice: pitch and intensity from Praat (parselmouth), against the speaker's own baseline.

Absolute pitch and loudness say more about the voice and the microphone than
about the mood, so every measure is a change from how this same speaker
sounded earlier in the call when calmest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from callcue.engine.clock import RATE

MIN_SAMPLES = int(0.15 * RATE)  # Praat refuses chunks much shorter than 100 ms


@dataclass
class VoiceFeatures:
    pitch_st: float | None  # median F0 in semitones re 100 Hz
    intensity_db: float | None  # loudness of the voiced part
    rate_wps: float | None  # words per second of speech, when the words are known


@dataclass
class VoiceChange:
    pitch_st: float | None = None  # semitones above the baseline
    intensity_db: float | None = None
    rate_ratio: float | None = None
    arousal: float | None = None  # 0..1, 0.5 = as calm as the baseline; None = no baseline yet

    def describe(self) -> list[str]:
        out = []
        if self.pitch_st is not None and abs(self.pitch_st) >= 1.5:
            out.append(f"pitch {self.pitch_st:+.1f} st")
        if self.intensity_db is not None and abs(self.intensity_db) >= 2.0:
            out.append(f"loudness {self.intensity_db:+.1f} dB")
        if self.rate_ratio is not None and abs(self.rate_ratio - 1) >= 0.1:
            out.append(f"pace {100 * (self.rate_ratio - 1):+.0f}%")
        return out


def measure(pcm: np.ndarray, n_words: int = 0, speech_s: float | None = None) -> VoiceFeatures:
    """Pitch and intensity of one utterance (int16 or float, 16 kHz)."""
    import parselmouth

    rate = None
    if n_words and speech_s:
        rate = n_words / max(speech_s, 0.3)
    if len(pcm) < MIN_SAMPLES:
        return VoiceFeatures(None, None, rate)
    x = pcm.astype(np.float64)
    if pcm.dtype == np.int16:
        x /= 32768.0
    snd = parselmouth.Sound(x, sampling_frequency=RATE)
    try:
        f0 = snd.to_pitch(time_step=0.01, pitch_floor=70.0, pitch_ceiling=500.0).selected_array["frequency"]
        inten = snd.to_intensity(minimum_pitch=70.0, time_step=0.01).values[0]
    except parselmouth.PraatError:
        return VoiceFeatures(None, None, rate)
    voiced = f0[f0 > 0]
    pitch = 12.0 * math.log2(float(np.median(voiced)) / 100.0) if len(voiced) >= 5 else None
    loud = None
    if inten.size:
        top = inten[inten > inten.max() - 25.0]  # the voice, not the pauses between words
        loud = float(np.mean(top))
    return VoiceFeatures(pitch, loud, rate)


@dataclass
class Baseline:
    """How one speaker sounds when calm: a low percentile of their utterances so far.

    A low percentile, not the mean, because a caller who opens angry should
    not make anger their normal; it rises only as calmer speech accumulates.
    """

    history: list[VoiceFeatures] = field(default_factory=list)
    quantile: float = 0.3

    def _ref(self, values: list[float]) -> float | None:
        return float(np.quantile(values, self.quantile)) if values else None

    def compare(self, f: VoiceFeatures) -> VoiceChange:
        ref_p = self._ref([h.pitch_st for h in self.history if h.pitch_st is not None])
        ref_i = self._ref([h.intensity_db for h in self.history if h.intensity_db is not None])
        ref_r = self._ref([h.rate_wps for h in self.history if h.rate_wps is not None])
        ch = VoiceChange()
        parts = []
        if ref_p is not None and f.pitch_st is not None:
            ch.pitch_st = f.pitch_st - ref_p
            parts.append(math.tanh(ch.pitch_st / 3.0))
        if ref_i is not None and f.intensity_db is not None:
            ch.intensity_db = f.intensity_db - ref_i
            parts.append(math.tanh(ch.intensity_db / 4.0))
        if ref_r is not None and f.rate_wps is not None and ref_r > 0:
            ch.rate_ratio = f.rate_wps / ref_r
            parts.append(math.tanh((ch.rate_ratio - 1.0) / 0.2))
        if parts:
            ch.arousal = 0.5 + 0.5 * sum(parts) / len(parts)
        return ch

    def add(self, f: VoiceFeatures) -> None:
        self.history.append(f)
