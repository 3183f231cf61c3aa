"""What the panel shows, as plain data: no Qt here.

The overlay's widgets and `callcue demo --headless` both draw from `PanelState`, so the text a
headless run prints is what the window would show. The state changes only through `apply(event)`
(the engine's events) and `tick(Tick)` (the audio clock), never the wall clock: a test that sends
the same events and ticks sees the same panel.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from callcue.calls.session import Phase, Tick
from callcue.engine.cues import NEVER_MUTED
from callcue.engine.events import (
    CallStart,
    Cue,
    CueAction,
    CueHeld,
    Event,
    Frustration,
    Partial,
    Speech,
    Status,
    Summary,
    Utterance,
)

SILENCE_SHOW_S = 3.0  # the silence timer appears once the line has been quiet this long
OVERLOAD_SHOW_S = 10.0  # an overload warning stays this long (audio time) after the last one
FINAL_CAPTIONS = 6  # finished lines kept in the captions
RECENT_CUES = 5  # cues the agent can look back at (shown and held back), newest first
HOLD_END_SHOW_S = 8.0  # "Hold ended: ..." stays this long (audio time) after a hold ended by itself

# What a held-back cue's reason means to the agent (docs/events.md, `held`).
HELD_WORDS = {"snooze": "held back: snoozed", "hold": "held back: on hold",
              "call-cap": "held back: enough cues this call", "expired": "held back: came too late",
              "replaced": "replaced before you could read it"}


@dataclass
class RecentCue:
    """One of the last few cues: one the agent saw, or one held back (`held` says why)."""

    at: float
    id: str
    skill: str
    severity: str
    text: str
    why: str
    evidence: list[str]
    held: str | None = None  # a reason of HELD_WORDS, or None: it was shown

    @property
    def held_words(self) -> str:
        return HELD_WORDS.get(self.held or "", self.held or "")


@dataclass
class Caption:
    who: str
    text: str
    at: float
    final: bool


PHASES = ("idle", "loading", "listening", "ended", "error")
PROBLEM_CLEARED_BY = {"device-back": "device-lost", "model-back": "model-lost"}


@dataclass
class PanelState:
    now: float = 0.0
    cue: Cue | None = None
    frustration: float | None = None
    trend: str = "steady"
    quiet_s: float = 0.0
    talk_s: dict[str, float] = field(default_factory=lambda: {"agent": 0.0, "customer": 0.0})
    finals: deque[Caption] = field(default_factory=lambda: deque(maxlen=FINAL_CAPTIONS))
    partials: dict[str, Caption] = field(default_factory=dict)
    commitments: list[str] = field(default_factory=list)
    snoozed_until: float = 0.0
    on_hold: bool = False
    hold_since: float | None = None
    hold_ended: tuple[float, str] | None = None  # (when, why) a hold ended by itself
    recent: deque[RecentCue] = field(default_factory=lambda: deque(maxlen=RECENT_CUES))
    phase: Phase = field(default_factory=Phase)
    words: str | None = None  # where words come from: "vosk", "file" or None
    model: str | None = None
    note: str | None = None
    problems: dict[str, str] = field(default_factory=dict)  # kind -> message
    overload_at: float | None = None
    summary: Summary | None = None
    levels: dict[str, float] = field(default_factory=dict)
    _last_voice: float = 0.0
    _quiet_known: bool = False  # ticks carry the engine's own silence clock
    _talk_known: bool = False  # ticks carry live talk times: Speech events then add nothing

    # ---- reading ---------------------------------------------------------------------------

    @property
    def silence_visible(self) -> bool:
        return self.phase.name == "listening" and self.quiet_s >= SILENCE_SHOW_S

    @property
    def snoozed_for(self) -> float:
        return max(0.0, self.snoozed_until - self.now)

    @property
    def hold_end_text(self) -> str | None:
        """'Hold ended: both sides are speaking again', a few seconds after a hold ended by itself."""
        return None if self.hold_ended is None else f"Hold ended: {self.hold_ended[1]}"

    @property
    def talk_share(self) -> float | None:
        """The agent's share of the talking so far, or None before anyone spoke."""
        a, c = self.talk_s.get("agent", 0.0), self.talk_s.get("customer", 0.0)
        return a / (a + c) if a + c > 0 else None

    def source_text(self) -> str:
        if self.words == "vosk":
            return f"live transcription ({self.model})" if self.model else "live transcription"
        if self.words == "file":
            return "bundled transcript"
        if self.phase.name in ("listening", "ended"):
            return "no speech model: voice only"
        return ""

    # ---- changing --------------------------------------------------------------------------

    def apply(self, ev: Event) -> set[str]:
        """Take one event; returns the parts of the panel that changed."""
        if isinstance(ev, Cue):
            self.cue = ev
            self.recent.appendleft(RecentCue(ev.at, ev.id, ev.skill, ev.severity, ev.text, ev.why or "",
                                             evidence_lines(ev)))
            return {"cue", "recent"}
        if isinstance(ev, CueHeld):
            return self._held(ev)
        if isinstance(ev, CueAction):
            changed = {"cue", "controls"}
            if ev.action == "dismiss" or (ev.action in ("snooze", "hold") and self.cue is not None
                                          and self.cue.severity != NEVER_MUTED):
                self.cue = None  # snooze and hold mute coaching cues; an alert stays
            if ev.action == "snooze":
                self.snoozed_until = ev.until or ev.at
            elif ev.action == "unsnooze":
                self.snoozed_until = 0.0
            elif ev.action == "hold":
                self.on_hold, self.hold_since, self.hold_ended = True, ev.at, None
            elif ev.action == "resume":
                self.on_hold, self.hold_since = False, None
                # Ended by itself: say so, or the agent wonders why cues came back.
                self.hold_ended = (ev.at, ev.reason) if ev.reason else None
            return changed
        if isinstance(ev, Frustration):
            self.frustration, self.trend = ev.level, ev.trend
            return {"frustration"}
        if isinstance(ev, Partial):
            self._voice(ev.at)
            if ev.text:
                self.partials[ev.who] = Caption(ev.who, ev.text, ev.at, final=False)
            else:
                self.partials.pop(ev.who, None)
            return {"captions"}
        if isinstance(ev, Utterance):
            self._voice(ev.end)
            self.partials.pop(ev.who, None)
            if ev.text.strip():
                self.finals.append(Caption(ev.who, ev.text, ev.end, final=True))
            return {"captions"}
        if isinstance(ev, Speech):
            self._voice(ev.end)
            if not self._talk_known:
                self.talk_s[ev.who] = self.talk_s.get(ev.who, 0.0) + (ev.end - ev.start)
                return {"talk"}
            return set()
        if isinstance(ev, CallStart):
            self.words, self.model, self.note = ev.transcript, ev.model, ev.note
            return {"status"}
        if isinstance(ev, Status):
            return self._status(ev)
        if isinstance(ev, Summary):
            self.summary = ev
            for c in ev.commitments:
                text = c.get("text") if isinstance(c, dict) else None
                if text and text not in self.commitments:
                    self.commitments.append(text)
            self.cue = None
            return {"commitments", "cue", "status", "wrapup"}
        return set()

    def _held(self, ev: CueHeld) -> set[str]:
        if ev.reason == "replaced":
            # The cue was on screen a moment: mark that line rather than listing the cue twice.
            for r in self.recent:
                if r.id == ev.id and r.held is None:
                    r.held = "replaced"
                    return {"recent"}
        self.recent.appendleft(RecentCue(ev.at, ev.id, ev.skill, ev.severity, ev.text, "", [], held=ev.reason))
        return {"recent"}

    def _voice(self, at: float) -> None:
        self._last_voice = max(self._last_voice, at)

    def set_phase(self, phase: Phase) -> set[str]:
        """The worker says where the call is (loading, listening, ended...)."""
        self.phase = phase
        if phase.name in ("idle", "loading"):
            self.problems.clear()
        return {"status", "controls", "silence"}

    def _status(self, ev: Status) -> set[str]:
        if ev.kind in PROBLEM_CLEARED_BY:
            self.problems.pop(PROBLEM_CLEARED_BY[ev.kind], None)
            return {"status"}
        if ev.kind == "overload":
            self.overload_at = ev.at
        self.problems[ev.kind] = ev.message
        return {"status"}

    def tick(self, t: Tick) -> set[str]:
        changed: set[str] = set()
        self.now = max(self.now, t.at)
        if self.cue is not None and self.cue.until is not None and self.now >= self.cue.until:
            self.cue = None
            changed.add("cue")
        before = (self.silence_visible, int(self.quiet_s))
        if t.quiet_s is not None:
            self.quiet_s, self._quiet_known = t.quiet_s, True
        elif not self._quiet_known and self._last_voice > 0:
            self.quiet_s = max(0.0, self.now - self._last_voice)
        if (self.silence_visible, int(self.quiet_s)) != before:
            changed.add("silence")
        if t.talk_s is not None:
            self._talk_known = True
            if t.talk_s != self.talk_s:
                self.talk_s = dict(t.talk_s)
                changed.add("talk")
        if t.commitments is not None and t.commitments != self.commitments:
            self.commitments = list(t.commitments)
            changed.add("commitments")
        if t.levels is not None:
            self.levels = dict(t.levels)
        if self.overload_at is not None and self.now - self.overload_at > OVERLOAD_SHOW_S:
            self.overload_at = None
            self.problems.pop("overload", None)
            changed.add("status")
        if self.snoozed_until and self.now >= self.snoozed_until:
            self.snoozed_until = 0.0
            changed.add("controls")
        if self.hold_ended is not None and self.now - self.hold_ended[0] > HOLD_END_SHOW_S:
            self.hold_ended = None
            changed.add("controls")
        if self.snoozed_until or self.on_hold or self.hold_ended:
            changed.add("controls")  # their countdowns
        return changed

    def reset(self) -> None:
        """A new call: forget the last one's panel, keep nothing but the phase."""
        phase = self.phase
        self.__init__()  # type: ignore[misc]
        self.phase = phase


