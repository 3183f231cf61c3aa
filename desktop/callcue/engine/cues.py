"""Cues: one on screen at a time, each with its evidence, under cooldowns and caps.

The board is the budget: rules offer cues, the board decides what the agent
sees. A more urgent cue replaces the one showing; an equal or lesser one
waits its turn for a while and is then dropped, so the agent never gets a
stack of stale prompts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from callcue.engine.events import SEVERITIES, Cue, CueAction, CueHeld, Event
from callcue.engine.playbook import CueSpec, Playbook

RANK = {s: i for i, s in enumerate(SEVERITIES)}
NEVER_MUTED = "alert"  # snooze and hold silence coaching cues; an alert (an escalation request) always shows


@dataclass(frozen=True)
class CueBudget:
    """What the agent's attention allows in one call, from the playbook's [playbook] section."""

    max_per_call: int  # cues shown in one call, whatever their own caps say
    show_s: float  # how long a cue stays unless a more urgent one replaces it
    wait_s: float  # how long a cue that came while another showed may wait for its turn
    snooze_s: float  # how long a snooze mutes cues
    min_show_s: float = 0.0  # a cue replaced sooner was not read: it is not counted as shown
    hold_max_s: float = float("inf")  # a hold ends by itself after this long ...
    hold_settle_s: float = 0.0  # ... or when both sides speak again, this long after it began

    @classmethod
    def of(cls, playbook: Playbook) -> CueBudget:
        pb = playbook.section("playbook")
        return cls(max_per_call=int(pb["max_cues_per_call"]), show_s=float(pb["show_s"]),
                   wait_s=float(pb["wait_s"]), snooze_s=float(pb["snooze_s"]), min_show_s=float(pb["min_show_s"]),
                   hold_max_s=float(pb["hold_max_s"]), hold_settle_s=float(pb["hold_settle_s"]))


@dataclass
class _Pending:
    spec: CueSpec
    why: str
    evidence: dict[str, Any]
    deadline: float


# Why a cue a rule offered was not shown, for those the agent should know of (a cue's own cooldown and
# cap are not among them: it has just been said, or said often enough).
HELD_REASONS = {"snooze": "snoozed", "hold": "on hold", "call-cap": "the call's cap of cues was reached",
                "expired": "waited too long behind other cues", "replaced": "replaced before it could be read"}


@dataclass
class CueBoard:
    playbook: Playbook
    budget: CueBudget | None = None  # None: the playbook's
    active: Cue | None = None
    shown: list[Cue] = field(default_factory=list)
    dismissed: list[str] = field(default_factory=list)
    snoozed_until: float = 0.0
    on_hold: bool = False
    hold_since: float | None = None
    _last: dict[str, float] = field(default_factory=dict)
    _count: dict[str, int] = field(default_factory=dict)
    _pending: list[_Pending] = field(default_factory=list)
    _held: set[tuple[str, str]] = field(default_factory=set)  # (cue, reason) said in this mute or call
    _spoke: set[str] = field(default_factory=set)  # who has spoken since the hold settled

    def __post_init__(self) -> None:
        if self.budget is None:
            self.budget = CueBudget.of(self.playbook)

    @property
    def _budget(self) -> CueBudget:
        assert self.budget is not None  # set in __post_init__
        return self.budget

    def _blocked(self, spec: CueSpec, now: float) -> str | None:
        """Why `spec` may not show now (None: it may)."""
        if spec.id not in self.playbook.cue_ids:
            return "off"
        if self._count.get(spec.id, 0) >= spec.max_per_call:
            return "cap"
        if len(self.shown) >= self._budget.max_per_call:
            return "call-cap"
        last = self._last.get(spec.id)
        if last is not None and now - last < spec.cooldown_s:
            return "cooldown"
        if spec.severity != NEVER_MUTED:
            if self.on_hold:
                return "hold"
            if now < self.snoozed_until:
                return "snooze"
        return None

    def _held_back(self, spec: CueSpec, now: float, reason: str) -> list[Event]:
        """A record of a cue the agent did not see, once per cue and reason (per snooze or hold for those)."""
        if reason not in HELD_REASONS or (spec.id, reason) in self._held:
            return []
        if reason != "replaced":  # a replaced cue may be replaced again, and each time is said
            self._held.add((spec.id, reason))
        return [CueHeld(at=round(now, 3), id=spec.id, skill=spec.skill, severity=spec.severity, text=spec.text,
                        reason=reason)]

    def _show(self, spec: CueSpec, now: float, why: str, evidence: dict[str, Any]) -> list[Event]:
        out: list[Event] = []
        if self.active is not None and now - self.active.at < self._budget.min_show_s:
            out += self._unshow(self.active, now)
        cue = Cue(at=round(now, 3), id=spec.id, skill=spec.skill, severity=spec.severity, text=spec.text,
                  why=why or spec.why, evidence=evidence,
                  until=round(now + self._budget.show_s, 3))
        self.active = cue
        self.shown.append(cue)
        self._last[spec.id] = now
        self._count[spec.id] = self._count.get(spec.id, 0) + 1
        self._pending = [p for p in self._pending if p.spec.id != spec.id]
        return out + [cue]

    def _unshow(self, cue: Cue, now: float) -> list[Event]:
        """A more severe cue replaces `cue` before the agent could read it: it does not count as shown, and
        it waits for its turn again."""
        spec = self.playbook.cue(cue.id)
        self.shown.remove(cue)
        self._count[cue.id] -= 1
        self._last.pop(cue.id, None)
        self._pending.append(_Pending(spec, cue.why, cue.evidence, now + self._budget.wait_s))
        return self._held_back(spec, now, "replaced")

    def offer(self, cue_id: str, now: float, why: str = "", evidence: dict[str, Any] | None = None) -> list[Event]:
        spec = self.playbook.cue(cue_id)
        blocked = self._blocked(spec, now)
        if blocked is not None:
            return self._held_back(spec, now, blocked)
        evidence = evidence or {}
        if self.active is not None and self.active.until is not None and now < self.active.until:
            if RANK[spec.severity] <= RANK[self.active.severity] or self.active.id == spec.id:
                self._pending = [p for p in self._pending if p.spec.id != spec.id]
                self._pending.append(_Pending(spec, why, evidence, now + self._budget.wait_s))
                return []
        return self._show(spec, now, why, evidence)

    def tick(self, now: float) -> list[Event]:
        """Each frame: end a hold that has lasted its limit, retire the shown cue when its time is over and
        let a waiting one in."""
        out: list[Event] = []
        if self.on_hold and self.hold_since is not None and now - self.hold_since >= self._budget.hold_max_s:
            out += self._resume(now, "the hold reached its limit")
        if self.active is not None and self.active.until is not None and now >= self.active.until:
            self.active = None
        if self.active is not None or not self._pending:
            return out
        keep = []
        for p in self._pending:
            blocked = "expired" if p.deadline < now else self._blocked(p.spec, now)
            if blocked is None:
                keep.append(p)
            else:
                out += self._held_back(p.spec, now, blocked)
        self._pending = keep
        if not self._pending:
            return out
        best = max(self._pending, key=lambda p: (RANK[p.spec.severity], -p.deadline))
        return out + self._show(best.spec, now, best.why, best.evidence)

    def spoke(self, who: str, at: float) -> list[Event]:
        """`who` began speaking at `at`: a hold ends once both sides have spoken again after it settled."""
        if not self.on_hold or self.hold_since is None or at < self.hold_since + self._budget.hold_settle_s:
            return []
        self._spoke.add(who)
        if {"agent", "customer"} <= self._spoke:
            return self._resume(at, "both sides are speaking again")
        return []

    def withdraw(self, cue_ids: set[str]) -> None:
        """Cues waiting for their turn that are no longer true (the chat's customer got a reply) are dropped."""
        self._pending = [p for p in self._pending if p.spec.id not in cue_ids]

    def _mute(self) -> None:
        """Snooze or hold: the cue showing and those waiting go, but for the ones that are never muted."""
        if self.active is not None and self.active.severity != NEVER_MUTED:
            self.active = None
        self._pending = [p for p in self._pending if p.spec.severity == NEVER_MUTED]
        self._held = {(c, r) for c, r in self._held if r not in ("snooze", "hold")}

    def _resume(self, now: float, reason: str | None = None) -> list[Event]:
        self.on_hold, self.hold_since = False, None
        self._spoke.clear()
        return [CueAction(at=round(now, 3), action="resume", reason=reason)]

    def act(self, action: str, now: float, cue_id: str | None = None) -> list[Event]:
        """The agent's controls: dismiss the cue (only `cue_id`, when given: the one the agent saw may have
        gone already, and its successor must not go with it), snooze cues and cancel the snooze
        ("unsnooze"), hold and resume. Snooze and hold mute coaching cues, never an alert."""
        at = round(now, 3)
        if action == "dismiss":
            if self.active is None or (cue_id is not None and self.active.id != cue_id):
                return []
            cue_id, self.active = self.active.id, None
            self.dismissed.append(cue_id)
            return [CueAction(at=at, action="dismiss", cue=cue_id)]
        if action == "snooze":
            self.snoozed_until = now + self._budget.snooze_s
            self._mute()
            return [CueAction(at=at, action="snooze", until=round(self.snoozed_until, 3))]
        if action == "unsnooze":
            if now >= self.snoozed_until:
                return []
            self.snoozed_until = 0.0
            return [CueAction(at=at, action="unsnooze")]
        if action == "hold":
            self.on_hold, self.hold_since = True, now
            self._spoke.clear()
            self._mute()
            return [CueAction(at=at, action="hold")]
        if action == "resume":
            return self._resume(now) if self.on_hold else []
        raise ValueError(f"unknown cue action {action!r}")
