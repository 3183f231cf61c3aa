"""Who may open which session in the review window (and `review --list`).

Agents see their own sessions. What a supervisor sees is a policy setting:
`all` sessions, their `team`'s, only `flagged` ones (an escalation, or peak frustration at or
above `flag_peak`), or `own` only. The policy comes from the settings; a plain dict works too,
so the review window does not depend on the settings module's shape.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from callcue.errors import CallcueError
from callcue.store import StoredSession

ROLES = ("agent", "supervisor")
SUPERVISOR_SCOPES = ("all", "team", "flagged", "own")


@dataclass
class AccessPolicy:
    role: str = "agent"
    user: str | None = None  # the agent name of the person at the keyboard; None: not set
    supervisors_see: str = "all"
    team: tuple[str, ...] = ()
    flag_peak: float = 0.7

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise CallcueError(f"Review role {self.role!r} is not one of {', '.join(ROLES)}; fix it in settings.")
        if self.supervisors_see not in SUPERVISOR_SCOPES:
            raise CallcueError(f"Supervisor policy {self.supervisors_see!r} is not one of "
                               f"{', '.join(SUPERVISOR_SCOPES)}; fix it in settings.")
        self.team = tuple(self.team)

    @classmethod
    def from_settings(cls, value: Any = None) -> AccessPolicy:
        """From a dict, an AccessPolicy, or a settings object with `review_*` attributes
        (review_role, review_user, review_policy, review_team); unknown keys are ignored."""
        if value is None:
            return cls()
        if isinstance(value, AccessPolicy):
            return value
        names = {f.name for f in fields(cls)}
        if isinstance(value, dict):
            data = {k: v for k, v in value.items() if k in names}
            if "policy" in value and "supervisors_see" not in data:
                data["supervisors_see"] = value["policy"]
            return cls(**data)
        data = {}
        for name, attr in (("role", "review_role"), ("user", "review_user"), ("supervisors_see", "review_policy"),
                           ("team", "review_team"), ("flag_peak", "review_flag_peak")):
            if getattr(value, attr, None) is not None:
                data[name] = getattr(value, attr)
        return cls(**data)

    def own(self, session: StoredSession) -> bool:
        # With no user set, this computer's store is the user's own: every session on it is theirs.
        return self.user is None or session.agent in (self.user, None)

    def allows(self, session: StoredSession) -> bool:
        if self.own(session):
            return True
        if self.role == "agent":
            return False
        scope = self.supervisors_see
        if scope == "all":
            return True
        if scope == "team":
            return session.agent in self.team
        if scope == "flagged":
            return bool(session.flags) or (session.peak_frustration or 0.0) >= self.flag_peak
        return False

    def describe(self) -> str:
        if self.user is None:
            return "all sessions on this computer (no agent name set)"
        who = self.user
        if self.role == "agent":
            return f"agent {who}: own sessions"
        scope = {"all": "all sessions", "team": f"team {', '.join(self.team) or '(empty)'}",
                 "flagged": f"flagged sessions (escalation or peak >= {self.flag_peak:.1f})",
                 "own": "own sessions"}[self.supervisors_see]
        return f"supervisor {who}: {scope}"


def visible(sessions: list[StoredSession], policy: AccessPolicy) -> list[StoredSession]:
    return [s for s in sessions if policy.allows(s)]