def evidence_lines(cue: Cue) -> list[str]:
    """The cue's evidence in words a person reads, for the "why" pane."""
    lines = []
    ev: dict[str, Any] = cue.evidence or {}
    if "utterance" in ev:
        lines.append(f"Heard at {clock(float(ev.get('at', cue.at)))}: \u201c{ev['utterance']}\u201d")
    for key, label in (("level", "Frustration level"), ("silent_s", "Silent for"), ("overlap_s", "Overlap"),
                       ("monologue_s", "Talking for"), ("ratio", "Your share of talk"),
                       ("wpm", "Words a minute"), ("phrases", "Phrases"), ("terms", "Terms"),
                       ("idioms", "Idioms"), ("commitments", "Promises")):  # signals: already in `why`
        if key not in ev or ev[key] in (None, [], ""):
            continue
        value = ev[key]
        if key in ("silent_s", "overlap_s", "monologue_s"):
            text = f"{float(value):.1f} s"
        elif key == "ratio":
            text = f"{100 * float(value):.0f}%"
        elif key == "level":
            text = f"{float(value):.2f}"
        elif isinstance(value, list):
            text = "; ".join(str(v) for v in value)
        else:
            text = str(value)
        lines.append(f"{label}: {text}")
    return lines


def clock(seconds: float) -> str:
    seconds = max(0.0, seconds)
    return f"{int(seconds // 60):02d}:{seconds % 60:04.1f}"


def mmss(seconds: float) -> str:
    s = int(max(0.0, seconds))
    return f"{s // 60}:{s % 60:02d}"


def countdown(seconds: float) -> str:
    """Time left, rounded up: a snooze of 5 minutes shows 5:00, not 4:59, when it starts."""
    return mmss(math.ceil(max(0.0, seconds) - 1e-6))
