"""The post-call summary: talk, talk-over, silences, frustration, cues, commitments, scorecard.

Each score says how it was computed, so a supervisor can disagree with it.
The agent is scored on what they did, never on how they seemed to feel.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from callcue.engine.events import Cue, CueAction, CueHeld, Event, Frustration, Interruption, Silence, Summary, Utterance
from callcue.engine.playbook import Playbook

_DUE = re.compile(
    r"\b(right now|today|tonight|this (?:morning|afternoon|evening|week)|"
    r"tomorrow(?: (?:morning|afternoon|evening|before noon|by \w+))?|next week|"
    r"by (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|the end of (?:the )?(?:day|week)|"
    r"end of (?:the )?(?:day|week)|noon|\d{1,2}(?::\d{2})? ?(?:am|pm)?)|"
    r"(?:on|to) your next (?:bill|invoice|statement)|on (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|"
    r"within (?:an?|one|two|three|four|five|\d+|the next|24|48) (?:\w+ )?(?:minutes?|hours?|days?)|"
    r"in (?:a few|\d+|one|two|three|five|ten|fifteen|thirty) (?:minutes?|hours?|days?))\b",
    re.IGNORECASE,
)
# An agent's words that offer the customer a choice (the negotiation score).
_OFFER = re.compile(r"\b(offer|option|or a|instead|alternatively)\b", re.I)


@dataclass
class Commitment:
    at: float
    text: str
    due: str | None


def commitment_due(sentence: str) -> str | None:
    m = _DUE.search(sentence)
    return m.group(1).lower() if m else None


def _clip(x: float) -> int:
    return int(max(0, min(100, round(x))))


def _n(x: float) -> str:
    """A weight as the basis shows it: 20, not 20.0."""
    return f"{x:g}"


@dataclass(frozen=True)
class SummaryRules:
    """The playbook's [summary] and [scorecard] sections (and the slow-down cue's pace, which the
    clear-communication score shares with the cue): every level and weight the summary uses."""

    high_frustration: float
    very_high_frustration: float
    reaction_s: float
    reaction_lead_s: float
    max_episodes: int
    good: float
    fair: float
    skills: dict[str, dict[str, float]]  # [scorecard.SKILL]: that skill's weights
    fast_syllables_per_s: float
    fast_min_words: int

    @classmethod
    def from_playbook(cls, playbook: Playbook) -> SummaryRules:
        s, card, slow = playbook.section("summary"), playbook.section("scorecard"), playbook.cue("slow-down")
        return cls(high_frustration=s["high_frustration"], very_high_frustration=s["very_high_frustration"],
                   reaction_s=s["reaction_s"], reaction_lead_s=s["reaction_lead_s"],
                   max_episodes=int(s["max_episodes"]), good=card["good"], fair=card["fair"],
                   skills={k: dict(v) for k, v in card.items() if isinstance(v, dict)},
                   fast_syllables_per_s=slow["syllables_per_s"], fast_min_words=slow["min_words"])

    def band(self, score: float) -> str:
        """"good", "fair" or "poor": the colour a report gives a score."""
        return "good" if score >= self.good else "fair" if score >= self.fair else "poor"

    def level(self, frustration: float) -> str:
        """"very high", "high" or "calm": how a report marks a frustration level."""
        if frustration >= self.very_high_frustration:
            return "very high"
        return "high" if frustration >= self.high_frustration else "calm"


@dataclass(frozen=True)
class SummaryFacts:
    """Everything the summary is made of, as the engine knows it when the call ends (a test can
    fill one by hand: the scorecard needs no engine)."""

    rules: SummaryRules
    duration_s: float
    words: str | None  # where words came from: "file", "vosk" or None (voice only)
    two_party: bool  # an agent and a customer channel, not one mixed one
    anyone_spoke: bool
    talk_s: dict[str, float]  # seconds of speech per channel
    interruptions: Sequence[Interruption]
    silences: Sequence[Silence]
    silence_s: float  # the conversation's "a silence" length (playbook [conversation])
    longest_gap_s: float
    longest_monologue_s: float
    utterances: Sequence[Utterance]
    frustration: Sequence[tuple[float, float]]  # (time, smoothed level), the customer's
    frustration_peak: float | None
    empathy_at: Sequence[float]  # when the agent acknowledged feelings
    commitments: Sequence[Commitment]
    cues_shown: Sequence[str]  # the ids of the cues shown, in order
    events: Sequence[Event] = ()  # the call's stream, for the frustration timeline and the cue outcomes


def scorecard(facts: SummaryFacts, talk_ratio: float | None) -> dict[str, dict[str, Any]]:
    """Scores per soft skill, only where the call gave evidence for one."""
    rules = facts.rules
    by_agent = [i for i in facts.interruptions if i.by == "agent"]
    agent_utts = [u for u in facts.utterances if u.who == "agent"]
    shown = list(facts.cues_shown)
    card: dict[str, dict[str, Any]] = {}

    if facts.two_party:
        w = rules.skills["active-listening"]
        long_mono = facts.longest_monologue_s >= w["monologue_s"]
        score = 100 - w["interruption"] * len(by_agent) - (w["monologue"] if long_mono else 0)
        basis = [f"{len(by_agent)} interruption(s) of the customer (-{_n(w['interruption'])} each)"]
        if long_mono:
            basis.append(f"a {facts.longest_monologue_s:.0f}s monologue (-{_n(w['monologue'])})")
        if talk_ratio is not None and talk_ratio > w["talk_ratio"]:
            score -= w["talk_share"]
            basis.append(f"agent talked {100 * talk_ratio:.0f}% of the time (-{_n(w['talk_share'])})")
        card["active-listening"] = {"score": _clip(score), "basis": "; ".join(basis)}

    peak, high = facts.frustration_peak, rules.high_frustration
    if peak is not None and peak >= high:
        w = rules.skills["empathy"]
        first_high = next((t for t, lv in facts.frustration if lv >= high), None)
        acked = [t for t in facts.empathy_at if first_high is not None and t >= first_high - w["ack_before_s"]]
        delay = (acked[0] - first_high) if acked and first_high is not None else None
        if delay is None:
            card["empathy"] = {"score": _clip(w["unanswered"]),
                               "basis": f"frustration reached {peak:.2f}; no acknowledgement followed"}
        else:
            card["empathy"] = {"score": _clip(100 - max(0.0, delay - w["grace_s"]) * w["per_late_s"]),
                               "basis": f"frustration reached {peak:.2f}; acknowledged {max(0.0, delay):.0f}s later"}
    elif facts.empathy_at:
        card["empathy"] = {"score": 100, "basis": f"{len(facts.empathy_at)} acknowledgement(s); no frustration"}

    if agent_utts and facts.words:
        w = rules.skills["clear-communication"]
        fast = [u for u in agent_utts if u.syllables_per_s and u.syllables_per_s >= rules.fast_syllables_per_s
                and len(u.text.split()) >= rules.fast_min_words]
        jargon = [u for u in agent_utts if sum(s.startswith("jargon") for s in u.signals) >= w["jargon_terms"]]
        card["clear-communication"] = {
            "score": _clip(100 - w["fast"] * len(fast) - w["jargon"] * len(jargon)),
            "basis": f"{len(fast)} fast utterance(s) (-{_n(w['fast'])} each); "
                     f"{len(jargon)} with jargon (-{_n(w['jargon'])} each)"}
        w = rules.skills["cultural-awareness"]
        idioms = sum(1 for u in agent_utts for s in u.signals if s.startswith("idioms"))
        card["cultural-awareness"] = {"score": _clip(100 - w["idiom"] * idioms),
                                      "basis": f"{idioms} idiom(s) (-{_n(w['idiom'])} each)"}

    if facts.two_party and facts.anyone_spoke:
        w = rules.skills["time-management"]
        long_silences = [s for s in facts.silences if s.duration_s >= facts.silence_s]
        unannounced = [s for s in long_silences if not s.hold]
        held = len(long_silences) - len(unannounced)
        card["time-management"] = {
            "score": _clip(100 - w["unannounced"] * len(unannounced) - w["after_hold"] * held),
            "basis": f"{len(unannounced)} unannounced silence(s) (-{_n(w['unannounced'])} each), "
                     f"{held} after a hold announcement (-{_n(w['after_hold'])} each)"}

    if "escalation-request" in shown or any("asked to escalate" in u.signals for u in facts.utterances):
        w = rules.skills["conflict-management"]
        calmer = bool(facts.frustration) and facts.frustration[-1][1] < (peak or 0) - w["calmer_by"]
        card["conflict-management"] = {
            "score": _clip(w["calmer"] if calmer else w["not_calmer"]),
            "basis": "the customer asked to escalate; frustration " + ("fell afterwards" if calmer else "stayed high")}

    if facts.commitments:
        w = rules.skills["accountability"]
        with_due = [c for c in facts.commitments if c.due]
        card["accountability"] = {
            "score": _clip(w["base"] + w["with_due"] * len(with_due) / len(facts.commitments)),
            "basis": f"{len(facts.commitments)} commitment(s), {len(with_due)} with a time"}

    if "negotiate" in shown:
        w = rules.skills["negotiation"]
        offers = [u for u in agent_utts if _OFFER.search(u.text)]
        card["negotiation"] = {"score": _clip(w["offered"] if offers else w["not_offered"]),
                               "basis": f"the customer asked for money back; {len(offers)} offer(s) of options"}
    return card


def coaching_notes(card: dict[str, dict[str, Any]], good: float) -> list[str]:
    """What went well (a skill that lost no points: one that lost some never is), and, when the weakest
    score is below `good`, what to try."""
    if not card:
        return []
    notes = []
    full = [kv for kv in card.items() if kv[1]["score"] >= 100]
    if full:
        notes.append(f"Went well: {full[0][0]} ({full[0][1]['basis']}).")
    worst = min(card.items(), key=lambda kv: kv[1]["score"])
    if worst[1]["score"] < good:
        notes.append(f"To try: {worst[0]} ({worst[1]['basis']}).")
    return notes


def _agent_next(events: Sequence[Event], at: float, rules: SummaryRules) -> dict[str, Any]:
    """What the agent did in the `reaction_s` seconds after the customer's frustration rose at `at`."""
    lead, within = rules.reaction_lead_s, rules.reaction_s
    did: list[str] = []
    reply: Utterance | None = None
    for e in events:
        if isinstance(e, Utterance) and e.who == "agent" and at - lead <= e.start <= at + within:
            if reply is None:
                reply = e
            if any(s.startswith("empathy") for s in e.signals) and "acknowledged" not in did:
                did.append("acknowledged")
        elif isinstance(e, Interruption) and e.by == "agent" and at <= e.at <= at + within:
            if "talked over the customer" not in did:
                did.append("talked over the customer")
        elif isinstance(e, Silence) and at - lead <= e.start <= at + within and "went silent" not in did:
            did.append("went silent" + (" (on hold)" if e.hold else ""))
    if reply is not None and not did:
        did.append("replied without acknowledging")
    out: dict[str, Any] = {"did": did or [f"said nothing for {_n(within)} s"]}
    if reply is not None:
        out.update(at=reply.start, after_s=round(max(0.0, reply.start - at), 3), text=reply.text)
    return out


