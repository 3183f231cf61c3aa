"""Cues: one on screen at a time, each with its evidence, under cooldowns and caps.

The board is the budget: rules offer cues, the board decides what the agent
sees. A more urgent cue replaces the one showing; an equal or lesser one
waits its turn for a while and is then dropped, so the agent never gets a
stack of stale prompts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from callcue.engine.events import SEVERITIES, Cue, CueAction, Event
from callcue.engine.playbook import CueSpec, Playbook

RANK = {s: i for i, s in enumerate(SEVERITIES)}


@dataclass(frozen=True)
class CueBudget:
    """What the agent's attention allows in one call, from the playbook's [playbook] section."""

    max_per_call: int  # cues shown in one call, whatever their own caps say
    show_s: float  # how long a cue stays unless a more urgent one replaces it
    wait_s: float  # how long a cue that came while another showed may wait for its turn
    snooze_s: float  # how long a snooze mutes cues

    @classmethod
    def of(cls, playbook: Playbook) -> CueBudget:
        pb = playbook.section("playbook")
        return cls(max_per_call=int(pb["max_cues_per_call"]), show_s=float(pb["show_s"]),
                   wait_s=float(pb["wait_s"]), snooze_s=float(pb["snooze_s"]))


@dataclass
class _Pending:
    spec: CueSpec
    why: str
    evidence: dict[str, Any]
    deadline: float


@dataclass
class CueBoard:
    playbook: Playbook
    budget: CueBudget | None = None  # None: the playbook's
    active: Cue | None = None
    shown: list[Cue] = field(default_factory=list)
    dismissed: list[str] = field(default_factory=list)
    snoozed_until: float = 0.0
    on_hold: bool = False
    _last: dict[str, float] = field(default_factory=dict)
    _count: dict[str, int] = field(default_factory=dict)
    _pending: list[_Pending] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.budget is None:
            self.budget = CueBudget.of(self.playbook)

    @property
    def _budget(self) -> CueBudget:
        assert self.budget is not None  # set in __post_init__
        return self.budget

    def _allowed(self, spec: CueSpec, now: float) -> bool:
        if spec.id not in self.playbook.cue_ids:
            return False
        if self._count.get(spec.id, 0) >= spec.max_per_call or len(self.shown) >= self._budget.max_per_call:
            return False
        last = self._last.get(spec.id)
        if last is not None and now - last < spec.cooldown_s:
            return False
        return not (self.on_hold or now < self.snoozed_until)

    def _show(self, spec: CueSpec, now: float, why: str, evidence: dict[str, Any]) -> Cue:
        cue = Cue(at=round(now, 3), id=spec.id, skill=spec.skill, severity=spec.severity, text=spec.text,
                  why=why or spec.why, evidence=evidence,
                  until=round(now + self._budget.show_s, 3))
        self.active = cue
        self.shown.append(cue)
        self._last[spec.id] = now
        self._count[spec.id] = self._count.get(spec.id, 0) + 1
        self._pending = [p for p in self._pending if p.spec.id != spec.id]
        return cue

    def offer(self, cue_id: str, now: float, why: str = "", evidence: dict[str, Any] | None = None) -> list[Event]:
        spec = self.playbook.cue(cue_id)
        if not self._allowed(spec, now):
            return []
        evidence = evidence or {}
        if self.active is not None and self.active.until is not None and now < self.active.until:
            if RANK[spec.severity] <= RANK[self.active.severity] or self.active.id == spec.id:
                self._pending = [p for p in self._pending if p.spec.id != spec.id]
                self._pending.append(_Pending(spec, why, evidence, now + self._budget.wait_s))
                return []
        return [self._show(spec, now, why, evidence)]

    def tick(self, now: float) -> list[Event]:
        """Each frame: retire the shown cue when its time is over and let a waiting one in."""
        if self.active is not None and self.active.until is not None and now >= self.active.until:
            self.active = None
        if self.active is not None or not self._pending:
            return []
        self._pending = [p for p in self._pending if p.deadline >= now and self._allowed(p.spec, now)]
        if not self._pending:
            return []
        best = max(self._pending, key=lambda p: (RANK[p.spec.severity], -p.deadline))
        return [self._show(best.spec, now, best.why, best.evidence)]

    def withdraw(self, cue_ids: set[str]) -> None:
        """Cues waiting for their turn that are no longer true (the chat's customer got a reply) are dropped."""
        self._pending = [p for p in self._pending if p.spec.id not in cue_ids]

    def act(self, action: str, now: float, cue_id: str | None = None) -> list[Event]:
        """The agent's controls: dismiss the cue (only `cue_id`, when given: the one the agent saw may have
        gone already, and its successor must not go with it), snooze cues, hold (mutes cues) and resume."""
        if action == "dismiss":
            if self.active is None or (cue_id is not None and self.active.id != cue_id):
                return []
            cue_id, self.active = self.active.id, None
            self.dismissed.append(cue_id)
            return [CueAction(at=round(now, 3), action="dismiss", cue=cue_id)]
        if action == "snooze":
            self.snoozed_until = now + self._budget.snooze_s
            self.active, self._pending = None, []
            return [CueAction(at=round(now, 3), action="snooze", until=round(self.snoozed_until, 3))]
        if action in ("hold", "resume"):
            self.on_hold = action == "hold"
            if self.on_hold:
                self.active, self._pending = None, []
            return [CueAction(at=round(now, 3), action=action)]
        raise ValueError(f"unknown cue action {action!r}")
