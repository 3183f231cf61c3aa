"""Global hotkeys: the panel never has the keyboard focus, so its keys must work from any window.

On X11 the keys are grabbed on the root window through Xlib (ctypes, its own connection, all calls
in one thread). A key another application already holds cannot be grabbed; that is reported per
key so the settings can say which. Wayland does not let an application grab keys at all, and other
platforms have no backend yet: `available()` says why, and the tray menu has every action.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import sys
import threading
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication

from callcue.settings import HOTKEY_LABELS
from callcue.ui.qtcompat import emit

# What each key does, as the agent reads it in the settings, the tray menu and the panel's tooltips.
# The snooze key toggles: pressed while cues are snoozed, it ends the snooze.
ACTION_LABELS = {**HOTKEY_LABELS, "snooze": "Snooze cues 5 min / end the snooze"}


def key_list(keys: dict[str, str]) -> list[tuple[str, str, str]]:
    """(action, what it does, its key) for every hotkey that has a key, in the settings' order."""
    return [(a, label, keys[a]) for a, label in ACTION_LABELS.items() if keys.get(a)]


def key_help(keys: dict[str, str]) -> str:
    """Every hotkey in one short text: 'Ctrl+Alt+K  Start / stop the call' per line."""
    return "\n".join(f"{key}  {label}" for _, label, key in key_list(keys))

SHIFT, LOCK, CONTROL, MOD1, MOD2, MOD4 = 1, 2, 4, 8, 16, 64
MODIFIERS = {"ctrl": CONTROL, "control": CONTROL, "alt": MOD1, "shift": SHIFT, "meta": MOD4, "super": MOD4,
             "win": MOD4}
# NumLock (Mod2) and CapsLock (Lock) must not stop a hotkey: grab every combination of them too.
IGNORED = (0, LOCK, MOD2, LOCK | MOD2)
KEY_NAMES = {"space": "space", "pgup": "Prior", "pgdown": "Next", "home": "Home", "end": "End",
             "ins": "Insert", "del": "Delete", "esc": "Escape", "return": "Return", "enter": "Return",
             "tab": "Tab", "backspace": "BackSpace", "up": "Up", "down": "Down", "left": "Left",
             "right": "Right", "pause": "Pause", "+": "plus", "-": "minus", ",": "comma", ".": "period",
             "/": "slash", ";": "semicolon", "'": "apostrophe", "[": "bracketleft", "]": "bracketright",
             "`": "grave", "=": "equal", "\\": "backslash"}
KEY_PRESS = 2
BAD_ACCESS = 10


def parse(sequence: str) -> tuple[int, str]:
    """"Ctrl+Alt+D" -> (ControlMask|Mod1Mask, "d"): the modifiers and the X keysym name."""
    text = sequence.replace(" ", "")
    parts = text[:-2].split("+") + ["+"] if text.endswith("++") else text.split("+")
    parts = [p for p in parts if p]
    if not parts:
        raise ValueError("empty key sequence")
    mods = 0
    for p in parts[:-1]:
        if p.lower() not in MODIFIERS:
            raise ValueError(f"{sequence!r}: {p!r} is not a modifier (Ctrl, Alt, Shift, Meta)")
        mods |= MODIFIERS[p.lower()]
    key = parts[-1]
    if key.lower() in MODIFIERS:
        raise ValueError(f"{sequence!r}: a hotkey needs a key besides the modifiers")
    if len(key) == 1 and key.isalnum():
        return mods, key.lower()
    if key.upper().startswith("F") and key[1:].isdigit():
        return mods, key.upper()
    name = KEY_NAMES.get(key.lower())
    if name is None:
        raise ValueError(f"{sequence!r}: the key {key!r} is not supported for hotkeys")
    return mods, name


def unavailable_reason() -> str | None:
    """None when global hotkeys work here; otherwise what to tell the user."""
    platform = QGuiApplication.platformName() if QGuiApplication.instance() else ""
    if platform.startswith("wayland"):
        return ("Wayland does not let applications use global hotkeys; use the tray menu, or set the keys "
                "as custom shortcuts of your desktop running `callcue` actions.")
    if platform in ("offscreen", "minimal"):
        return "no display: hotkeys are off"
    if not sys.platform.startswith("linux") or platform != "xcb":
        return "global hotkeys are not available on this platform yet; use the tray menu"
    if not os.environ.get("DISPLAY"):
        return "no X display: hotkeys are off"
    if _xlib() is None:
        return "libX11 is not installed: hotkeys are off"
    return None


_lib: ctypes.CDLL | None = None


def _xlib() -> ctypes.CDLL | None:
    global _lib
    if _lib is None:
        name = ctypes.util.find_library("X11") or "libX11.so.6"
        try:
            lib = ctypes.cdll.LoadLibrary(name)
        except OSError:
            return None
        lib.XOpenDisplay.restype = ctypes.c_void_p
        lib.XOpenDisplay.argtypes = [ctypes.c_char_p]
        lib.XDefaultRootWindow.restype = ctypes.c_ulong
        lib.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        lib.XStringToKeysym.restype = ctypes.c_ulong
        lib.XStringToKeysym.argtypes = [ctypes.c_char_p]
        lib.XKeysymToKeycode.restype = ctypes.c_ubyte
        lib.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
        lib.XGrabKey.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint, ctypes.c_ulong, ctypes.c_int,
                                 ctypes.c_int, ctypes.c_int]
        lib.XUngrabKey.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint, ctypes.c_ulong]
        lib.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
        lib.XPending.argtypes = [ctypes.c_void_p]
        lib.XNextEvent.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        lib.XConnectionNumber.argtypes = [ctypes.c_void_p]
        lib.XCloseDisplay.argtypes = [ctypes.c_void_p]
        lib.XSetErrorHandler.restype = ctypes.c_void_p
        lib.XSetErrorHandler.argtypes = [ctypes.c_void_p]
        _lib = lib
    return _lib