def frustration_timeline(events: Sequence[Event], rules: SummaryRules) -> dict[str, Any]:
    """The customer's frustration over the call: its peak, where it rose past the high level (what
    was said) and what the agent did next. Pure: works on a stored stream too."""
    high = rules.high_frustration
    levels = sorted((e for e in events if isinstance(e, Frustration)), key=lambda e: e.at)
    if not levels:
        return {}
    peak = max(levels, key=lambda e: e.level)
    customer = {round(u.end, 3): u for u in events if isinstance(u, Utterance) and u.who in ("customer", "mixed")}
    episodes: list[dict[str, Any]] = []
    above = False
    for f in levels:
        if f.level >= high and not above:
            said = customer.get(round(f.at, 3))
            episode: dict[str, Any] = {"rose_at": f.at, "level": f.level, "peak": f.level, "peak_at": f.at}
            if said is not None:
                episode.update(said=said.text, said_at=said.start, signals=list(said.signals))
            episode["agent_next"] = _agent_next(events, f.at, rules)
            episodes.append(episode)
        elif f.level >= high and episodes:
            if f.level > episodes[-1]["peak"]:
                episodes[-1].update(peak=f.level, peak_at=f.at)
        elif f.level < high and above and episodes:
            episodes[-1]["settled_at"] = f.at
        above = f.level >= high
    return {
        "peak": peak.level, "peak_at": peak.at, "threshold": high, "start": levels[0].level,
        "end": levels[-1].level, "episodes": episodes[:rules.max_episodes],
    }


