"""When to ask the agent to acknowledge the customer's frustration: in a call and in a chat alike.

The cue is due when the smoothed level, or one line's score, is at the playbook's high mark and the
agent has not acknowledged it since the frustration showed, recently: "sorry about that" at the
greeting does not answer anger two minutes later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from callcue.engine.playbook import CueSpec


@dataclass
class AcknowledgeWatch:
    spec: CueSpec  # the playbook's acknowledge-frustration cue: its `level` and `utterance` marks
    window_s: float  # an acknowledgement this recent counts
    since: float | None = None  # when the frustration now showing began

    def due(self, level: float, score: float | None, start: float, now: float, empathy_at: Sequence[float]) -> bool:
        """A customer's line that began at `start` left the level at `level` (its own score `score`): is the
        cue due at `now`, given the agent's acknowledgements at `empathy_at`?"""
        if level < self.spec["level"] and (score or 0.0) < self.spec["utterance"]:
            self.since = None
            return False
        if self.since is None:
            self.since = start
        return not any(t >= self.since and now - t <= self.window_s for t in empathy_at)
