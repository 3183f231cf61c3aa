"""The event vocabulary, as dataclasses: specified in docs/events.md (kept true by a test).

Every part of Callcue (engine, overlay, store, command line, report) speaks
these. Times are seconds on the audio's sample clock, rounded to milliseconds
when serialised. Fields may be added; the documented ones are never renamed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

SEVERITIES = ("info", "warn", "alert")
SKILLS = (
    "empathy",
    "active-listening",
    "clear-communication",
    "conflict-management",
    "emotional-intelligence",
    "time-management",
    "accountability",
    "negotiation",
    "cultural-awareness",
    "resilience",
)


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_round(v) for v in value]
    return value


@dataclass
class Event:
    type: ClassVar[str] = "event"

    @property
    def time(self) -> float:
        """When the event happened, for ordering a stream."""
        for name in ("at", "start"):
            if hasattr(self, name):
                return float(getattr(self, name))
        return 0.0

    @property
    def known_at(self) -> float:
        """The latest audio time the event speaks of: when a live call knows it (an utterance at its end)."""
        best = 0.0
        for name in ("at", "start", "end"):
            value = getattr(self, name, None)
            if isinstance(value, (int, float)):
                best = max(best, float(value))
        return best

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **_round(asdict(self))}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(", ", ": "))


@dataclass
class CallStart(Event):
    type: ClassVar[str] = "call"
    duration_s: float | None
    channels: list[str]
    model: str | None = None
    transcript: str | None = None  # "vosk", "file" or None
    words: bool = False  # are words-based signals present?
    note: str | None = None


@dataclass
class Speech(Event):
    type: ClassVar[str] = "speech"
    who: str
    start: float
    end: float


@dataclass
class Word:
    word: str
    start: float
    end: float
    conf: float = 1.0


@dataclass
class TextSegment:
    """Input, not output: one finished line of words from a transcript or the recognizer."""

    who: str
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)


@dataclass
class Utterance(Event):
    type: ClassVar[str] = "utterance"
    who: str
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    sentiment: float = 0.0
    frustration: float | None = None  # customers only: the agent's feelings are never inferred
    wpm: float | None = None
    syllables_per_s: float | None = None
    signals: list[str] = field(default_factory=list)  # why: lexicon hits and voice changes


@dataclass
class Partial(Event):
    """A line still being spoken (live captions); replaced by the next partial or utterance."""

    type: ClassVar[str] = "partial"
    who: str
    at: float
    text: str


@dataclass
class Interruption(Event):
    type: ClassVar[str] = "interruption"
    at: float
    by: str
    over: str
    overlap_s: float


@dataclass
class Silence(Event):
    type: ClassVar[str] = "silence"
    start: float
    end: float
    duration_s: float
    hold: bool = False  # was a hold announced before it?


@dataclass
class Frustration(Event):
    type: ClassVar[str] = "frustration"
    at: float
    level: float
    trend: str  # "rising", "steady" or "falling"


@dataclass
class Cue(Event):
    type: ClassVar[str] = "cue"
    at: float
    id: str
    skill: str
    severity: str
    text: str
    why: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    until: float | None = None  # when it leaves the screen unless replaced first


@dataclass
class CueAction(Event):
    """What the agent did with cues: dismiss, snooze, hold on/off."""

    type: ClassVar[str] = "action"
    at: float
    action: str  # "dismiss", "snooze", "unsnooze", "hold", "resume"
    cue: str | None = None
    until: float | None = None
    reason: str | None = None  # why a hold ended by itself (none when the agent ended it)


@dataclass
class CueHeld(Event):
    """A cue a rule offered that the agent did not see, and why: snoozed, on hold, the call's cap,
    waited too long behind other cues, or replaced by a more severe one before it could be read."""

    type: ClassVar[str] = "held"
    at: float
    id: str
    skill: str
    severity: str
    text: str  # what the agent would have seen
    reason: str  # "snooze", "hold", "call-cap", "expired", "replaced"


@dataclass
class Status(Event):
    """Trouble at the edges: an overloaded worker, a lost or regained device."""

    type: ClassVar[str] = "status"
    at: float
    kind: str  # "overload", "device-lost", "device-back", ...
    message: str
    who: str | None = None


@dataclass
class Summary(Event):
    type: ClassVar[str] = "summary"
    talk_ratio: float | None
    interruptions: int
    longest_silence_s: float
    frustration_peak: float | None
    cues: list[str]
    scores: dict[str, int]
    duration_s: float = 0.0
    talk_s: dict[str, float] = field(default_factory=dict)
    interruptions_by: dict[str, int] = field(default_factory=dict)
    silences: int = 0
    longest_monologue_s: float = 0.0
    agent_wpm: float | None = None
    commitments: list[dict[str, Any]] = field(default_factory=list)
    scorecard: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # Where the customer's frustration rose, its peak, and what the agent did next.
    frustration_timeline: dict[str, Any] = field(default_factory=dict)
    # Each cue shown, with what became of it: "dismissed", "snoozed", "replaced" or "shown".
    cues_shown: list[dict[str, Any]] = field(default_factory=list)
    cues_dismissed: list[str] = field(default_factory=list)
    # Each cue held back (the `held` events): at, id, skill, severity, text, reason.
    cues_held: list[dict[str, Any]] = field(default_factory=list)


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (CallStart, Speech, Utterance, Partial, Interruption, Silence, Frustration, Cue,
                CueAction, CueHeld, Status, Summary)
}


def from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from its JSON form (store, tests); unknown fields are ignored."""
    cls = EVENT_TYPES[data["type"]]
    names = {f.name for f in fields(cls)}
    kwargs = {k: v for k, v in data.items() if k in names}
    if cls is Utterance:
        kwargs["words"] = [Word(**w) for w in kwargs.get("words", [])]
    return cls(**kwargs)


def sort_stream(events: list[Event]) -> list[Event]:
    """Time order for a finished call: `call` first, `summary` last, stable otherwise."""
    head = [e for e in events if isinstance(e, CallStart)]
    tail = [e for e in events if isinstance(e, Summary)]
    body = [e for e in events if not isinstance(e, (CallStart, Summary))]
    return head + sorted(body, key=lambda e: e.time) + tail