def cues_held(events: Sequence[Event]) -> list[dict[str, Any]]:
    """Each cue held back from the agent, and why (the stream's `held` events)."""
    return [{"at": e.at, "id": e.id, "skill": e.skill, "severity": e.severity, "text": e.text, "reason": e.reason}
            for e in sorted((e for e in events if isinstance(e, CueHeld)), key=lambda e: e.at)]


def cue_outcomes(events: Sequence[Event]) -> list[dict[str, Any]]:
    """Each cue shown, and whether the agent dismissed or snoozed it while it was up, or a more severe one
    replaced it before it could be read."""
    cues = sorted((e for e in events if isinstance(e, Cue)), key=lambda e: e.at)
    actions: list[CueAction | CueHeld] = sorted(
        (e for e in events if isinstance(e, CueAction) or (isinstance(e, CueHeld) and e.reason == "replaced")),
        key=lambda e: e.at)
    out: list[dict[str, Any]] = []
    for i, cue in enumerate(cues):
        ends = [cue.until if cue.until is not None else float("inf")]
        if i + 1 < len(cues):
            ends.append(cues[i + 1].at)
        end = min(ends)
        outcome = "shown"
        for a in actions:
            if not cue.at <= a.at <= end:
                continue
            if isinstance(a, CueHeld):
                if a.id == cue.id:
                    outcome = "replaced"
                    break
            elif a.action == "snooze" or (a.action == "dismiss" and a.cue == cue.id):
                outcome = "dismissed" if a.action == "dismiss" else "snoozed"
                break
        out.append({"at": cue.at, "id": cue.id, "skill": cue.skill, "severity": cue.severity, "text": cue.text,
                    "outcome": outcome})
    return out


