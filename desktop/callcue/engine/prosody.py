"""Voice: what Praat (parselmouth) measures of an utterance, against the speaker's own calm.

Absolute pitch and loudness say more about the voice and the microphone than
about the mood, so every measure is a change from how this same speaker
sounded earlier in the call when calmest. Until there is enough of the call
for that, population norms stand in (see `Baseline`): a caller who is angry
from her first words has no calm of her own to be compared with.

Beyond pitch and loudness, an utterance's measures are the ones that tell
anger from joy (both raise pitch and loudness):
- the balance of energy above and below 1 kHz (alpha ratio) and the Hammarberg
  index: vocal effort flattens the spectrum, and anger is effortful; joy
  raises the pitch more than the effort (Banse & Scherer 1996; ANSI S3.5's
  speech spectra at normal, raised, loud and shouted effort);
- the pitch contour: its range (joy and surprise sweep widely and smoothly
  upward) and its trend (anger and disgust fall) (Murray & Arnott 1993);
- voice quality: the harmonics-to-noise ratio (a harsh voice is noisier);
- how steeply loudness rises at the onsets, and the speaking rate when the
  words are known.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from callcue.engine.clock import RATE

MIN_SAMPLES = int(0.15 * RATE)  # Praat refuses chunks much shorter than 100 ms
SPEECH_RANGE_DB = 25.0  # frames this far below the loudest are pauses between words, not the voice
MIN_CONTOUR_FRAMES = 30  # voiced 10 ms frames needed before a pitch range or trend means anything:
# the fall of one short word ("thanks") is steep per second and says nothing about the mood


@dataclass
class VoiceFeatures:
    pitch_st: float | None  # median F0 in semitones re 100 Hz
    intensity_db: float | None  # loudness of the voiced part
    rate_wps: float | None  # words per second of speech, when the words are known
    pitch_range_st: float | None = None  # 10th to 90th percentile of the voiced F0, semitones
    pitch_slope_st_s: float | None = None  # the F0 contour's trend (least squares), semitones a second
    hf_balance_db: float | None = None  # alpha ratio: energy 1-5 kHz over 50 Hz-1 kHz of the speech, dB
    hammarberg_db: float | None = None  # strongest peak 0-2 kHz minus strongest 2-5 kHz, dB
    hnr_db: float | None = None  # harmonics-to-noise ratio, median of the voiced frames
    onset_db: float | None = None  # steepest rises of loudness (98th percentile), dB per 10 ms


# Which side of a measure is calm: the low side for loudness, pitch, a flat spectrum's balance ...;
# the high side for the harmonics-to-noise ratio and the Hammarberg index (a calm voice is clear,
# its spectrum tilted). The pitch range is compared with its low side too: a wide sweep is the
# sign (of joy), a plain contour the calm. The contour's trend has no calm side (joy rises, anger
# falls): it is compared with the speaker's middle, their plain declination.
CALM_SIDE = {"pitch_st": "low", "intensity_db": "low", "rate_wps": "low", "pitch_range_st": "low",
             "pitch_slope_st_s": "middle", "hf_balance_db": "low", "hammarberg_db": "high", "hnr_db": "high",
             "onset_db": "low"}
MEASURES = tuple(CALM_SIDE)


@dataclass
class VoiceChange:
    """Each measure of an utterance minus the speaker's calm reference (None: not measured or no reference)."""

    pitch_st: float | None = None  # semitones above the baseline
    intensity_db: float | None = None
    rate_ratio: float | None = None
    arousal: float | None = None  # 0..1 from pitch, loudness and pace alone; 0.5 = as calm as the baseline
    pitch_range_st: float | None = None
    pitch_slope_st_s: float | None = None
    hf_balance_db: float | None = None
    hammarberg_db: float | None = None
    hnr_db: float | None = None
    onset_db: float | None = None
    own: int = 0  # how many of the speaker's own utterances the reference is made of (0: norms only)

    def plain(self) -> list[str]:
        """The changes an agent can hear, in plain comparatives ("louder", "higher"), with the same marks
        as describe(): what a cue's why says, against earlier in the call."""
        out = []
        if self.intensity_db is not None and abs(self.intensity_db) >= 2.0:
            out.append("louder" if self.intensity_db > 0 else "quieter")
        if self.pitch_st is not None and abs(self.pitch_st) >= 1.5:
            out.append("higher" if self.pitch_st > 0 else "lower")
        if self.rate_ratio is not None and self.rate_ratio - 1 >= 0.1:
            out.append("faster")
        if self.hf_balance_db is not None and self.hf_balance_db >= 2.0:
            out.append("tenser")
        return out

    def describe(self) -> list[str]:
        out = []
        if self.pitch_st is not None and abs(self.pitch_st) >= 1.5:
            out.append(f"pitch {self.pitch_st:+.1f} st")
        if self.intensity_db is not None and abs(self.intensity_db) >= 2.0:
            out.append(f"loudness {self.intensity_db:+.1f} dB")
        if self.rate_ratio is not None and abs(self.rate_ratio - 1) >= 0.1:
            out.append(f"pace {100 * (self.rate_ratio - 1):+.0f}%")
        if self.hf_balance_db is not None and self.hf_balance_db >= 2.0:
            out.append(f"tense, {self.hf_balance_db:+.1f} dB above 1 kHz")
        if self.pitch_slope_st_s is not None and self.pitch_slope_st_s <= -1.5:
            out.append("falling pitch")
        if self.pitch_range_st is not None and self.pitch_range_st >= 4.0:
            out.append(f"lively pitch, range {self.pitch_range_st:+.0f} st")
        return out


