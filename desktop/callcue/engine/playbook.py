"""Playbooks: the thresholds, cue texts, skills, cooldowns and caps, with named profiles.

The default playbook is the schema: a team's playbook may leave keys out, but
every key it has must exist in the default with a value of the same kind, and
within the key's range (RULES below). A mistake is reported with the file and line.
"""

from __future__ import annotations

import functools
import json
import math
import re
import tomllib
from collections.abc import Callable
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


# ---- what each key may be -----------------------------------------------------------------------
#
# The default playbook gives each key its kind (a number, text, a table ...); RULES gives numbers their
# range, and text its choices. A key is written as in the playbook, with `*` for any one name (any cue).
# The most specific pattern wins: an exact key before `cues.*.level`. A number with no rule must only be
# finite; tests/engine/test_playbook.py checks that every number of the default playbook has a rule, so
# a new key gets one line here, e.g. `"frustration.high": FRACTION,`, `"cues.*.snooze_s": above(0),`,
# `"scorecard.weights.*": FRACTION,` (every key of a table), `"summary.bands": ListOf(FRACTION, True),`.


@dataclass(frozen=True)
class Number:
    """A finite number in [lo, hi] (either end open, or absent); `whole`: an integer (not 2.0)."""

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    whole: bool = False

    def ok(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.whole and not isinstance(value, int):
            return False
        if isinstance(value, float) and not math.isfinite(value):  # (an int of 400 digits is no float)
            return False
        if self.lo is not None and (value < self.lo or (self.lo_open and value == self.lo)):
            return False
        return self.hi is None or not (value > self.hi or (self.hi_open and value == self.hi))

    @property
    def want(self) -> str:
        noun = "a whole number" if self.whole else "a number"
        lo, hi = _num(self.lo), _num(self.hi)
        if self.lo is not None and self.hi is not None:
            if not self.lo_open and not self.hi_open:
                return f"{noun} from {lo} to {hi}"
            return (f"{noun} {'above' if self.lo_open else 'at least'} {lo} and "
                    f"{'below' if self.hi_open else 'at most'} {hi}")
        if self.lo is not None:
            return f"{noun} above {lo}" if self.lo_open else f"{noun}, {lo} or more"
        if self.hi is not None:
            return f"{noun} below {hi}" if self.hi_open else f"{noun}, {hi} or less"
        return f"a finite {noun[2:]}"


@dataclass(frozen=True)
class OneOf:
    """Text that must be one of `choices`."""

    choices: tuple[str, ...]

    def ok(self, value: Any) -> bool:
        return value in self.choices

    @property
    def want(self) -> str:
        return "one of " + ", ".join(self.choices)


@dataclass(frozen=True)
class Flag:
    def ok(self, value: Any) -> bool:
        return isinstance(value, bool)

    want = "true or false"


@dataclass(frozen=True)
class Tables:
    """A list of inline tables whose keys are all text: `required` ones and `optional` ones."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    def bad_item(self, value: list[Any]) -> int | None:
        """The index of the first item that is not such a table."""
        keys = set(self.required) | set(self.optional)
        for i, t in enumerate(value):
            if not (isinstance(t, dict) and set(self.required) <= set(t) <= keys
                    and all(isinstance(v, str) for v in t.values())):
                return i
        return None

    def ok(self, value: Any) -> bool:
        return isinstance(value, list) and self.bad_item(value) is None

    @property
    def want(self) -> str:
        keys = ", ".join(f'{k} = "..."' for k in self.required)
        opt = "".join(f', {k} = "..." if wanted' for k in self.optional)
        return f"a list of tables {{ {keys}{opt} }}"


@dataclass(frozen=True)
class ListOf:
    """A list whose every item meets `item` (score bands: `ListOf(FRACTION, ascending=True)`)."""

    item: Number | OneOf
    ascending: bool = False
    min_len: int = 0

    def ok(self, value: Any) -> bool:
        if not isinstance(value, list) or len(value) < self.min_len or not all(self.item.ok(v) for v in value):
            return False
        return not self.ascending or all(a < b for a, b in zip(value, value[1:], strict=False))

    @property
    def want(self) -> str:
        order = " in ascending order" if self.ascending else ""
        each = self.item.want
        for one, many in (("a whole number", "whole numbers"), ("a number", "numbers"), ("one of", "each one of")):
            if each.startswith(one):
                each = many + each[len(one):]
                break
        return f"a list of {each}{order}"


Rule = Number | OneOf | Flag | Tables | ListOf


def _num(x: float | None) -> str:
    return f"{x:g}" if x is not None else ""


def at_least(lo: float) -> Number:
    return Number(lo=lo)


def above(lo: float) -> Number:
    return Number(lo=lo, lo_open=True)


def between(lo: float, hi: float) -> Number:
    return Number(lo=lo, hi=hi)


def whole(lo: int, hi: int | None = None) -> Number:
    return Number(lo=lo, hi=hi, whole=True)


FRACTION = between(0, 1)  # levels, ratios, shares: on the 0..1 scale of the engine's scores
SMOOTHING = Number(lo=0, hi=1, lo_open=True)  # 0 would freeze the level at its first reading

RULES: dict[str, Rule] = {
    "playbook.show_s": above(0),
    "playbook.wait_s": at_least(0),
    "playbook.max_cues_per_call": whole(0),
    "playbook.snooze_s": above(0),
    "playbook.min_show_s": at_least(0),
    "playbook.hold_max_s": above(0),
    "playbook.hold_settle_s": at_least(0),
    "store.save_every_s": between(0.1, 60),  # a crash loses at most this much of the call
    "summary.high_frustration": FRACTION,
    "summary.very_high_frustration": FRACTION,
    "summary.reaction_s": above(0),
    "summary.reaction_lead_s": at_least(0),
    "summary.max_episodes": whole(0),
    "scorecard.good": between(0, 100),
    "scorecard.fair": between(0, 100),
    "scorecard.*.*": between(0, 100),  # a skill's points and its thresholds (seconds, counts, shares)
    "activity.vad_mode": whole(0, 3),  # webrtcvad's aggressiveness modes
    "activity.onset_frames": whole(1, 5),  # voiced frames out of the last 5
    "activity.hangover_s": at_least(0),
    "activity.bleed_db": at_least(0),
    "activity.gate_db": at_least(0),
    "conversation.overlap_min_s": at_least(0),
    "conversation.backchannel_max_s": at_least(0),
    "conversation.backchannel_max_words": whole(0),
    "conversation.silence_s": above(0),  # 0 or less would make every pause between frames a silence
    "conversation.ratio_window_s": above(0),
    "frustration.alpha": SMOOTHING,
    "frustration.alpha_down": SMOOTHING,
    "frustration.trend_step": FRACTION,
    "frustration.voice_weight": FRACTION,
    "voice.baseline_quantile": FRACTION,
    "voice.norm_weight": whole(0, 100),  # calm utterances the norm counts for
    "voice.norm_pitch_hz": between(50, 500),
    "voice.norm_hf_balance_db": between(-40, 10),
    "voice.norm_pitch_range_st": between(0, 24),
    "voice.max_units": above(0),
    "voice.anger_mid": between(-10, 10),
    "voice.anger_width": above(0),
    "voice.calm_per_unit": between(0, 1),
    "voice.calm_floor": between(-1, 0),
    "cues.*.skill": OneOf(SKILLS),
    "cues.*.severity": OneOf(SEVERITIES),
    "cues.*.enabled": Flag(),
    "cues.*.cooldown_s": at_least(0),
    "cues.*.max_per_call": whole(0),  # 0 turns the cue off
    "cues.*.level": FRACTION,
    "cues.*.utterance": FRACTION,
    "cues.*.ack_window_s": at_least(0),
    "cues.*.after_s": at_least(0),
    "cues.*.after_hold_s": at_least(0),
    "cues.*.after_long_hold_s": at_least(0),
    "cues.*.syllables_per_s": above(0),
    "cues.*.min_words": whole(0),
    "cues.*.terms": whole(1),
    "cues.*.monologue_s": above(0),
    "cues.*.ratio": FRACTION,
    "cues.*.ratio_after_s": at_least(0),
    "cues.*.messages": whole(1),
    "cues.*.similarity": FRACTION,
    "cues.*.capitals": whole(1),
    "cues.*.exclamations": whole(1),
    "chat.show_s": above(0),
    "chat.wait_s": at_least(0),
    "chat.max_cues_per_chat": whole(0),
    "chat.ack_window_s": at_least(0),
    "chat.untimed_gap_s": above(0),
    "chat.max_body_bytes": whole(1),
    "chat.port": whole(1, 65535),
    "chat.frustration.*": between(-1, 1),  # each weight of a 0..1 signal: more than 1 outweighs the scale
    "chat.frustration.earlier_decay": FRACTION,
    "chat.frustration.center": between(-1, 1),
    "chat.frustration.steepness": above(0),
    "chat.reply.max_sentence_words": whole(1),
    "chat.reply.capitals": whole(1),
    "chat.reply.jargon_terms": whole(1),
    "chat.reply.curt_words": whole(0),
    "chat.reply.acknowledge_level": FRACTION,
    "chat.reply.templates": Tables(("flag", "say"), ("phrase",)),
}
# The voice's measures (engine.frustration.VoiceScoring): each has a unit (one step of vocal effort in
# the measure's own scale) and a weight.
VOICE_MEASURES = ("intensity_db", "hf_balance_db", "hammarberg_db", "pitch_st", "pitch_slope_st_s", "hnr_db",
                  "onset_db", "rate_ratio", "pitch_range_st")
RULES.update({f"voice.unit_{m}": above(0) for m in VOICE_MEASURES})
RULES.update({f"voice.weight_{m}": between(0, 5) for m in VOICE_MEASURES})


@functools.lru_cache(maxsize=1024)
def rule_for(dotted: str) -> Rule | None:
    """The rule of a key: the pattern of RULES that matches it with the fewest `*`."""
    parts = dotted.split(".")
    best: tuple[int, Rule] | None = None
    for pattern, rule in RULES.items():
        pat = pattern.split(".")
        if len(pat) == len(parts) and all(a in ("*", b) for a, b in zip(pat, parts, strict=True)):
            stars = pat.count("*")
            if best is None or stars < best[0]:
                best = (stars, rule)
    return best[1] if best else None


def _check_value(dotted: str, value: Any, default: Any, where: Callable[[], str]) -> None:
    """One value against its rule (any number at least finite), or a CallcueError at `where()`."""
    rule = rule_for(dotted)
    if rule is None and isinstance(value, float) and not math.isfinite(value):
        rule = Number()
    if rule is not None and not rule.ok(value):
        hint = f" (the default is {_toml(default)})" if default is not None and not isinstance(default, list) else ""
        got = f", not {_toml(value, inline=isinstance(rule, ListOf))}"
        if isinstance(rule, Tables) and isinstance(value, list):
            i = rule.bad_item(value) or 0
            got = f"; item {i + 1} is {_toml(value[i], inline=True)}"
        raise CallcueError(f"{where()}: {dotted} must be {rule.want}{got}{hint}")


def _toml(value: Any, inline: bool = False) -> str:
    """A value as the playbook writes it (true, "text", 2.5), cut short for a message; a table or list
    only `inline` (an item of a list), else it is named by its kind."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, dict):
        text = ("{ " + ", ".join(f"{k} = {_toml(v, True)}" for k, v in value.items()) + " }"
                if inline else "a table")
    elif isinstance(value, list):
        text = "[" + ", ".join(_toml(v, True) for v in value) + "]" if inline else "a list"
    else:
        text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ---- where a key is set --------------------------------------------------------------------------

_KEY = r"(?:[A-Za-z0-9_-]+|\"(?:[^\"\\]|\\.)*\"|'[^']*')"
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_HEADER = re.compile(rf"^\[\[?\s*({_DOTTED})\s*\]\]?\s*(?:#.*)?$")
_ASSIGN = re.compile(rf"^({_DOTTED})\s*=")


def _names(dotted: str) -> list[str]:
    return [a or b or c for a, b, c in re.findall(r"\"((?:[^\"\\]|\\.)*)\"|'([^']*)'|([A-Za-z0-9_-]+)", dotted)]


def _line_of(text: str, dotted: str) -> int:
    """The line that sets `dotted` (for messages about values, not syntax): the key's own line, else the
    line of the nearest table around it, else 1."""
    want = dotted.split(".")
    table: list[str] = []
    best_table = (0, 1)  # (length of the matching header, its line)
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        m = _HEADER.match(s)
        if m:
            table = _names(m.group(1))
            if table == want[:len(table)] and len(table) > best_table[0]:
                best_table = (len(table), n)
            continue
        m = _ASSIGN.match(s)
        if m:
            full = table + _names(m.group(1))
            if full == want:
                return n
            if full == want[:len(full)] and len(full) > best_table[0]:
                best_table = (len(full), n)  # `cues.x = { ... }` or a dotted key holding the table
    return best_table[1]


def _read_toml(path: Path) -> tuple[dict[str, Any], str]:
    if path.is_dir():
        raise CallcueError(f"{path}: is a folder, not a playbook; give the playbook's .toml file")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CallcueError(f"{path}: no such playbook file; check the path") from None
    except UnicodeDecodeError:
        raise CallcueError(f"{path}: not UTF-8 text; save the playbook as UTF-8") from None
    except OSError as err:
        raise CallcueError(f"{path}: cannot read the playbook ({err.strerror or err}); check its "
                           "permissions") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as err:
        msg = str(err)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        where = f"{path}:{m.group(1)}" if m else str(path)
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg)
        raise CallcueError(f"{where}: malformed playbook: {reason}; fix the TOML at that line") from None
    except (ValueError, RecursionError) as err:  # tomllib's int() of thousands of digits; lists nested deep
        why = "a list nested too deeply" if isinstance(err, RecursionError) else "a number of thousands of digits"
        raise CallcueError(f"{path}: malformed playbook: {why}; fix the TOML") from None


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
           prefix: str = "", located: str = "") -> None:
    """Put `over` (a file's tables, or one profile's) into `base`, each value checked against the
    default's kind and its rule. `located` is where `over` sits in its file (`profiles.NAME.`)."""
    for key, value in over.items():
        dotted = f"{prefix}{key}"

        def where() -> str:  # looked up only for a message: it reads the whole file
            return f"{path}:{_line_of(text, located + dotted)}"  # noqa: B023 (used before the loop moves on)

        if key not in schema:
            if prefix.startswith("cues.") and prefix.count(".") == 2:
                pass  # new parameters of a cue are allowed
            elif prefix == "cues.":
                raise CallcueError(f"{where()}: unknown cue {key!r}; known cues: {', '.join(schema)}")
            else:
                raise CallcueError(f"{where()}: unknown setting {dotted!r}; "
                                   "check its spelling against resources/playbooks/default.toml")
        want = schema.get(key)
        if want is not None and _kind(want) != _kind(value):
            raise CallcueError(f"{where()}: {dotted} must be {_kind(want)}, not {_toml(value)}")
        if isinstance(value, dict):
            base.setdefault(key, {})
            _merge(base[key], value, schema.get(key, {}), path, text, dotted + ".", located)
        else:
            _check_value(dotted, value, want, where)
            base[key] = value


