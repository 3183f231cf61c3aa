"""The panel as a strip the window manager keeps free (X11 `_NET_WM_STRUT_PARTIAL`, EWMH).

A maximised CRM then ends beside the panel instead of under it, its own close and maximise buttons
included. Set through Xlib (ctypes, as ui/hotkeys.py does) on a short-lived connection of its own:
the property lives on the window, not on the connection. Other platforms (Wayland, Windows, the
offscreen tests) have no such property: `reserve` says so by returning False.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

from PySide6.QtGui import QGuiApplication

_lib: ctypes.CDLL | None = None
PROP_MODE_REPLACE = 0
XA_CARDINAL = 6


def _xlib() -> ctypes.CDLL | None:
    global _lib
    if _lib is None:
        try:
            lib = ctypes.cdll.LoadLibrary(ctypes.util.find_library("X11") or "libX11.so.6")
        except OSError:
            return None
        lib.XOpenDisplay.restype = ctypes.c_void_p
        lib.XOpenDisplay.argtypes = [ctypes.c_char_p]
        lib.XInternAtom.restype = ctypes.c_ulong
        lib.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        lib.XChangeProperty.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                                        ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
        lib.XDeleteProperty.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
        lib.XFlush.argtypes = [ctypes.c_void_p]
        lib.XCloseDisplay.argtypes = [ctypes.c_void_p]
        _lib = lib
    return _lib


def available() -> bool:
    return QGuiApplication.platformName() == "xcb" and bool(os.environ.get("DISPLAY")) and _xlib() is not None


def strut_values(edge: str, x: int, width: int, top: int, bottom: int, root_width: int) -> list[int]:
    """EWMH's twelve numbers (physical pixels): left, right, top, bottom, then each side's start and end.
    The whole column from `top` to `bottom` is kept free, however tall the panel is right now."""
    v = [0] * 12
    if edge == "left":
        v[0], v[4], v[5] = x + width, top, bottom
    else:
        v[1], v[6], v[7] = root_width - x, top, bottom
    return v


def _set(window: int, values: list[int] | None) -> bool:
    x = _xlib()
    if x is None or not available():
        return False
    display = x.XOpenDisplay(None)
    if not display:
        return False
    try:
        for name, count in ((b"_NET_WM_STRUT_PARTIAL", 12), (b"_NET_WM_STRUT", 4)):
            atom = x.XInternAtom(display, name, 0)
            if values is None:
                x.XDeleteProperty(display, window, atom)
            else:
                data = (ctypes.c_long * count)(*values[:count])  # format 32 is C longs to Xlib
                x.XChangeProperty(display, window, atom, XA_CARDINAL, 32, PROP_MODE_REPLACE, data, count)
        x.XFlush(display)
    finally:
        x.XCloseDisplay(display)
    return True


def reserve(window: int, values: list[int]) -> bool:
    return _set(window, values)


def release(window: int) -> bool:
    return _set(window, None)
