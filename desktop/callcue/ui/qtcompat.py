"""PySide6 6.12.0 on Python 3.11 drops references to None and True: check for it, and survive emit().

That build returns None from every void method (setText, show, ...) and True from
SignalInstance.emit() without taking a reference, as if they were immortal (they are from Python
3.12 on). On 3.11 each call lowers the count, and once it reaches zero the interpreter aborts
("Fatal Python error: none_dealloc"), in the overlay within minutes. pyproject.toml pins PySide6
below 6.12; `check()` refuses to start on a broken combination with a message saying what to
install, and `emit()` puts back the reference emit() loses, should a build fix only the first bug.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal

_incref = ctypes.pythonapi.Py_IncRef
_incref.argtypes = [ctypes.py_object]
_incref.restype = None


class _Probe(QObject):
    ping = Signal()


def _emit_drops_a_reference() -> bool:
    probe = _Probe()
    before = sys.getrefcount(True)
    results = [probe.ping.emit() for _ in range(8)]
    after = sys.getrefcount(True)
    lost = before + sum(r is True for r in results) - after
    for r in results:
        if lost >= 8 and r is not None:
            _incref(r)
    del results
    return lost >= 8


EMIT_DROPS_REF = _emit_drops_a_reference()


def _void_calls_drop_none() -> bool:
    if sys.version_info >= (3, 12):
        return False  # None is immortal: a lost reference does no harm
    probe = _Probe()
    before = sys.getrefcount(None)
    for _ in range(8):
        probe.setObjectName("probe")
    return sys.getrefcount(None) <= before - 8


def check() -> None:
    """Raise a CallcueError when this PySide6 would crash the overlay on this Python."""
    if _void_calls_drop_none():
        from PySide6 import __version__ as pyside

        from callcue.errors import CallcueError

        raise CallcueError(f"PySide6 {pyside} does not work with Python {sys.version.split()[0]}: it loses "
                           "references to None and would crash the overlay within minutes; install "
                           "`pip install 'PySide6-Essentials<6.12'` or use Python 3.12 or newer")


def emit(signal: Any, *args: Any) -> Any:
    """`signal.emit(*args)`, safe on every PySide6."""
    result = signal.emit(*args)
    if EMIT_DROPS_REF and result is not None:
        _incref(result)
    return result
