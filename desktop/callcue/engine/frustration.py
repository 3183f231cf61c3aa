"""The customer's frustration: a score per utterance from words and voice, and a smoothed level.

Only ever computed for the customer. The agent is coached on what they do,
never on how they are presumed to feel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from callcue.engine.language import Hit, TextSignals
from callcue.engine.prosody import VoiceChange

PRIOR = 0.3  # what we assume before anything is known: most callers are not frustrated


def distinct(hits: list[Hit]) -> list[Hit]:
    """Hits that don't overlap: "so tired of" is one complaint, not two."""
    out: list[Hit] = []
    for h in sorted(hits, key=lambda h: (h.start, -(h.end - h.start))):
        if not out or h.start >= out[-1].end:
            out.append(h)
    return out


def words_score(sig: TextSignals) -> tuple[float, list[str]]:
    """0..1 from the words alone, with the reasons."""
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
    score = 0.25 + 0.3 * neg + 0.15 * min(len(frus), 3) + 0.2 * escal + 0.1 * repeat + 0.15 * sarcasm
    score += 0.1 * shouting - 0.3 * pos
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
    return min(1.0, max(0.0, score)), why


def voice_score(change: VoiceChange) -> float | None:
    if change.arousal is None:
        return None
    return min(1.0, max(0.0, PRIOR + 1.2 * (change.arousal - 0.5)))


def utterance_score(sig: TextSignals | None, change: VoiceChange, voice_weight: float) -> tuple[float, list[str]]:
    """Words and voice together; either may be missing."""
    w, why = words_score(sig) if sig is not None and sig.tokens else (None, [])
    v = voice_score(change)
    why = why + [f"voice {d}" for d in change.describe() if not d.startswith("pace -")]
    if w is None and v is None:
        return PRIOR, why
    if w is None:
        return round(v, 3), why  # type: ignore[arg-type]
    if v is None:
        return round(w, 3), why
    return round((1.0 - voice_weight) * w + voice_weight * v, 3), why


@dataclass
class FrustrationLevel:
    """The level smoothed over the call, and its trend."""

    alpha: float = 0.5
    trend_step: float = 0.06
    level: float | None = None
    history: list[tuple[float, float]] = field(default_factory=list)  # (time, level)
    peak: float | None = None

    def update(self, at: float, score: float) -> tuple[float, str]:
        prev = self.level
        self.level = score if prev is None else prev + self.alpha * (score - prev)
        base = self.history[-2][1] if len(self.history) >= 2 else (prev if prev is not None else PRIOR)
        delta = self.level - base
        trend = "rising" if delta > self.trend_step else "falling" if delta < -self.trend_step else "steady"
        self.history.append((at, self.level))
        self.peak = self.level if self.peak is None else max(self.peak, self.level)
        return round(self.level, 3), trend
