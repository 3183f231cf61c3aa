"""The report model: what every report shows, taken once from a stored session. The HTML, the PDF
and the review window render the same `ReportData` (its header, key numbers, story and sections of
typed records), so they cannot disagree; the JSON export writes its `summary` and `events`.

Everything here has passed redaction again (the store redacts before writing; a report redacts
once more so an export can never carry what a bug or an old database let through).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, Generic, TypeVar

from callcue.engine import events as ev
from callcue.engine.cues import HELD_REASONS
from callcue.engine.playbook import load_playbook
from callcue.engine.summary import SummaryRules, cue_outcomes, cues_held, frustration_timeline
from callcue.store import StoredSession, redact, redact_event, redact_value
from callcue.store.callredact import redact_stream

WHO_ORDER = ("agent", "customer", "mixed")
FLAG_LABELS = {"escalation": "escalation request"}
T = TypeVar("T")


@cache
def summary_rules() -> SummaryRules:
    """The default playbook's levels and score bands, which every report and the review window use."""
    return SummaryRules.from_playbook(load_playbook())


@dataclass
class Marker:
    """A point of interest on the timeline that the transcript can jump to."""

    kind: str  # "interruption", "cue", "silence", "peak", "commitment"
    at: float
    label: str
    detail: str = ""
    severity: str = "info"
    end: float | None = None


@dataclass(frozen=True)
class Header:
    """Who, when and what: the first lines of every report (free text redacted)."""

    session_id: str
    agent: str  # "" when unknown
    started: datetime  # local time
    duration_s: float
    profile: str  # "default" when none was named
    kind: str  # live | demo | analyze | chat
    source: str  # the recording's file name, or ""
    state: str  # finished | open | recovered
    flags: list[str]  # as a person reads them ("escalation request")


@dataclass(frozen=True)
class KeyNumber:
    """One of the figures a supervisor looks at first."""

    label: str
    value: str
    detail: str


@dataclass(frozen=True)
class Score:
    skill: str
    score: int
    basis: str  # how it was computed
    band: str  # "good", "fair" or "poor" (the playbook's [scorecard] good and fair)


@dataclass(frozen=True)
class Promise:
    """A commitment the agent made."""

    at: float
    text: str
    due: str | None
    line: int | None  # the transcript line it was said in


@dataclass(frozen=True)
class CueShown:
    at: float
    id: str
    skill: str
    severity: str
    text: str
    outcome: str  # "shown", "dismissed", "snoozed", "replaced", or "held back: WHY" (a cue not shown)
    line: int | None


@dataclass(frozen=True)
class Line:
    """One line of the transcript."""

    who: str
    start: float
    end: float
    text: str  # "" for speech heard without words
    frustration: float | None  # the customer's, of this line
    level: str  # "very high", "high" or "calm" (the playbook's [summary] levels)


@dataclass(frozen=True)
class Peak:
    at: float
    level: float


@dataclass(frozen=True)
class Section(Generic[T]):
    """A titled part of the report: its rows (a section reads as their list), or what to say when
    there are none."""

    title: str
    rows: list[T]
    empty: str = ""  # what a report says when there are no rows ("": it leaves the section out)

    def __iter__(self) -> Iterator[T]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> T:
        return self.rows[index]


@dataclass
class ReportData:
    session: StoredSession
    events: list[ev.Event]  # the redacted stream, in time order (the JSON export's)
    summary: dict[str, Any]  # the summary as the engine wrote it, redacted (the JSON export's)
    rules: SummaryRules
    header: Header
    duration_s: float
    channels: list[str]
    speech: dict[str, list[tuple[float, float]]]
    frustration: list[tuple[float, float]]
    peak: Peak | None
    silences: list[ev.Silence]
    interruptions: list[ev.Interruption]
    markers: list[Marker]
    numbers: list[KeyNumber]
    story: Section[str]
    notes: Section[str]
    scorecard: Section[Score]
    commitments: Section[Promise]
    cues: Section[CueShown]
    transcript: Section[Line]
    recovered_summary: bool = False  # the summary was rebuilt from the saved events (after a crash)
    flags: list[str] = field(default_factory=list)

    def utterance_at(self, t: float) -> int | None:
        """The index of the transcript line being spoken at `t`, or the nearest one before it."""
        return _line_at(self.transcript.rows, t)


