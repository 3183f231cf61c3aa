"""The post-call summary: talk, talk-over, silences, frustration, cues, commitments, scorecard.

Each score says how it was computed, so a supervisor can disagree with it.
The agent is scored on what they did, never on how they seemed to feel.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from callcue.engine.events import Cue, CueAction, Event, Frustration, Interruption, Silence, Summary, Utterance

if TYPE_CHECKING:
    from callcue.engine.pipeline import Engine

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


def scorecard(engine: Engine, talk_ratio: float | None) -> dict[str, dict[str, Any]]:
    """Scores per soft skill, only where the call gave evidence for one."""
    conv = engine.conversation
    by_agent = [i for i in conv.interruptions if i.by == "agent"]
    agent_utts = [u for u in engine.utterances if u.who == "agent"]
    shown = [c.id for c in engine.board.shown]
    card: dict[str, dict[str, Any]] = {}

    if conv.two_party:
        score = 100 - 20 * len(by_agent) - (15 if conv.longest_monologue_s >= 30 else 0)
        basis = [f"{len(by_agent)} interruption(s) of the customer (-20 each)"]
        if conv.longest_monologue_s >= 30:
            basis.append(f"a {conv.longest_monologue_s:.0f}s monologue (-15)")
        if talk_ratio is not None and talk_ratio > 0.7:
            score -= 10
            basis.append(f"agent talked {100 * talk_ratio:.0f}% of the time (-10)")
        card["active-listening"] = {"score": _clip(score), "basis": "; ".join(basis)}

    peak = engine.frustration.peak
    if peak is not None and peak >= 0.5:
        first_high = next((t for t, lv in engine.frustration.history if lv >= 0.5), None)
        acked = [t for t in engine.empathy_at if first_high is not None and t >= first_high - 5]
        delay = (acked[0] - first_high) if acked and first_high is not None else None
        if delay is None:
            card["empathy"] = {"score": 30, "basis": f"frustration reached {peak:.2f}; no acknowledgement followed"}
        else:
            card["empathy"] = {"score": _clip(100 - max(0.0, delay - 10) * 1.5),
                               "basis": f"frustration reached {peak:.2f}; acknowledged {max(0.0, delay):.0f}s later"}
    elif engine.empathy_at:
        card["empathy"] = {"score": 100, "basis": f"{len(engine.empathy_at)} acknowledgement(s); no frustration"}

    if agent_utts and engine.words:
        slow = engine.playbook.cue("slow-down")
        fast = [u for u in agent_utts if u.syllables_per_s and u.syllables_per_s >= slow["syllables_per_s"]
                and len(u.text.split()) >= slow["min_words"]]
        jargon = [u for u in agent_utts if sum(s.startswith("jargon") for s in u.signals) >= 2]
        card["clear-communication"] = {
            "score": _clip(100 - 15 * len(fast) - 15 * len(jargon)),
            "basis": f"{len(fast)} fast utterance(s) (-15 each); {len(jargon)} with jargon (-15 each)"}
        idioms = sum(1 for u in agent_utts for s in u.signals if s.startswith("idioms"))
        card["cultural-awareness"] = {"score": _clip(100 - 20 * idioms), "basis": f"{idioms} idiom(s) (-20 each)"}

    if conv.two_party and conv.anyone_spoke:
        long_silences = [s for s in conv.silences if s.duration_s >= conv.silence_s]
        unannounced = [s for s in long_silences if not s.hold]
        card["time-management"] = {
            "score": _clip(100 - 20 * len(unannounced) - 10 * (len(long_silences) - len(unannounced))),
            "basis": f"{len(unannounced)} unannounced silence(s) (-20 each), "
                     f"{len(long_silences) - len(unannounced)} after a hold announcement (-10 each)"}

    if "escalation-request" in shown or any("asked to escalate" in u.signals for u in engine.utterances):
        calmer = engine.frustration.history and engine.frustration.history[-1][1] < (peak or 0) - 0.1
        card["conflict-management"] = {
            "score": 85 if calmer else 45,
            "basis": "the customer asked to escalate; frustration " + ("fell afterwards" if calmer else "stayed high")}

    if engine.commitments:
        with_due = [c for c in engine.commitments if c.due]
        card["accountability"] = {"score": _clip(70 + 30 * len(with_due) / len(engine.commitments)),
                                  "basis": f"{len(engine.commitments)} commitment(s), {len(with_due)} with a time"}

    if "negotiate" in shown:
        offers = [u for u in agent_utts if re.search(r"\b(offer|option|or a|instead|alternatively)\b", u.text, re.I)]
        card["negotiation"] = {"score": 90 if offers else 50,
                               "basis": f"the customer asked for money back; {len(offers)} offer(s) of options"}
    return card


def coaching_notes(card: dict[str, dict[str, Any]]) -> list[str]:
    if not card:
        return []
    best = max(card.items(), key=lambda kv: kv[1]["score"])
    worst = min(card.items(), key=lambda kv: kv[1]["score"])
    notes = [f"Went well: {best[0]} ({best[1]['basis']})."]
    if worst[1]["score"] < 80 and worst[0] != best[0]:
        notes.append(f"To try: {worst[0]} ({worst[1]['basis']}).")
    return notes


HIGH = 0.5  # the frustration level a supervisor should look at
NEXT_S = 15.0  # how long after a rise the agent's reaction is looked for
MAX_EPISODES = 5


def _agent_next(events: Sequence[Event], at: float) -> dict[str, Any]:
    """What the agent did in the NEXT_S seconds after the customer's frustration rose at `at`."""
    did: list[str] = []
    reply: Utterance | None = None
    for e in events:
        if isinstance(e, Utterance) and e.who == "agent" and at - 0.5 <= e.start <= at + NEXT_S:
            if reply is None:
                reply = e
            if any(s.startswith("empathy") for s in e.signals) and "acknowledged" not in did:
                did.append("acknowledged")
        elif isinstance(e, Interruption) and e.by == "agent" and at <= e.at <= at + NEXT_S:
            if "talked over the customer" not in did:
                did.append("talked over the customer")
        elif isinstance(e, Silence) and at - 0.5 <= e.start <= at + NEXT_S and "went silent" not in did:
            did.append("went silent" + (" (on hold)" if e.hold else ""))
    if reply is not None and not did:
        did.append("replied without acknowledging")
    out: dict[str, Any] = {"did": did or ["said nothing for 15 s"]}
    if reply is not None:
        out.update(at=reply.start, after_s=round(max(0.0, reply.start - at), 3), text=reply.text)
    return out