def measure(pcm: np.ndarray, n_words: int = 0, speech_s: float | None = None,
            quality: bool = True) -> VoiceFeatures:
    """The measures of one utterance (int16 or float, 16 kHz). `quality=False` measures only pitch and
    loudness (what the agent's utterances need: nobody scores how the agent feels)."""
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
        pitch = snd.to_pitch(time_step=0.01, pitch_floor=70.0, pitch_ceiling=500.0)
        inten = snd.to_intensity(minimum_pitch=70.0, time_step=0.01).values[0]
        spec = snd.to_spectrogram(window_length=0.025, maximum_frequency=5000.0, time_step=0.01) if quality else None
    except parselmouth.PraatError:
        return VoiceFeatures(None, None, rate)
    frames = pitch.selected_array
    f0, t = frames["frequency"], pitch.xs()
    voiced = f0 > 0
    st = 12.0 * np.log2(f0[voiced] / 100.0)
    out = VoiceFeatures(float(np.median(st)) if len(st) >= 5 else None, None, rate)
    if inten.size:
        out.intensity_db = float(np.mean(inten[inten > inten.max() - SPEECH_RANGE_DB]))
    if not quality:
        return out
    if len(st) >= MIN_CONTOUR_FRAMES:
        out.pitch_range_st = float(np.percentile(st, 90) - np.percentile(st, 10))
        out.pitch_slope_st_s = float(np.polyfit(t[voiced], st, 1)[0])
        # Praat's harmonicity is 10 log10(r / (1 - r)) of the autocorrelation peak r, which is the
        # strength of the pitch analysis's chosen candidate: the same measure without a second pass
        r = np.clip(frames["strength"][voiced], 1e-4, 1 - 1e-4)
        out.hnr_db = float(np.median(10.0 * np.log10(r / (1.0 - r))))
    if inten.size >= 3:  # rises out of a pause count from the voice's floor, not from the silence
        out.onset_db = float(np.percentile(np.diff(np.maximum(inten, inten.max() - SPEECH_RANGE_DB)), 98))
    if spec is not None:
        out.hf_balance_db, out.hammarberg_db = _spectral_balance(spec)
    return out