class _XErrorEvent(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("display", ctypes.c_void_p), ("resourceid", ctypes.c_ulong),
                ("serial", ctypes.c_ulong), ("error_code", ctypes.c_ubyte), ("request_code", ctypes.c_ubyte),
                ("minor_code", ctypes.c_ubyte)]


class _XKeyEvent(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                ("display", ctypes.c_void_p), ("window", ctypes.c_ulong), ("root", ctypes.c_ulong),
                ("subwindow", ctypes.c_ulong), ("time", ctypes.c_ulong), ("x", ctypes.c_int), ("y", ctypes.c_int),
                ("x_root", ctypes.c_int), ("y_root", ctypes.c_int), ("state", ctypes.c_uint),
                ("keycode", ctypes.c_uint), ("same_screen", ctypes.c_int)]


class _XEvent(ctypes.Union):
    _fields_ = [("type", ctypes.c_int), ("xkey", _XKeyEvent), ("pad", ctypes.c_long * 24)]


_ERROR_HANDLER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(_XErrorEvent))
_errors: list[int] = []


@_ERROR_HANDLER
def _on_x_error(_display, event):  # type: ignore[no-untyped-def]
    # Xlib's default handler exits the process; a key taken by another app must only be reported.
    _errors.append(int(event.contents.error_code))
    return 0


class _X11Grabber:
    """Grabs keys and waits for them, in one thread with its own X connection."""

    def __init__(self, keys: dict[str, str], on_key: Callable[[str], None],
                 on_ready: Callable[[dict[str, str]], None]) -> None:
        self.keys = keys
        self.on_key = on_key
        self.on_ready = on_ready
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="callcue-hotkeys", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2.0)

    def _run(self) -> None:
        x = _xlib()
        failed: dict[str, str] = {}
        if x is None:
            self.on_ready({a: "libX11 is missing" for a in self.keys})
            return
        display = x.XOpenDisplay(None)
        if not display:
            self.on_ready({a: "cannot open the X display" for a in self.keys})
            return
        x.XSetErrorHandler(ctypes.cast(_on_x_error, ctypes.c_void_p))
        root = x.XDefaultRootWindow(display)
        table: dict[tuple[int, int], str] = {}
        grabbed: list[tuple[int, int]] = []
        for action, seq in self.keys.items():
            if not seq:
                continue
            try:
                mods, name = parse(seq)
            except ValueError as err:
                failed[action] = str(err)
                continue
            keycode = x.XKeysymToKeycode(display, x.XStringToKeysym(name.encode()))
            if not keycode:
                failed[action] = f"{seq}: no such key on this keyboard"
                continue
            _errors.clear()
            for extra in IGNORED:
                x.XGrabKey(display, keycode, mods | extra, root, 0, 1, 1)  # GrabModeAsync = 1
            x.XSync(display, 0)
            if BAD_ACCESS in _errors:
                failed[action] = f"{seq} is already used by another application"
                for extra in IGNORED:
                    x.XUngrabKey(display, keycode, mods | extra, root)
                continue
            table[(keycode, mods)] = action
            grabbed.append((keycode, mods))
        self.on_ready(failed)
        fd = x.XConnectionNumber(display)
        event = _XEvent()
        wanted = SHIFT | CONTROL | MOD1 | MOD4
        try:
            while not self._stop.is_set():
                if not x.XPending(display):
                    select.select([fd], [], [], 0.2)
                    continue
                x.XNextEvent(display, ctypes.byref(event))
                if event.type == KEY_PRESS:
                    action = table.get((event.xkey.keycode, event.xkey.state & wanted))
                    if action:
                        self.on_key(action)
        finally:
            for keycode, mods in grabbed:
                for extra in IGNORED:
                    x.XUngrabKey(display, keycode, mods | extra, root)
            x.XSync(display, 0)
            x.XCloseDisplay(display)


class GlobalHotkeys(QObject):
    triggered = Signal(str)  # an action name of settings.DEFAULT_HOTKEYS, in the UI thread
    ready = Signal(object)  # dict action -> why its key could not be grabbed (empty: all fine)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._grabber: _X11Grabber | None = None
        self.failed: dict[str, str] = {}
        self.reason = unavailable_reason()
        self.ready.connect(self._remember)

    def _remember(self, failed: dict[str, str]) -> None:
        self.failed = dict(failed)

    def set_keys(self, keys: dict[str, str]) -> None:
        self.stop()
        if self.reason is not None:
            return
        self._grabber = _X11Grabber(dict(keys), partial(emit, self.triggered), partial(emit, self.ready))
        self._grabber.start()

    def stop(self) -> None:
        if self._grabber is not None:
            self._grabber.stop()
            self._grabber = None
