"""Work around PySide6 6.12.0's SignalInstance.emit(), which drops a reference to the bool it returns.

Each `signal.emit(...)` called from Python lowers the reference count of `True` by one; once it
reaches zero the interpreter aborts ("Fatal Python error: bool_dealloc"). A call sends a tick many
times a second, so an unpatched overlay would crash some minutes into a shift. `emit()` here puts
the reference back, but only when a probe at import shows this PySide6 has the bug, so a fixed
PySide6 needs no change here.
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


def emit(signal: Any, *args: Any) -> Any:
    """`signal.emit(*args)`, safe on every PySide6."""
    result = signal.emit(*args)
    if EMIT_DROPS_REF and result is not None:
        _incref(result)
    return result