def _spectral_balance(spec: Any) -> tuple[float | None, float | None]:  # a parselmouth.Spectrogram
    """Alpha ratio and Hammarberg index of the long-term spectrum of the speech frames (pauses left out)."""
    power = spec.values  # (frequency, time), Pa^2/Hz
    freqs = np.asarray(spec.ys())
    level = 10.0 * np.log10(power.sum(axis=0) + 1e-20)
    speech = level > level.max() - SPEECH_RANGE_DB
    if speech.sum() < 5:
        return None, None
    ltas = power[:, speech].sum(axis=1)
    low = ltas[(freqs >= 50) & (freqs < 1000)].sum()
    high = ltas[(freqs >= 1000) & (freqs < 5000)].sum()
    if low <= 0 or high <= 0:
        return None, None
    db = 10.0 * np.log10(ltas + 1e-30)
    hammarberg = float(db[freqs < 2000].max() - db[(freqs >= 2000) & (freqs < 5000)].max())
    return float(10.0 * math.log10(high / low)), hammarberg


@dataclass
class Baseline:
    """How one speaker sounds when calm: the calm side of their utterances so far, per measure.

    The calm side (a low percentile of loudness, a high one of the harmonics-to-noise ratio, ...),
    not the mean, because a caller who opens angry should not make anger their normal. Population
    norms (`norms`, from the playbook's [voice] section) count as `norm_weight` calm utterances heard
    before the call: with no history they are the reference, and the speaker's own calm takes over
    as it accumulates. A measure without a norm (loudness: it depends on the microphone) has no
    reference until the speaker's first utterance.
    """

    history: list[VoiceFeatures] = field(default_factory=list)
    quantile: float = 0.3
    norms: dict[str, float] = field(default_factory=dict)
    norm_weight: int = 0

    @classmethod
    def from_playbook(cls, voice: dict) -> Baseline:
        """A new speaker's baseline with the playbook's [voice] quantile and population norms."""
        norms = {"pitch_st": 12.0 * math.log2(float(voice["norm_pitch_hz"]) / 100.0),
                 "hf_balance_db": float(voice["norm_hf_balance_db"]),
                 "pitch_range_st": float(voice["norm_pitch_range_st"])}
        return cls(quantile=float(voice["baseline_quantile"]), norms=norms, norm_weight=int(voice["norm_weight"]))

    def reference(self, name: str) -> float | None:
        own = [v for h in self.history if (v := getattr(h, name)) is not None]
        side = CALM_SIDE[name]
        low = side == "low"
        q = 0.5 if side == "middle" else self.quantile if low else 1.0 - self.quantile
        mine = float(np.quantile(own, q)) if own else None
        if name not in self.norms or self.norm_weight <= 0:
            return mine
        shrunk = float(np.quantile(own + [self.norms[name]] * self.norm_weight, q))
        if mine is None:
            return shrunk
        # A norm may make the reference calmer than the speaker's own so far (her first lines were
        # all angry), never less calm: below a norm is who the speaker is (a man's pitch, a dull
        # microphone), not a sign of calm.
        return min(mine, shrunk) if low else max(mine, shrunk)

    def compare(self, f: VoiceFeatures) -> VoiceChange:
        ch = VoiceChange(own=len(self.history))
        for name in MEASURES:
            value, ref = getattr(f, name), self.reference(name)
            if value is None or ref is None:
                continue
            if name == "rate_wps":
                if ref > 0:
                    ch.rate_ratio = value / ref
                continue
            delta = value - ref
            if name in self.norms and all(getattr(h, name) is None for h in self.history):
                # compared with the norm alone: only the side away from calm counts (a man's voice
                # below the women's pitch norm is not a calm one)
                delta = max(0.0, delta) if CALM_SIDE[name] == "low" else min(0.0, delta)
            setattr(ch, name, delta)
        parts = []
        if ch.pitch_st is not None:
            parts.append(math.tanh(ch.pitch_st / 3.0))
        if ch.intensity_db is not None:
            parts.append(math.tanh(ch.intensity_db / 4.0))
        if ch.rate_ratio is not None:
            parts.append(math.tanh((ch.rate_ratio - 1.0) / 0.2))
        if parts:
            ch.arousal = 0.5 + 0.5 * sum(parts) / len(parts)
        return ch

    def add(self, f: VoiceFeatures) -> None:
        self.history.append(f)