def _relations(data: dict[str, Any], path: Path, text: str) -> None:
    """What one key's range cannot say: how two keys stand to each other."""
    levels, card = data["summary"], data["scorecard"]
    if not levels["high_frustration"] <= levels["very_high_frustration"]:
        raise CallcueError(f"{path}:{_line_of(text, 'summary.high_frustration')}: summary.high_frustration "
                           "and very_high_frustration must be levels from 0 to 1, the high one not above the very high")
    if not card["fair"] <= card["good"]:
        raise CallcueError(f"{path}:{_line_of(text, 'scorecard.fair')}: scorecard.fair and good must be scores "
                           "from 0 to 100, fair not above good")
    if data["playbook"]["min_show_s"] > data["playbook"]["show_s"]:
        raise CallcueError(f"{path}:{_line_of(text, 'playbook.min_show_s')}: playbook.min_show_s cannot be longer "
                           "than show_s (a cue would have to stay longer than it is shown)")


def load_playbook(path: str | Path | None = None, profile: str | None = None) -> Playbook:
    default_path = default_playbook_path()
    schema, default_text = _read_toml(default_path)
    data: dict[str, Any] = {}
    default_profiles = schema.pop("profiles", {})
    _merge(data, schema, schema, default_path, default_text)  # the default's own values meet the rules too
    # each profile, and the file (and its text) it was read from
    profiles = {name: (p, default_path, default_text) for name, p in default_profiles.items()}
    used_path, used_text = default_path, default_text
    if path is not None and Path(path).resolve() != default_path.resolve():
        used_path = Path(path)
        team, used_text = _read_toml(used_path)
        team_profiles = team.pop("profiles", {})
        if not isinstance(team_profiles, dict):
            raise CallcueError(f"{used_path}:{_line_of(used_text, 'profiles')}: 'profiles' must be tables")
        _merge(data, team, schema, used_path, used_text)
        profiles.update({name: (p, used_path, used_text) for name, p in team_profiles.items()})
    for name, (p, from_path, from_text) in profiles.items():
        if not isinstance(p, dict):
            raise CallcueError(f"{from_path}:{_line_of(from_text, f'profiles.{name}')}: profile {name!r} must be "
                               f"a table ([profiles.{name}]), not {_toml(p)}")
    if profile:
        if profile not in profiles:
            names = ", ".join(sorted(profiles)) or "none"
            raise CallcueError(f"{used_path}: no profile {profile!r}; profiles here: {names}")
        p, from_path, from_text = profiles[profile]
        _merge(data, p, schema, from_path, from_text, located=f"profiles.{profile}.")
    data["profiles"] = {name: p for name, (p, _, _) in profiles.items()}
    _relations(data, used_path, used_text)
    return Playbook(path=used_path, profile=profile, data=data)