def frustration_timeline(events: Sequence[Event], high: float = HIGH) -> dict[str, Any]:
    """The customer's frustration over the call: its peak, where it rose past `high` (what
    was said) and what the agent did next. Pure: works on a stored stream too."""
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
            episode["agent_next"] = _agent_next(events, f.at)
            episodes.append(episode)
        elif f.level >= high and episodes:
            if f.level > episodes[-1]["peak"]:
                episodes[-1].update(peak=f.level, peak_at=f.at)
        elif f.level < high and above and episodes:
            episodes[-1]["settled_at"] = f.at
        above = f.level >= high
    return {
        "peak": peak.level, "peak_at": peak.at, "threshold": high, "start": levels[0].level,
        "end": levels[-1].level, "episodes": episodes[:MAX_EPISODES],
    }


def cue_outcomes(events: Sequence[Event]) -> list[dict[str, Any]]:
    """Each cue shown, and whether the agent dismissed or snoozed it while it was up."""
    cues = sorted((e for e in events if isinstance(e, Cue)), key=lambda e: e.at)
    actions = sorted((e for e in events if isinstance(e, CueAction)), key=lambda e: e.at)
    out: list[dict[str, Any]] = []
    for i, cue in enumerate(cues):
        ends = [cue.until if cue.until is not None else float("inf")]
        if i + 1 < len(cues):
            ends.append(cues[i + 1].at)
        end = min(ends)
        outcome = "shown"
        for a in actions:
            if cue.at <= a.at <= end and (a.action == "snooze" or (a.action == "dismiss" and a.cue == cue.id)):
                outcome = "dismissed" if a.action == "dismiss" else "snoozed"
                break
        out.append({"at": cue.at, "id": cue.id, "skill": cue.skill, "severity": cue.severity, "text": cue.text,
                    "outcome": outcome})
    return out


def build_summary(engine: Engine, end: float) -> Summary:
    conv = engine.conversation
    talk = {c: round(v, 3) for c, v in conv.talk_s.items()}
    total = talk.get("agent", 0.0) + talk.get("customer", 0.0)
    ratio = round(talk["agent"] / total, 3) if conv.two_party and total > 0 else None
    by = {"agent": 0, "customer": 0}
    for i in conv.interruptions:
        by[i.by] = by.get(i.by, 0) + 1
    words = sum(len(u.text.split()) for u in engine.utterances if u.who == "agent")
    secs = sum(u.end - u.start for u in engine.utterances if u.who == "agent")
    card = scorecard(engine, ratio)
    peak = engine.frustration.peak
    return Summary(
        talk_ratio=ratio,
        interruptions=len(conv.interruptions),
        longest_silence_s=round(conv.longest_gap_s, 3),
        frustration_peak=None if peak is None else round(peak, 3),
        cues=[c.id for c in engine.board.shown],
        scores={k: v["score"] for k, v in card.items()},
        duration_s=round(end, 3),
        talk_s=talk,
        interruptions_by=by if conv.two_party else {},
        silences=len(conv.silences),
        longest_monologue_s=round(conv.longest_monologue_s, 3),
        agent_wpm=round(60 * words / secs, 1) if words and secs else None,
        commitments=[asdict(c) for c in engine.commitments],
        scorecard=card,
        notes=coaching_notes(card),
        frustration_timeline=frustration_timeline(engine.events),
        cues_shown=(shown := cue_outcomes(engine.events)),
        cues_dismissed=[c["id"] for c in shown if c["outcome"] == "dismissed"],
    )