def _line_at(lines: list[Line], t: float) -> int | None:
    best: int | None = None
    for i, u in enumerate(lines):
        if u.start <= t + 0.05:
            best = i
            if t <= u.end + 0.05:
                return i
    if best is None and lines:
        return 0
    return best


def _partial_summary(events: list[ev.Event], rules: SummaryRules) -> dict[str, Any]:
    """What can be said of a call without its engine: a session recovered after a crash."""
    talk: dict[str, float] = {}
    for e in events:
        if isinstance(e, ev.Speech):
            talk[e.who] = talk.get(e.who, 0.0) + e.end - e.start
    total = talk.get("agent", 0.0) + talk.get("customer", 0.0)
    interruptions = [e for e in events if isinstance(e, ev.Interruption)]
    silences = [e for e in events if isinstance(e, ev.Silence)]
    levels = [e.level for e in events if isinstance(e, ev.Frustration)]
    by: Counter[str] = Counter(i.by for i in interruptions)
    shown = cue_outcomes(events)
    return {
        "talk_ratio": round(talk.get("agent", 0.0) / total, 3) if "customer" in talk and total else None,
        "interruptions": len(interruptions),
        "interruptions_by": dict(by),
        "longest_silence_s": max((s.duration_s for s in silences), default=0.0),
        "silences": len(silences),
        "frustration_peak": max(levels) if levels else None,
        "cues": [c["id"] for c in shown],
        "cues_shown": shown,
        "cues_dismissed": [c["id"] for c in shown if c["outcome"] == "dismissed"],
        "cues_held": cues_held(events),
        "scores": {},
        "scorecard": {},
        "commitments": [],
        "talk_s": {k: round(v, 3) for k, v in talk.items()},
        "frustration_timeline": frustration_timeline(events, rules),
        "notes": ["This call was cut off (the app stopped during it): the summary covers what was saved; "
                  "there is no scorecard."],
    }


