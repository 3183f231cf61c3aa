"""What every report shows, taken once from a stored session: the HTML, the PDF, the JSON export
and the review window all read a `ReportData`, so they cannot disagree.

Everything here has passed redaction again (the store redacts before writing; exporting redacts
once more so an export can never carry what a bug or an old database let through).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from callcue.engine import events as ev
from callcue.engine.summary import cue_outcomes, frustration_timeline
from callcue.store import StoredSession, redact, redact_event, redact_value
from callcue.store.callredact import redact_stream

WHO_ORDER = ("agent", "customer", "mixed")


@dataclass
class Marker:
    """A point of interest on the timeline that the transcript can jump to."""

    kind: str  # "interruption", "cue", "silence", "peak", "commitment"
    at: float
    label: str
    detail: str = ""
    severity: str = "info"
    end: float | None = None


@dataclass
class ReportData:
    session: StoredSession
    events: list[ev.Event]
    summary: dict[str, Any]
    duration_s: float
    channels: list[str]
    speech: dict[str, list[tuple[float, float]]]
    frustration: list[tuple[float, float]]
    silences: list[ev.Silence]
    interruptions: list[ev.Interruption]
    cues: list[dict[str, Any]]  # cue_outcomes: at, id, skill, severity, text, outcome
    transcript: list[ev.Utterance]
    markers: list[Marker]
    recovered_summary: bool = False  # the summary was rebuilt from the saved events (after a crash)
    flags: list[str] = field(default_factory=list)

    @property
    def timeline(self) -> dict[str, Any]:
        return self.summary.get("frustration_timeline") or {}

    def utterance_at(self, t: float) -> int | None:
        """The index of the transcript line being spoken at `t`, or the nearest one before it."""
        best: int | None = None
        for i, u in enumerate(self.transcript):
            if u.start <= t + 0.05:
                best = i
                if t <= u.end + 0.05:
                    return i
        if best is None and self.transcript:
            return 0
        return best


def _partial_summary(events: list[ev.Event]) -> dict[str, Any]:
    """What can be said of a call without its engine: a session recovered after a crash."""
    talk: Counter[str] = Counter()
    for e in events:
        if isinstance(e, ev.Speech):
            talk[e.who] += e.end - e.start
    total = talk.get("agent", 0.0) + talk.get("customer", 0.0)
    interruptions = [e for e in events if isinstance(e, ev.Interruption)]
    silences = [e for e in events if isinstance(e, ev.Silence)]
    levels = [e.level for e in events if isinstance(e, ev.Frustration)]
    by: Counter[str] = Counter(i.by for i in interruptions)
    shown = cue_outcomes(events)
    return {
        "talk_ratio": round(talk["agent"] / total, 3) if "customer" in talk and total else None,
        "interruptions": len(interruptions),
        "interruptions_by": dict(by),
        "longest_silence_s": max((s.duration_s for s in silences), default=0.0),
        "silences": len(silences),
        "frustration_peak": max(levels) if levels else None,
        "cues": [c["id"] for c in shown],
        "cues_shown": shown,
        "cues_dismissed": [c["id"] for c in shown if c["outcome"] == "dismissed"],
        "scores": {},
        "scorecard": {},
        "commitments": [],
        "talk_s": {k: round(v, 3) for k, v in talk.items()},
        "frustration_timeline": frustration_timeline(events),
        "notes": ["This call was cut off (the app stopped during it): the summary covers what was saved; "
                  "there is no scorecard."],
    }


def build_report(session: StoredSession) -> ReportData:
    """A report of a session loaded with its events (`SessionStore.load`)."""
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
            summary["frustration_timeline"] = frustration_timeline(stream)
        if not summary.get("cues_shown"):
            summary["cues_shown"] = cue_outcomes(stream)
    else:
        summary = redact_value(_partial_summary(stream))
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
    duration = max([session.duration_s or 0.0, summary.get("duration_s") or 0.0,
                    (start.duration_s or 0.0) if start else 0.0, *ends])
    frustration = [(e.at, e.level) for e in body if isinstance(e, ev.Frustration)]
    silences = [e for e in body if isinstance(e, ev.Silence)]
    interruptions = [e for e in body if isinstance(e, ev.Interruption)]
    cues = summary.get("cues_shown") or cue_outcomes(body)
    transcript = sorted((e for e in body if isinstance(e, ev.Utterance)), key=lambda u: (u.start, u.end))
    markers: list[Marker] = []
    for i in interruptions:
        markers.append(Marker("interruption", i.at, f"{i.by} talked over {i.over}",
                              f"{i.overlap_s:.1f} s of overlap", "warn" if i.by == "agent" else "info"))
    for c in cues:
        outcome = "" if c.get("outcome", "shown") == "shown" else f" ({c['outcome']})"
        markers.append(Marker("cue", c["at"], f"cue: {c['text']}{outcome}", f"{c['id']}, {c['skill']}",
                              c.get("severity", "info")))
    for s in silences:
        markers.append(Marker("silence", s.start, f"silence {s.duration_s:.1f} s" + (" (hold)" if s.hold else ""),
                              "after a hold announcement" if s.hold else "nobody spoke", "info", s.end))
    for c in summary.get("commitments") or []:
        due = f" (due {c['due']})" if c.get("due") else " (no time given)"
        markers.append(Marker("commitment", c["at"], f"promise: {c['text']}{due}", "", "info"))
    timeline = summary.get("frustration_timeline") or {}
    if timeline.get("peak") is not None and timeline.get("peak_at") is not None:
        markers.append(Marker("peak", timeline["peak_at"], f"frustration peak {timeline['peak']:.2f}", "",
                              "alert" if timeline["peak"] >= 0.7 else "warn"))
    markers.sort(key=lambda m: m.at)
    return ReportData(
        session=session, events=stream, summary=summary, duration_s=round(duration, 3), channels=channels,
        speech=speech, frustration=frustration, silences=silences, interruptions=interruptions, cues=cues,
        transcript=transcript, markers=markers, recovered_summary=recovered, flags=list(session.flags),
    )


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


def key_numbers(data: ReportData) -> list[tuple[str, str, str]]:
    """(label, value, explanation) for the figures a supervisor looks at first."""
    s = data.summary
    out: list[tuple[str, str, str]] = []
    ratio = s.get("talk_ratio")
    if ratio is not None:
        out.append(("Agent talk", f"{100 * ratio:.0f}%", f"customer {100 - 100 * ratio:.0f}% of the talking"))
    by = s.get("interruptions_by") or {}
    detail = ", ".join(f"{n} by {who}" for who, n in by.items() if n) or "none"
    out.append(("Talk-over", str(s.get("interruptions", 0)), detail))
    out.append(("Silences", str(s.get("silences", 0)), f"longest {s.get('longest_silence_s', 0.0):.1f} s"))
    peak = s.get("frustration_peak")
    tl = data.timeline
    out.append(("Peak frustration", "-" if peak is None else f"{peak:.2f}",
                f"at {clock(tl['peak_at'])}" if tl.get("peak_at") is not None else "customer, 0 to 1"))
    shown = data.cues
    dismissed = sum(1 for c in shown if c.get("outcome") == "dismissed")
    snoozed = sum(1 for c in shown if c.get("outcome") == "snoozed")
    extra = f"{dismissed} dismissed" + (f", {snoozed} snoozed" if snoozed else "")
    out.append(("Cues shown", str(len(shown)), extra))
    return out


def frustration_story(data: ReportData) -> list[str]:
    """The frustration timeline in sentences: where it rose, what was said, what the agent did next."""
    tl = data.timeline
    if not tl:
        return ["No frustration estimate: the customer's channel was not heard."]
    lines: list[str] = []
    episodes = tl.get("episodes") or []
    if not episodes:
        lines.append(f"The customer stayed calm: frustration peaked at {tl['peak']:.2f} "
                     f"(below {tl.get('threshold', 0.5):.1f}).")
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
