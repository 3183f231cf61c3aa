"""Fuzzing the playbook reader (issue 19): a team playbook of any keys and values loads as a playbook
whose every value meets its rule, and the engine runs on it; or it is one CallcueError line with the
file and line. Never another exception. A few seconds (hypothesis, no example database)."""

from __future__ import annotations

import os
from pathlib import Path

# hypothesis keeps a cache of its own: in pytest's cache folder of the project, not a new .hypothesis/
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY",
                      str(Path(__file__).resolve().parents[2] / ".pytest_cache" / "hypothesis"))

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from callcue.engine.playbook import Number, load_playbook, rule_for
from callcue.errors import CallcueError

FUZZ = settings(max_examples=120, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _leaves(table: dict, prefix: str = "") -> list[str]:
    out = []
    for key, value in table.items():
        if isinstance(value, dict):
            out += _leaves(value, f"{prefix}{key}.")
        else:
            out.append(prefix + key)
    return out


DEFAULT = load_playbook().data
KEYS = _leaves({k: v for k, v in DEFAULT.items() if k != "profiles"})
TABLES = sorted({k.rsplit(".", 1)[0] for k in KEYS})


def _edges(key: str) -> list[float]:
    """Values at and just beyond the ends of a key's range: where range checks go wrong."""
    rule = rule_for(key)
    if not isinstance(rule, Number):
        return [0]
    out: list[float] = []
    for end in (rule.lo, rule.hi):
        if end is not None:
            out += [end, end - 1e-9, end + 1e-9, end - 1, end + 1]
            if rule.whole:
                out += [int(end), int(end) - 1, int(end) + 1]
    return out


def _default(key: str):
    table = DEFAULT
    for part in key.split("."):
        table = table[part]
    return table


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a TOML basic string: JSON's escapes of control characters
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + " }"


scalars = (st.booleans() | st.integers(-10, 100) | st.integers() | st.floats() | st.text(max_size=6)
           | st.integers(10**300, 10**320)  # no float holds them
           | st.sampled_from(["info", "warn", "alert", "empathy", "cold", ""]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.sampled_from(["flag", "say", "phrase", "x"]), inner, max_size=3),
                      max_leaves=8)


@st.composite
def setting(draw) -> tuple[str, object]:
    """A key of the default (or a cue's new parameter, or a misspelt one) and a value for it."""
    key = draw(st.sampled_from(KEYS) | st.sampled_from(TABLES).map(lambda t: f"{t}.{draw(st.text('abz_', max_size=4))}")
               | st.sampled_from(TABLES))
    huge = st.sampled_from([10**400, -(10**400), 2**64, 1e308, -0.0])  # past what a float holds, and edges
    value = draw(st.sampled_from(_edges(key)) | st.just(_default(key)) | huge | values) if key in KEYS else draw(values)
    return key, value


def quoted(dotted: str) -> str:
    return ".".join(json.dumps(part) for part in dotted.split("."))


@st.composite
def team_playbook(draw) -> tuple[str, str | None]:
    unique = {"max_size": 4, "unique_by": lambda kv: kv[0]}
    lines = [f"{quoted(k)} = {toml_value(v)}" for k, v in draw(st.lists(setting(), **unique))]
    profile = None
    if draw(st.booleans()):
        profile = draw(st.sampled_from(["night", "gentle"]))
        lines += [f"profiles.{profile}.{quoted(k)} = {toml_value(v)}" for k, v in draw(st.lists(setting(), **unique))]
    if draw(st.integers(0, 9)) == 0:  # now and then, a syntax error or plain junk
        lines.insert(draw(st.integers(0, len(lines))), draw(st.text(max_size=20)))
    return "\n".join(lines) + "\n", profile


def meets_rules(table: dict, prefix: str = "") -> None:
    for key, value in table.items():
        if isinstance(value, dict):
            meets_rules(value, f"{prefix}{key}.")
            continue
        rule = rule_for(prefix + key)
        if rule is not None:
            assert rule.ok(value), (prefix + key, value)
        elif isinstance(value, float):
            assert math.isfinite(value), (prefix + key, value)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz-playbooks")


@FUZZ
@given(team=team_playbook())
def test_fuzz_team_playbooks(folder, team):
    from callcue.chat.engine import ChatSession
    from callcue.engine.pipeline import Engine

    text, profile = team
    path = folder / "team.toml"
    path.write_text(text, encoding="utf-8")
    try:
        pb = load_playbook(path, profile)
    except CallcueError as err:
        msg = str(err)
        assert msg.startswith(f"{path}:") and "\n" not in msg and len(msg) < 600, msg
        event("refused: " + msg.split(": ", 1)[1].split(" must be ")[0][:40])
        return
    event("loaded and ran")
    meets_rules({k: v for k, v in pb.data.items() if k != "profiles"})
    # what it holds runs: a second of a call (voice on one side) and a chat message
    engine = Engine(pb, channels=("agent", "customer"))
    engine.start(duration_s=1.0)
    rng = np.random.default_rng(0)
    for _ in range(10):
        engine.feed("agent", (rng.standard_normal(1600) * 4000).astype(np.int16))
        engine.feed("customer", np.zeros(1600, np.int16))
    engine.finish()
    ChatSession(chat_id="fuzz", playbook=pb).add("customer", "WHERE IS MY ORDER?? This is the third time!", 0.0)


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200) | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_fuzz_any_bytes_as_a_playbook(folder, data):
    path = folder / "any.toml"
    path.write_bytes(data)
    try:
        load_playbook(path)
    except CallcueError as err:
        assert str(err).startswith(str(path)) and "\n" not in str(err)
