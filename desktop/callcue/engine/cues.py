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
SNOOZE_S = 300.0


@dataclass
class _Pending:
    spec: CueSpec
    why: str
    evidence: dict[str, Any]
    deadline: float


@dataclass
class CueBoard:
    playbook: Playbook
    active: Cue | None = None
    shown: list[Cue] = field(default_factory=list)
    dismissed: list[str] = field(default_factory=list)
    snoozed_until: float = 0.0
    on_hold: bool = False
    _last: dict[str, float] = field(default_factory=dict)
    _count: dict[str, int] = field(default_factory=dict)
    _pending: list[_Pending] = field(default_factory=list)

    def _allowed(self, spec: CueSpec, now: float) -> bool:
        pb = self.playbook.section("playbook")
        if spec.id not in self.playbook.cue_ids:
            return False
        if self._count.get(spec.id, 0) >= spec.max_per_call or len(self.shown) >= pb["max_cues_per_call"]:
            return False
        last = self._last.get(spec.id)
        if last is not None and now - last < spec.cooldown_s:
            return False
        return not (self.on_hold or now < self.snoozed_until)

    def _show(self, spec: CueSpec, now: float, why: str, evidence: dict[str, Any]) -> Cue:
        cue = Cue(at=round(now, 3), id=spec.id, skill=spec.skill, severity=spec.severity, text=spec.text,
                  why=why or spec.why, evidence=evidence,
                  until=round(now + float(self.playbook.section("playbook")["show_s"]), 3))
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
                wait = float(self.playbook.section("playbook")["wait_s"])
                self._pending = [p for p in self._pending if p.spec.id != spec.id]
                self._pending.append(_Pending(spec, why, evidence, now + wait))
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

    def act(self, action: str, now: float) -> list[Event]:
        """The agent's controls: dismiss the cue, snooze cues, hold (mutes cues) and resume."""
        if action == "dismiss":
            if self.active is None:
                return []
            cue_id, self.active = self.active.id, None
            self.dismissed.append(cue_id)
            return [CueAction(at=round(now, 3), action="dismiss", cue=cue_id)]
        if action == "snooze":
            self.snoozed_until = now + SNOOZE_S
            self.active, self._pending = None, []
            return [CueAction(at=round(now, 3), action="snooze", until=round(self.snoozed_until, 3))]
        if action in ("hold", "resume"):
            self.on_hold = action == "hold"
            if self.on_hold:
                self.active, self._pending = None, []
            return [CueAction(at=round(now, 3), action=action)]
        raise ValueError(f"unknown cue action {action!r}")