def build_summary(facts: SummaryFacts) -> Summary:
    talk = {c: round(v, 3) for c, v in facts.talk_s.items()}
    total = talk.get("agent", 0.0) + talk.get("customer", 0.0)
    ratio = round(talk["agent"] / total, 3) if facts.two_party and total > 0 else None
    by = {"agent": 0, "customer": 0}
    for i in facts.interruptions:
        by[i.by] = by.get(i.by, 0) + 1
    words = sum(len(u.text.split()) for u in facts.utterances if u.who == "agent")
    secs = sum(u.end - u.start for u in facts.utterances if u.who == "agent")
    card = scorecard(facts, ratio)
    peak = facts.frustration_peak
    return Summary(
        talk_ratio=ratio,
        interruptions=len(facts.interruptions),
        longest_silence_s=round(facts.longest_gap_s, 3),
        frustration_peak=None if peak is None else round(peak, 3),
        cues=list(facts.cues_shown),
        scores={k: v["score"] for k, v in card.items()},
        duration_s=round(facts.duration_s, 3),
        talk_s=talk,
        interruptions_by=by if facts.two_party else {},
        silences=len(facts.silences),
        longest_monologue_s=round(facts.longest_monologue_s, 3),
        agent_wpm=round(60 * words / secs, 1) if words and secs else None,
        commitments=[asdict(c) for c in facts.commitments],
        scorecard=card,
        notes=coaching_notes(card, facts.rules.good),
        frustration_timeline=frustration_timeline(facts.events, facts.rules),
        cues_shown=(shown := cue_outcomes(facts.events)),
        cues_dismissed=[c["id"] for c in shown if c["outcome"] == "dismissed"],
        cues_held=cues_held(facts.events),
    )
