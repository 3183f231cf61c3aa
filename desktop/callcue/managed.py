"""Managed settings: what IT decides for every agent on a PC, in one system-wide TOML file.

Where the file is (the first that applies):
  CALLCUE_MANAGED_CONFIG   a path (tests, or IT keeping it elsewhere); empty means "no managed file"
  Linux                    /etc/callcue/managed.toml
  Windows                  %ProgramData%\\Callcue\\managed.toml
  macOS                    /Library/Application Support/Callcue/managed.toml

What it holds (docs/deploy.md has the full list):

    locked = ["profile", "playbook", "model", "storage"]   # or ["*"]: every key set below
    [settings]
    profile = "acme-billing"
    playbook = "C:/Callcue/acme.toml"
    model = "D:/Models/vosk-model-small-en-us-0.15"
    storage = "D:/CallcueData/%USERNAME%"
    captions = false

Precedence, lowest first: the defaults; a managed value that is not locked (IT's default); the
user's own settings file; CALLCUE_* environment variables; a locked managed value. So a locked key
wins over everything, and an unlocked one is only a starting point.

A file that cannot be read or parsed is reported with its path and line, and Callcue runs on its
defaults: a typo by IT must not stop a contact centre. A single bad value or unknown key is
reported the same way and skipped; the rest of the file still applies.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tomllib
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_PATH = "CALLCUE_MANAGED_CONFIG"

# Keys that are not overlay settings but change where or with what the whole program works. They
# reach every command through the environment variable the rest of Callcue already reads.
PROCESS_KEYS = {
    "storage": "CALLCUE_DATA_DIR",
    "model": "CALLCUE_MODEL",
    "playbook": "CALLCUE_PLAYBOOK",
    "profile": "CALLCUE_PROFILE",
}


@dataclass
class Managed:
    values: dict[str, Any] = field(default_factory=dict)
    locked: set[str] = field(default_factory=set)
    source: Path | None = None  # the file read, None when there is none
    error: str | None = None  # the whole file was unusable: what, where (path:line), what to do
    warnings: list[str] = field(default_factory=list)  # single values skipped, each with path:line
    exported: dict[str, str] = field(default_factory=dict)  # env names activate() set, and to what

    @property
    def problems(self) -> list[str]:
        return ([self.error] if self.error else []) + self.warnings


def default_path(platform: str | None = None) -> Path:
    platform = platform or sys.platform
    if platform == "win32":
        base = os.environ.get("ProgramData") or os.environ.get("ALLUSERSPROFILE") or r"C:\ProgramData"
        return Path(base) / "Callcue" / "managed.toml"
    if platform == "darwin":
        return Path("/Library/Application Support/Callcue/managed.toml")
    return Path("/etc/callcue/managed.toml")


def managed_path(env: Mapping[str, str] | None = None) -> Path | None:
    env = os.environ if env is None else env
    if ENV_PATH in env:
        value = env[ENV_PATH].strip()
        return Path(value).expanduser() if value else None
    return default_path()


def known_keys() -> dict[str, str]:
    """Every key a managed file may set, with the environment variable that overrides it."""
    from callcue.settings import keys

    names = {k: f"CALLCUE_{k.upper()}" for k in keys()}
    names.update(PROCESS_KEYS)
    return names


def _line_of(text: str, key: str, table: str | None = None) -> int:
    """The line that sets `key` (inside [table] when given), for messages about values."""
    in_table = table is None
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if s.startswith("["):
            in_table = table is not None and re.match(rf"^\[\s*{re.escape(table)}\s*\]", s) is not None
            continue
        if in_table and re.match(rf"^\"?{re.escape(key)}\"?\s*=", s):
            return n
    return 1


def _unusable(path: Path, where: str, why: str) -> str:
    return (f"{where}: managed settings unusable: {why}; Callcue runs on its defaults until IT fixes "
            f"{path}")


def load_managed(path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None) -> Managed:
    """Read the managed file; never raises. A missing file is simply no managed settings."""
    p = Path(path) if path is not None else managed_path(env)
    if p is None:
        return Managed()
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        return Managed()
    except IsADirectoryError:
        return Managed(source=p, error=_unusable(p, str(p), "it is a folder, not a file"))
    except OSError as err:
        return Managed(source=p, error=_unusable(p, str(p), f"cannot be read ({err.strerror or err})"))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Managed(source=p, error=_unusable(p, str(p), "not UTF-8 text; save it as UTF-8"))
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        msg = str(err)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        where = f"{p}:{m.group(1)}" if m else str(p)
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg)
        return Managed(source=p, error=_unusable(p, where, f"malformed TOML: {reason}"))
    return _interpret(data, text, p)


def _interpret(data: dict[str, Any], text: str, p: Path) -> Managed:
    from callcue.settings import BadValue, _check

    known = known_keys()
    out = Managed(source=p)
    for key in data:
        if key not in ("locked", "settings"):
            out.warnings.append(f"{p}:{_line_of(text, key)}: unknown entry {key!r} ignored; put settings under "
                                "[settings] and the names to lock in locked = [...]")
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        return Managed(source=p, error=_unusable(p, f"{p}:{_line_of(text, 'settings')}",
                                                 "'settings' must be a table: [settings]"))
    locked_raw = data.get("locked", [])
    if not isinstance(locked_raw, list) or not all(isinstance(k, str) for k in locked_raw):
        return Managed(source=p, error=_unusable(p, f"{p}:{_line_of(text, 'locked')}",
                                                 'locked must be a list of names, e.g. locked = ["profile"]'))
    for key, value in settings.items():
        where = f"{p}:{_line_of(text, key, 'settings')}"
        if key not in known:
            out.warnings.append(f"{where}: unknown setting {key!r} ignored; known: {', '.join(sorted(known))}")
            continue
        try:
            out.values[key] = _check_process(key, value) if key in PROCESS_KEYS else _check(key, value)
        except BadValue as err:
            out.warnings.append(f"{where}: {key} {err}; this value is ignored")
    for name in locked_raw:
        if name == "*":
            out.locked.update(out.values)
        elif name in out.values:
            out.locked.add(name)
        elif name in known:
            out.warnings.append(f"{p}:{_line_of(text, 'locked')}: {name!r} is locked but has no usable value "
                                "under [settings]; it is not locked")
        else:
            out.warnings.append(f"{p}:{_line_of(text, 'locked')}: cannot lock unknown setting {name!r}; "
                                f"known: {', '.join(sorted(known))}")
    return out


def _check_process(key: str, value: Any) -> str | None:
    from callcue.settings import BadValue

    if value is not None and not isinstance(value, str):
        raise BadValue("must be text")
    if key in ("storage", "model", "playbook") and value:
        # per-user folders: $USER and ~ everywhere, %USERNAME% on Windows
        return os.path.expanduser(os.path.expandvars(value))
    return value or None


# ---------------------------------------------------------------- the whole process


_current: Managed | None = None


def activate(env: MutableMapping[str, str] | None = None, managed: Managed | None = None) -> Managed:
    """Load the managed file once per process and hand its storage, model, playbook and profile to
    every command through the environment variables they read.

    Locked values replace the environment's; unlocked ones only fill in what the environment
    leaves unset.
    """
    global _current
    env = os.environ if env is None else env
    m = managed if managed is not None else load_managed(env=env)
    for key, name in PROCESS_KEYS.items():
        value = m.values.get(key)
        if value is None:
            continue
        if key in m.locked or not env.get(name):
            env[name] = str(value)
            m.exported[name] = str(value)
    _current = m
    return m


def apply_to_args(args: Any, m: Managed, env: Mapping[str, str] | None = None) -> list[str]:
    """A command's --playbook, --profile and --model: a locked value replaces what was typed (and says so);
    CALLCUE_PLAYBOOK and CALLCUE_PROFILE fill in what was not typed. Only commands that run the engine
    have --playbook (review's --profile is a filter, and is left alone); an unlocked model needs nothing
    here, the model lookup reads CALLCUE_MODEL itself."""
    env = os.environ if env is None else env
    notes: list[str] = []
    runs_engine = hasattr(args, "playbook")
    for key in ("playbook", "profile", "model"):
        if not hasattr(args, key) or (key != "model" and not runs_engine):
            continue
        given = getattr(args, key)
        if key in m.locked:
            value = m.values[key]
            if given is not None and given != value:
                notes.append(f"--{key} {given} is ignored: IT set {key} = {value!r} in {m.source}")
            setattr(args, key, value)
        elif given is None and key != "model" and env.get(PROCESS_KEYS[key]):
            setattr(args, key, env[PROCESS_KEYS[key]])
    return notes


def current() -> Managed:
    """The managed settings of this process: activate()'s, or read now."""
    return _current if _current is not None else load_managed()


# ---------------------------------------------------------------- the overlay's settings


def _from_env(key: str, text: str) -> Any:
    from callcue.settings import CHECKS

    probe = CHECKS[key]
    t = text.strip()
    for guess in (_as_bool(t), _as_number(t), _as_json(t)):
        if guess is None:
            continue
        try:
            return probe(guess)
        except ValueError:
            pass
    return probe(t)


def _as_bool(t: str) -> bool | None:
    return {"1": True, "true": True, "yes": True, "on": True,
            "0": False, "false": False, "no": False, "off": False}.get(t.lower())


def _as_number(t: str) -> float | int | None:
    try:
        return int(t)
    except ValueError:
        try:
            return float(t)
        except ValueError:
            return None


def _as_json(t: str) -> Any:
    if not t.startswith("{"):
        return None
    try:
        return json.loads(t)
    except json.JSONDecodeError:
        return None


def apply(settings: Any, managed: Managed, env: Mapping[str, str] | None = None) -> list[str]:
    """Layer managed values and CALLCUE_* variables onto `settings` (already holding the user's file).

    Returns what the user or IT should be told (bad values, each naming where it came from). After
    this, `settings.locked` holds the managed locks and `settings.source[key]` says "managed" or
    "env" where those won.
    """
    from callcue.settings import CHECKS, apply_layer

    env = os.environ if env is None else env
    notes = list(managed.problems)
    # IT's unlocked values are defaults: they fill only what the user has not chosen.
    unlocked = {k: v for k, v in managed.values.items()
                if k in CHECKS and k not in managed.locked and settings.source.get(k) == "default"}
    apply_layer(settings, unlocked, "managed")
    for key in CHECKS:
        name = f"CALLCUE_{key.upper()}"
        text = env.get(name)
        if text is None or key in managed.locked or managed.exported.get(name) == text:
            continue
        try:
            value = _from_env(key, text)
        except ValueError as err:
            notes.append(f"environment variable {name}={text!r}: {err}; it is ignored")
            continue
        apply_layer(settings, {key: value}, "env")
    locked = {k: v for k, v in managed.values.items() if k in CHECKS and k in managed.locked}
    apply_layer(settings, locked, "managed", lock=True)
    return notes
