"""The customer's frustration: a score per utterance from words and voice, and a smoothed level.

Only ever computed for the customer. The agent is coached on what they do,
never on how they are presumed to feel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from callcue.engine.language import Hit, TextSignals
from callcue.engine.prosody import VoiceChange

PRIOR = 0.3  # the level before anything is known: most callers are not frustrated
FLOOR = 0.15  # the score of a line with no sign of frustration at all


def distinct(hits: list[Hit]) -> list[Hit]:
    """Hits that don't overlap: "so tired of" is one complaint, not two."""
    out: list[Hit] = []
    for h in sorted(hits, key=lambda h: (h.start, -(h.end - h.start))):
        if not out or h.start >= out[-1].end:
            out.append(h)
    return out


def words_evidence(sig: TextSignals) -> tuple[float, list[str]]:
    """0..1: how strongly the words alone say "frustrated", with the reasons."""
    why: list[str] = []
    frus = distinct(sig.kinds("frustration"))
    escal = sig.has("escalation")
    repeat = sig.has("repeat_contact")
    sarcasm = sig.has("sarcasm")
    shouting = sig.caps_words >= 2 or sig.exclamations >= 2
    neg = max(0.0, -sig.sentiment)
    # Positive words only calm the estimate when nothing else in the line is upset:
    # "oh great, fantastic" after a third outage is not a happy customer.
    pos = 0.0 if (frus or escal or sarcasm or shouting) else max(0.0, sig.sentiment)
    ev = 0.35 * neg + 0.3 * min(len(frus), 3) + 0.3 * escal + 0.15 * repeat + 0.2 * sarcasm + 0.15 * shouting
    ev -= 0.3 * pos
    if frus:
        why.append("said: " + ", ".join(f'"{h.phrase}"' for h in frus[:3]))
    if escal:
        why.append("asked to escalate")
    if repeat:
        why.append("repeat contact")
    if sarcasm:
        why.append("sarcasm")
    if shouting:
        why.append("capitals or exclamations")
    if neg >= 0.3:
        why.append(f"negative words ({sig.sentiment:+.2f})")
    return min(1.0, max(-0.3, ev)), why


# How each measure of the voice counts for anger: the playbook's [voice] keys unit_<key> (the change
# that makes one unit of evidence) and weight_<key>, and the sign (+1: more is angrier).
VOICE_TERMS = {  # VoiceChange field: (playbook key, sign)
    "intensity_db": ("intensity_db", +1),  # louder: more vocal effort
    "hf_balance_db": ("hf_balance_db", +1),  # more energy above 1 kHz: a pressed, effortful voice
    "hammarberg_db": ("hammarberg_db", -1),  # the same, as peaks: a smaller drop from 0-2 kHz to 2-5 kHz
    "pitch_st": ("pitch_st", +1),  # a raised pitch: arousal, in anger and in joy alike
    "pitch_slope_st_s": ("pitch_slope_st_s", -1),  # a falling contour: anger's and disgust's downward inflections
    "hnr_db": ("hnr_db", -1),  # a noisier, harsher voice
    "onset_db": ("onset_db", +1),  # abrupt onsets
    "rate_ratio": ("rate_ratio", +1),  # faster speech
}
# A pitch contour that sweeps wider than the speaker's plain one is joy's or surprise's (smooth,
# wide, upward inflections), so it counts against anger; a narrower one does not count for it.
JOY_TERMS = {"pitch_range_st": "pitch_range_st"}