def build_report(session: StoredSession, rules: SummaryRules | None = None) -> ReportData:
    """A report of a session loaded with its events (`SessionStore.load`); `rules`: the levels and
    score bands to show it by (default: the default playbook's)."""
    rules = rules or summary_rules()
    # Across the call, not line by line: a card read out in groups in an old database is hidden too.
    stream = redact_stream([e for e in session.events if not isinstance(e, ev.Partial)])
    stream = ev.sort_stream(stream)
    summary_event = session.summary_event()
    if summary_event is None:
        summary_event = next((e for e in reversed(stream) if isinstance(e, ev.Summary)), None)
    recovered = summary_event is None
    if summary_event is not None:
        summary = redact_event(summary_event).to_dict()
        summary.pop("type", None)
        # Summaries from before these fields existed: fill them from the events.
        if not summary.get("frustration_timeline"):
            summary["frustration_timeline"] = frustration_timeline(stream, rules)
        if not summary.get("cues_shown"):
            summary["cues_shown"] = cue_outcomes(stream)
    else:
        summary = redact_value(_partial_summary(stream, rules))
    body = [e for e in stream if not isinstance(e, ev.Summary)]
    start = next((e for e in body if isinstance(e, ev.CallStart)), None)
    channels = list(start.channels) if start else []
    speech: dict[str, list[tuple[float, float]]] = {}
    ends = [0.0]
    for e in body:
        if isinstance(e, ev.Speech):
            speech.setdefault(e.who, []).append((e.start, e.end))
            ends.append(e.end)
        for name in ("at", "end"):
            value = getattr(e, name, None)
            if isinstance(value, (int, float)):
                ends.append(float(value))
    for who in speech:
        if who not in channels:
            channels.append(who)
    channels.sort(key=lambda w: WHO_ORDER.index(w) if w in WHO_ORDER else len(WHO_ORDER))
    duration = round(max([session.duration_s or 0.0, summary.get("duration_s") or 0.0,
                          (start.duration_s or 0.0) if start else 0.0, *ends]), 3)
    frustration = [(e.at, e.level) for e in body if isinstance(e, ev.Frustration)]
    silences = [e for e in body if isinstance(e, ev.Silence)]
    interruptions = [e for e in body if isinstance(e, ev.Interruption)]
    utterances = sorted((e for e in body if isinstance(e, ev.Utterance)), key=lambda u: (u.start, u.end))
    lines = [Line(u.who, u.start, u.end, safe(u.text), u.frustration,
                  rules.level(u.frustration) if u.frustration is not None else "calm") for u in utterances]
    cues = [CueShown(c["at"], c["id"], c["skill"], c.get("severity", "info"), safe(c["text"]),
                     c.get("outcome", "shown"), _line_at(lines, c["at"]))
            for c in summary.get("cues_shown") or cue_outcomes(body)]
    held = [CueShown(c["at"], c["id"], c["skill"], c["severity"], safe(c["text"]),
                     f"held back: {HELD_REASONS.get(c['reason'], c['reason'])}", _line_at(lines, c["at"]))
            for c in summary.get("cues_held") or cues_held(body)]
    cues = sorted(cues + held, key=lambda c: c.at)
    promises = [Promise(c["at"], safe(c["text"]), c.get("due"), _line_at(lines, c["at"]))
                for c in summary.get("commitments") or []]
    scores = [Score(skill, int(sc["score"]), safe(sc.get("basis", "")), rules.band(int(sc["score"])))
              for skill, sc in sorted((summary.get("scorecard") or {}).items(), key=lambda kv: kv[1]["score"])]
    timeline = summary.get("frustration_timeline") or {}
    peak = Peak(timeline["peak_at"], timeline["peak"]) \
        if timeline.get("peak") is not None and timeline.get("peak_at") is not None else None
    header = Header(session_id=session.id, agent=safe(session.agent), started=session.started(),
                    duration_s=duration, profile=safe(session.profile) or "default", kind=session.kind,
                    source=safe(session.source).rsplit("/", 1)[-1] if session.source else "",
                    state=session.state, flags=[FLAG_LABELS.get(f, f) for f in session.flags])
    return ReportData(
        session=session, events=stream, summary=summary, rules=rules, header=header, duration_s=duration,
        channels=channels, speech=speech, frustration=frustration, peak=peak, silences=silences,
        interruptions=interruptions,
        markers=_markers(interruptions, cues, silences, promises, peak, rules),
        numbers=_key_numbers(summary, peak, cues),
        story=Section("What happened", _story(timeline, rules)),
        notes=Section("Coaching notes", [safe(n) for n in summary.get("notes") or []]),
        scorecard=Section("Scorecard", scores, "No scorecard for this call."),
        commitments=Section("Commitments", promises, "No commitments were heard."),
        cues=Section("Cues shown to the agent", cues, "No cues were shown."),  # and those held back
        transcript=Section("Transcript", lines, "No transcript was saved for this call."),
        recovered_summary=recovered, flags=list(session.flags),
    )


def _markers(interruptions: list[ev.Interruption], cues: list[CueShown], silences: list[ev.Silence],
             promises: list[Promise], peak: Peak | None, rules: SummaryRules) -> list[Marker]:
    markers: list[Marker] = []
    for i in interruptions:
        markers.append(Marker("interruption", i.at, f"{i.by} talked over {i.over}",
                              f"{i.overlap_s:.1f} s of overlap", "warn" if i.by == "agent" else "info"))
    for c in cues:
        outcome = "" if c.outcome == "shown" else f" ({c.outcome})"
        markers.append(Marker("cue", c.at, f"cue: {c.text}{outcome}", f"{c.id}, {c.skill}", c.severity))
    for s in silences:
        markers.append(Marker("silence", s.start, f"silence {s.duration_s:.1f} s" + (" (hold)" if s.hold else ""),
                              "after a hold announcement" if s.hold else "nobody spoke", "info", s.end))
    for p in promises:
        due = f" (due {p.due})" if p.due else " (no time given)"
        markers.append(Marker("commitment", p.at, f"promise: {p.text}{due}", "", "info"))
    if peak is not None:
        markers.append(Marker("peak", peak.at, f"frustration peak {peak.level:.2f}", "",
                              "alert" if rules.level(peak.level) == "very high" else "warn"))
    markers.sort(key=lambda m: m.at)
    return markers


