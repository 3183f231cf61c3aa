"""The overlay's settings: one dataclass, saved as JSON in the user's config folder.

The UI never reads files itself: it is handed a `Settings` (and a `SettingsStore` to save it), so
tests inject their own.

Layers. Values come from layers applied in order: the defaults, then the user's file. A later
issue adds a system-wide managed file applied last with `lock=True`; its keys then appear in
`Settings.locked`, the UI shows them greyed out, and `SettingsStore.save` never writes them into the
user's file. `Settings.source` says where each value came from ("default", "user", "managed").

A damaged file (not JSON, not an object, or values of the wrong kind) is copied aside as
`settings.json.damaged-<time>`, the bad values are reset, and `SettingsStore.notice` tells the user
what happened and where the copy is.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from callcue import paths

FILE_NAME = "settings.json"
EDGES = ("left", "right")
MODES = ("compact", "expanded")
WIDTH_RANGE = (220, 720)
OPACITY_RANGE = (0.3, 1.0)

# Hotkeys are global (the overlay never has the keyboard focus). The names are the actions.
DEFAULT_HOTKEYS: dict[str, str] = {
    "call": "Ctrl+Alt+K",          # start or stop the call
    "dismiss": "Ctrl+Alt+D",       # dismiss the cue on screen
    "snooze": "Ctrl+Alt+Z",        # snooze cues for 5 minutes
    "hold": "Ctrl+Alt+H",          # hold on/off (mutes cues while the customer waits)
    "click_through": "Ctrl+Alt+X",  # clicks go through the panel to the window below, or not
    "expand": "Ctrl+Alt+E",        # compact or expanded panel
}
HOTKEY_LABELS = {
    "call": "Start / stop the call",
    "dismiss": "Dismiss the cue",
    "snooze": "Snooze cues 5 min",
    "hold": "Hold on / off",
    "click_through": "Click-through on / off",
    "expand": "Compact / expanded",
}
NOT_SAVED = ("locked", "source")


@dataclass
class Settings:
    edge: str = "right"
    screen: str | None = None  # a screen's name (QScreen.name()); None: the primary screen
    width: int = 340  # logical pixels
    opacity: float = 0.94
    mode: str = "expanded"
    click_through: bool = False
    always_on_top: bool = True
    captions: bool = True
    agent_device: str | None = None  # sounddevice input names; None: the system default
    customer_device: str | None = None
    model: str | None = None  # a model folder or installed model name; None: callcue's lookup
    playbook: str | None = None  # a playbook file; None: the bundled one
    profile: str | None = None
    hotkeys: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_HOTKEYS))
    # Who may review which calls (report/access.py): usually pinned by IT in the managed file.
    review_role: str = "agent"  # "agent" or "supervisor"
    review_user: str | None = None  # the agent name of whoever uses this PC
    review_policy: str = "all"  # what a supervisor sees: all, team, flagged, own
    review_team: list[str] = field(default_factory=list)
    review_flag_peak: float = 0.7
    # Chat assistance: the overlay's chat panel listens for live chats on 127.0.0.1 (docs/chat-api.md).
    chat_enabled: bool = True
    chat_port: int | None = None  # None: the playbook's [chat] port (8765)
    # The memory (MB) speech recognizers may add during a call, on top of the model and the app:
    # caches that make decoding cheaper; with less, they give memory back sooner and cost more CPU.
    speech_cache_mb: int | None = None  # None: speech.live.default_cache_mb() (150 MB, 200 MB on jemalloc)
    # The team store (store/team.py): a libpq DSN or service name, set by IT; never a password in it.
    team_dsn: str | None = None
    retention_days: int | None = None  # sessions older than this are erased on this PC by the team sync
    locked: set[str] = field(default_factory=set)  # keys a managed layer fixed: not editable
    source: dict[str, str] = field(default_factory=dict)  # key -> "default" | "user" | "managed"

    def __post_init__(self) -> None:
        for name in keys():
            self.source.setdefault(name, "default")

    def is_locked(self, key: str) -> bool:
        return key in self.locked

    def set(self, key: str, value: Any) -> bool:
        """Change one value as the user; False (and no change) when a managed layer locked it."""
        if key in self.locked:
            return False
        clean = _check(key, value)
        setattr(self, key, clean)
        self.source[key] = "user"
        return True

    def to_dict(self) -> dict[str, Any]:
        return {name: _copy(getattr(self, name)) for name in keys()}


def keys() -> list[str]:
    return [f.name for f in fields(Settings) if f.name not in NOT_SAVED]


def _copy(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return type(value)(value)
    return value


class BadValue(ValueError):
    pass


def _choice(options: tuple[str, ...]) -> Callable[[Any], Any]:
    def check(v: Any) -> str:
        if v not in options:
            raise BadValue(f"must be one of {', '.join(options)}")
        return v
    return check


def _number(lo: float, hi: float, kind: type) -> Callable[[Any], Any]:
    def check(v: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise BadValue(f"must be a number from {lo} to {hi}")
        return kind(min(hi, max(lo, v)))  # out of range is clamped, not an error: screens change
    return check


def _optional(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda v: None if v is None else check(v)


def _bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise BadValue("must be true or false")
    return v


def _opt_str(v: Any) -> str | None:
    if v is not None and not isinstance(v, str):
        raise BadValue("must be text or null")
    return v or None


def _hotkeys(v: Any) -> dict[str, str]:
    if not isinstance(v, dict) or not all(isinstance(k, str) and isinstance(s, str) for k, s in v.items()):
        raise BadValue("must be an object of action names to key sequences")
    merged = dict(DEFAULT_HOTKEYS)
    merged.update({k: s for k, s in v.items() if k in DEFAULT_HOTKEYS})
    return merged


def _port(v: Any) -> int | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or not 1024 <= v <= 65535:
        raise BadValue("must be a port number from 1024 to 65535, or null for the playbook's")
    return v


def _names(v: Any) -> list[str]:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise BadValue("must be a list of names")
    return list(v)


CHECKS: dict[str, Callable[[Any], Any]] = {
    "edge": _choice(EDGES),
    "screen": _opt_str,
    "width": _number(*WIDTH_RANGE, int),
    "opacity": _number(*OPACITY_RANGE, float),
    "mode": _choice(MODES),
    "click_through": _bool,
    "always_on_top": _bool,
    "captions": _bool,
    "agent_device": _opt_str,
    "customer_device": _opt_str,
    "model": _opt_str,
    "playbook": _opt_str,
    "profile": _opt_str,
    "hotkeys": _hotkeys,
    "review_role": _choice(("agent", "supervisor")),
    "review_user": _opt_str,
    "review_policy": _choice(("all", "team", "flagged", "own")),
    "review_team": _names,
    "review_flag_peak": _number(0.0, 1.0, float),
    "chat_enabled": _bool,
    "chat_port": _port,
    "speech_cache_mb": _optional(_number(30, 65536, int)),
    "team_dsn": _opt_str,
    "retention_days": _optional(_number(1, 36500, int)),
}


def _check(key: str, value: Any) -> Any:
    if key not in CHECKS:
        raise KeyError(f"no setting named {key!r}")
    return CHECKS[key](value)


def apply_layer(settings: Settings, data: dict[str, Any], source: str, lock: bool = False) -> list[str]:
    """Apply one layer of values; returns the keys whose values were unusable (and left as they were).

    Unknown keys are ignored so an older Callcue can read a newer file.
    """
    bad = []
    for key, value in data.items():
        if key not in CHECKS:
            continue
        if key in settings.locked and not lock:
            continue
        try:
            setattr(settings, key, _check(key, value))
        except BadValue as err:
            bad.append(f"{key} ({err})")
            continue
        settings.source[key] = source
        if lock:
            settings.locked.add(key)
    return bad


class SettingsStore:
    """Loads and saves `Settings` at `path` (default: user_config_dir()/settings.json)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path else paths.user_config_dir() / FILE_NAME
        self.notice: str | None = None  # what the user must be told after load(), if anything

    def load(self) -> Settings:
        settings = Settings()
        self.notice = None
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return settings
        except (OSError, UnicodeDecodeError) as err:
            self._damaged(f"cannot be read ({getattr(err, 'strerror', None) or err})", settings)
            return settings
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            self._damaged(f"is not valid JSON (line {err.lineno}: {err.msg})", settings)
            return settings
        if not isinstance(data, dict):
            self._damaged("does not hold a JSON object", settings)
            return settings
        bad = apply_layer(settings, data, "user")
        if bad:
            self._damaged("had values Callcue cannot use: " + "; ".join(bad), settings, partly=True)
        return settings

    def _damaged(self, why: str, settings: Settings, partly: bool = False) -> None:
        backup = self.path.with_name(f"{self.path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        n = 1
        while backup.exists():
            backup = backup.with_name(f"{backup.name.split('~')[0]}~{n}")
            n += 1
        try:
            os.replace(self.path, backup)
            kept = f"a copy is in {backup}"
        except OSError as err:
            kept = f"it could not be copied aside ({err.strerror})"
        reset = "those values were reset to the defaults" if partly else "the settings were reset to the defaults"
        self.notice = f"Your settings file {self.path} {why}; {reset} and {kept}."
        try:
            self.save(settings)
        except OSError:
            pass  # the overlay still runs on the defaults; saving is tried again on the next change

    def save(self, settings: Settings) -> None:
        """Write the user's values atomically: a crash mid-write never leaves a half file."""
        # Only the user's own values: a locked, managed or environment value is not the user's choice,
        # and writing it would keep it after IT or the environment changes it.
        data = {k: v for k, v in settings.to_dict().items()
                if k not in settings.locked and settings.source.get(k) not in ("managed", "env")}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)
