"""Playbooks: the thresholds, cue texts, skills, cooldowns and caps, with named profiles.

The default playbook is the schema: a team's playbook may leave keys out, but
every key it has must exist in the default with a value of the same kind.
"""

from __future__ import annotations

import copy
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from callcue.engine.events import SEVERITIES, SKILLS
from callcue.errors import CallcueError


@dataclass(frozen=True)
class CueSpec:
    id: str
    skill: str
    severity: str
    text: str
    why: str
    cooldown_s: float
    max_per_call: int
    params: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.params[key]


@dataclass
class Playbook:
    path: Path
    profile: str | None
    data: dict[str, Any]

    def section(self, name: str) -> dict[str, Any]:
        return self.data[name]

    def cue(self, cue_id: str) -> CueSpec:
        c = self.data["cues"][cue_id]
        fixed = ("skill", "severity", "text", "why", "cooldown_s", "max_per_call")
        return CueSpec(id=cue_id, skill=c["skill"], severity=c["severity"], text=c["text"], why=c["why"],
                       cooldown_s=float(c["cooldown_s"]), max_per_call=int(c["max_per_call"]),
                       params={k: v for k, v in c.items() if k not in fixed})

    @property
    def cue_ids(self) -> list[str]:
        return [k for k, v in self.data["cues"].items() if v.get("enabled", True)]

    @property
    def profiles(self) -> list[str]:
        return sorted(self.data.get("profiles", {}))


def default_playbook_path() -> Path:
    from callcue.paths import resources_dir

    return resources_dir() / "playbooks" / "default.toml"


def _line_of(text: str, dotted: str) -> int:
    """Best guess at the line that sets `dotted` (for messages about values, not syntax)."""
    *tables, key = dotted.split(".")
    lines = text.splitlines()
    for n, line in enumerate(lines, 1):
        s = line.strip()
        if re.match(rf"^(\"?{re.escape(key)}\"?|[\w.\-\"]*\.{re.escape(key)})\s*=", s):
            return n
    for n, line in enumerate(lines, 1):
        if tables and re.match(rf"^\[+\s*{re.escape('.'.join(tables))}\s*\]+", line.strip()):
            return n
    return 1


def _read_toml(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CallcueError(f"{path}: no such playbook file; check the path") from None
    except UnicodeDecodeError:
        raise CallcueError(f"{path}: not UTF-8 text; save the playbook as UTF-8") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as err:
        msg = str(err)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        where = f"{path}:{m.group(1)}" if m else str(path)
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg)
        raise CallcueError(f"{where}: malformed playbook: {reason}; fix the TOML at that line") from None


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _merge(base: dict[str, Any], over: dict[str, Any], schema: dict[str, Any], path: Path, text: str,
           prefix: str = "") -> None:
    for key, value in over.items():
        dotted = f"{prefix}{key}"
        if key not in schema:
            if prefix.startswith("cues.") and prefix.count(".") == 2:
                pass  # new parameters of a cue are allowed
            elif prefix == "cues.":
                raise CallcueError(f"{path}:{_line_of(text, dotted)}: unknown cue {key!r}; "
                                   f"known cues: {', '.join(schema)}")
            else:
                raise CallcueError(f"{path}:{_line_of(text, dotted)}: unknown setting {dotted!r}; "
                                   "check its spelling against resources/playbooks/default.toml")
        want = schema.get(key)
        if want is not None and _kind(want) != _kind(value):
            raise CallcueError(f"{path}:{_line_of(text, dotted)}: {dotted} must be {_kind(want)}, "
                               f"not {value!r}")
        if isinstance(value, dict):
            base.setdefault(key, {})
            _merge(base[key], value, schema.get(key, {}), path, text, dotted + ".")
        else:
            base[key] = value


def _validate(data: dict[str, Any], path: Path, text: str) -> None:
    for cue_id, c in data["cues"].items():
        where = f"{path}:{_line_of(text, f'cues.{cue_id}.severity')}"
        if c.get("severity") not in SEVERITIES:
            raise CallcueError(f"{where}: cue {cue_id!r} severity must be one of {', '.join(SEVERITIES)}")
        if c.get("skill") not in SKILLS:
            raise CallcueError(f"{path}:{_line_of(text, f'cues.{cue_id}.skill')}: cue {cue_id!r} skill "
                               f"must be one of {', '.join(SKILLS)}")
        for k in ("cooldown_s", "max_per_call"):
            if c.get(k, 0) < 0:
                raise CallcueError(f"{path}:{_line_of(text, f'cues.{cue_id}.{k}')}: {k} cannot be negative")
    levels, card = data["summary"], data["scorecard"]
    if not 0 < levels["high_frustration"] <= levels["very_high_frustration"] <= 1:
        raise CallcueError(f"{path}:{_line_of(text, 'summary.high_frustration')}: summary.high_frustration "
                           "and very_high_frustration must be levels from 0 to 1, the high one not above the very high")
    if not 0 <= card["fair"] <= card["good"] <= 100:
        raise CallcueError(f"{path}:{_line_of(text, 'scorecard.fair')}: scorecard.fair and good must be scores "
                           "from 0 to 100, fair not above good")


def load_playbook(path: str | Path | None = None, profile: str | None = None) -> Playbook:
    default_path = default_playbook_path()
    schema, default_text = _read_toml(default_path)
    data = copy.deepcopy(schema)
    data.pop("profiles", None)
    profiles = dict(schema.get("profiles", {}))
    used_path, used_text = default_path, default_text
    if path is not None and Path(path).resolve() != default_path.resolve():
        used_path = Path(path)
        team, used_text = _read_toml(used_path)
        team_profiles = team.pop("profiles", {})
        if not isinstance(team_profiles, dict):
            raise CallcueError(f"{used_path}:{_line_of(used_text, 'profiles')}: 'profiles' must be tables")
        _merge(data, team, schema, used_path, used_text)
        profiles.update(team_profiles)
    if profile:
        if profile not in profiles:
            names = ", ".join(sorted(profiles)) or "none"
            raise CallcueError(f"{used_path}: no profile {profile!r}; profiles here: {names}")
        _merge(data, profiles[profile], schema, used_path, used_text)
    _validate(data, used_path, used_text)
    data["profiles"] = profiles
    return Playbook(path=used_path, profile=profile, data=data)