def session_meta(session: StoredSession) -> dict[str, Any]:
    """A session's metadata for an export, redacted."""
    # The id, times and numbers are Callcue's own; only the free text could hold an identifier
    # (a random hex id may well contain seven digits in a row).
    return {
        "id": session.id, "kind": session.kind, "agent": safe(session.agent) or None,
        "profile": safe(session.profile) or None, "started_at": session.started_at,
        "duration_s": session.duration_s, "devices": redact_value(session.devices),
        "model": safe(session.model) or None, "source": safe(session.source) or None, "state": session.state,
        "flags": list(session.flags), "peak_frustration": session.peak_frustration,
    }


def clock(t: float) -> str:
    m, s = divmod(int(round(max(0.0, t))), 60)
    return f"{m}:{s:02d}"


def safe(text: str | None) -> str:
    return redact(text) if text else ""


def _key_numbers(s: dict[str, Any], peak: Peak | None, shown: list[CueShown]) -> list[KeyNumber]:
    """The figures a supervisor looks at first, each with what it means."""
    out: list[KeyNumber] = []
    ratio = s.get("talk_ratio")
    if ratio is not None:
        out.append(KeyNumber("Agent talk", f"{100 * ratio:.0f}%", f"customer {100 - 100 * ratio:.0f}% of the talking"))
    by = s.get("interruptions_by") or {}
    detail = ", ".join(f"{n} by {who}" for who, n in by.items() if n) or "none"
    out.append(KeyNumber("Talk-over", str(s.get("interruptions", 0)), detail))
    out.append(KeyNumber("Silences", str(s.get("silences", 0)), f"longest {s.get('longest_silence_s', 0.0):.1f} s"))
    level = s.get("frustration_peak")
    out.append(KeyNumber("Peak frustration", "-" if level is None else f"{level:.2f}",
                         f"at {clock(peak.at)}" if peak is not None else "customer, 0 to 1"))
    dismissed = sum(1 for c in shown if c.outcome == "dismissed")
    snoozed = sum(1 for c in shown if c.outcome == "snoozed")
    extra = f"{dismissed} dismissed" + (f", {snoozed} snoozed" if snoozed else "")
    out.append(KeyNumber("Cues shown", str(len(shown)), extra))
    return out


def frustration_story(data: ReportData) -> list[str]:
    """The frustration timeline in sentences: where it rose, what was said, what the agent did next."""
    return list(data.story)


def _story(tl: dict[str, Any], rules: SummaryRules) -> list[str]:
    if not tl:
        return ["No frustration estimate: the customer's channel was not heard."]
    lines: list[str] = []
    episodes = tl.get("episodes") or []
    if not episodes:
        lines.append(f"The customer stayed calm: frustration peaked at {tl['peak']:.2f} "
                     f"(below {tl.get('threshold', rules.high_frustration):.1f}).")
        return lines
    for ep in episodes:
        said = f', when the customer said: "{safe(ep["said"])}"' if ep.get("said") else "."
        line = f"At {clock(ep['rose_at'])} frustration rose to {ep['level']:.2f}{said}"
        nxt = ep.get("agent_next") or {}
        did = ", ".join(nxt.get("did") or [])
        if did:
            line += f" Next, the agent {did}."
        if nxt.get("text"):
            line += f" First reply ({nxt.get('after_s', 0):.0f} s later): \"{safe(nxt['text'])}\""
        if ep.get("peak", 0) > ep["level"]:
            line += f" It peaked at {ep['peak']:.2f} at {clock(ep['peak_at'])}"
            line += f" and settled by {clock(ep['settled_at'])}." if ep.get("settled_at") is not None else "."
        elif ep.get("settled_at") is not None:
            line += f" It settled by {clock(ep['settled_at'])}."
        lines.append(line)
    if episodes and episodes[-1].get("settled_at") is None:
        lines.append(f"It was still {tl['end']:.2f} when the call ended.")
    return lines
