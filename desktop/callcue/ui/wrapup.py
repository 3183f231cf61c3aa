"""The wrap-up card after a call: for the agent alone, built from the summary event, kept nowhere.

Plain data (no Qt): talk share, what went well, one thing to try next call, the promises to follow
up. The score bands come from the playbook (SummaryRules.good); nothing here is saved or sent, and
the review window and the reports never see it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from callcue.engine.events import Summary
from callcue.engine.summary import SummaryRules
from callcue.ui.theme import skill_style


@dataclass
class WrapUp:
    talk: str  # "You talked 63% of the time, the customer 37%."
    went_well: list[str] = field(default_factory=list)
    to_try: str | None = None
    promises: list[str] = field(default_factory=list)


def _pct(share: float) -> int:
    return round(100 * share)


def wrap_up(summary: Summary, rules: SummaryRules) -> WrapUp:
    if summary.talk_ratio is None:
        talk = "Talk share: one channel only, so it was not measured."
    else:
        a = _pct(summary.talk_ratio)
        talk = f"You talked {a}% of the time, the customer {100 - a}%."
    card = summary.scorecard or {k: {"score": v, "basis": ""} for k, v in summary.scores.items()}
    ranked = sorted(card.items(), key=lambda kv: (-kv[1]["score"], kv[0]))
    went_well = [f"{skill_style(k).label} {v['score']}" + (f": {v['basis']}" if v.get("basis") else "")
                 for k, v in ranked[:2] if v["score"] >= rules.good]
    to_try = None
    if ranked and ranked[-1][1]["score"] < rules.good:
        skill, v = ranked[-1]
        # The cue the call gave for that skill is the most concrete thing to try; else what was measured.
        cue = next((c["text"] for c in summary.cues_shown if c.get("skill") == skill), None)
        why = v.get("basis", "")
        to_try = f"{skill_style(skill).label}: {cue}" if cue else skill_style(skill).label
        to_try += f" ({why})" if why else ""
    promises = [c["text"] + (f" (due {c['due']})" if c.get("due") else "")
                for c in summary.commitments if isinstance(c, dict) and c.get("text")]
    return WrapUp(talk, went_well, to_try, promises)