@dataclass
class VoiceScoring:
    """The voice's evidence of anger, calibrated: the same change from a speaker's own calm (or from
    the population norms) gives the same score on every call, so one threshold means the same for all.

    Each measure's change is expressed in units (one unit: about what one step of vocal effort, from
    normal to raised, changes it by), weighted and summed; the sum goes through a logistic whose
    midpoint and width the playbook sets. A voice calmer than its baseline counts a little against.
    """

    units: dict[str, float]
    weights: dict[str, float]
    mid: float = 2.5
    width: float = 0.6
    calm_per_unit: float = 0.1
    calm_floor: float = -0.3
    max_units: float = 2.0  # no one measure can make the case alone, nor undo all the others

    @classmethod
    def from_playbook(cls, voice: dict) -> VoiceScoring:
        keys = [k for k, _ in VOICE_TERMS.values()] + list(JOY_TERMS.values())
        return cls(units={k: float(voice[f"unit_{k}"]) for k in keys},
                   weights={k: float(voice[f"weight_{k}"]) for k in keys},
                   mid=float(voice["anger_mid"]), width=float(voice["anger_width"]),
                   calm_per_unit=float(voice["calm_per_unit"]), calm_floor=float(voice["calm_floor"]),
                   max_units=float(voice["max_units"]))

    def units_of(self, change: VoiceChange) -> dict[str, float]:
        """Each measure's weighted evidence, in units (positive: angrier); measures not taken are absent."""
        out: dict[str, float] = {}
        for name, (key, sign) in VOICE_TERMS.items():
            value = getattr(change, name)
            if value is None or not self.weights[key]:
                continue
            if name == "rate_ratio":
                value -= 1.0
            out[key] = self.weights[key] * sign * value / self.units[key]
        for name, key in JOY_TERMS.items():
            value = getattr(change, name)
            if value is not None and self.weights[key]:
                out[key] = -self.weights[key] * max(0.0, value) / self.units[key]
        return {k: max(-self.max_units, min(self.max_units, v)) for k, v in out.items()}

    def evidence(self, change: VoiceChange) -> float:
        """-0.3..1: the voice's case for anger (0 when nothing was measured)."""
        parts = self.units_of(change)
        if not parts:
            return 0.0
        z = sum(parts.values())
        v = 1.0 / (1.0 + math.exp(-(z - self.mid) / self.width))
        return max(self.calm_floor, v + min(0.0, self.calm_per_unit * z))


def voice_evidence(change: VoiceChange, scoring: VoiceScoring | None = None) -> float:
    """0..1 from the voice (a calmer voice counts slightly against). Without a scoring (a VoiceChange
    made by hand), from the arousal alone: a voice raised above the speaker's own calm."""
    if scoring is not None:
        return scoring.evidence(change)
    if change.arousal is None:
        return 0.0
    if change.arousal >= 0.55:
        return min(1.0, 1.6 * (change.arousal - 0.55))
    return max(-0.3, change.arousal - 0.5)


def utterance_score(sig: TextSignals | None, change: VoiceChange, voice_weight: float,
                    scoring: VoiceScoring | None = None) -> tuple[float, list[str]]:
    """Words and voice together; either may be missing, and either alone can be enough.

    The two are combined like independent pieces of evidence (a noisy OR), so an
    angry voice saying polite words, or a calm voice saying "I am fed up", both count.
    """
    w, why = words_evidence(sig) if sig is not None and sig.tokens else (0.0, [])
    v = voice_weight / 0.4 * voice_evidence(change, scoring)  # voice_weight 0.4 is the neutral setting
    why = why + [f"voice {d}" for d in change.describe() if not d.startswith("pace -")]
    combined = 1.0 - (1.0 - max(0.0, w)) * (1.0 - max(0.0, min(1.0, v)))
    combined += min(0.0, w) + min(0.0, v)  # calm words and a calm voice lower the estimate
    return round(min(1.0, max(0.0, FLOOR + (1.0 - FLOOR) * combined)), 3), why


@dataclass
class FrustrationLevel:
    """The level smoothed over the call, and its trend."""

    alpha: float = 0.6  # weight of a new score that is higher than the level ...
    alpha_down: float = 0.3  # ... and of one that is lower: frustration builds fast and fades slowly
    trend_step: float = 0.06
    level: float | None = None
    history: list[tuple[float, float]] = field(default_factory=list)  # (time, level)
    peak: float | None = None

    def update(self, at: float, score: float) -> tuple[float, str]:
        prev = self.level
        a = self.alpha if prev is None or score >= prev else self.alpha_down
        self.level = score if prev is None else prev + a * (score - prev)
        base = self.history[-2][1] if len(self.history) >= 2 else (prev if prev is not None else PRIOR)
        delta = self.level - base
        trend = "rising" if delta > self.trend_step else "falling" if delta < -self.trend_step else "steady"
        if prev is None:
            trend = "steady"  # a trend needs two readings: the first one is neither rising nor falling
        self.history.append((at, self.level))
        self.peak = self.level if self.peak is None else max(self.peak, self.level)
        return round(self.level, 3), trend
