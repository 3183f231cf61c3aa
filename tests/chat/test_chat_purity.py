"""The chat engine is plain Python on the chat's own clock: no wall clock, no threads, no Qt.

Threads and the wall clock live at the edge only (server.py).
"""

import ast
from pathlib import Path

import callcue.chat

CHAT = Path(callcue.chat.__file__).parent
PURE = ("engine.py", "scoring.py", "replycheck.py", "readers.py")
FORBIDDEN = ("PySide6", "PyQt5", "PyQt6", "sounddevice", "time", "threading", "asyncio", "socket", "http")
CLOCK_CALLS = {"time", "monotonic", "perf_counter", "now", "utcnow", "today", "sleep"}


def test_chat_engine_reads_no_clock_and_starts_no_thread():
    for name in PURE:
        tree = ast.parse((CHAT / name).read_text(), filename=name)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                mods = [node.module]
            else:
                mods = []
            for m in mods:
                assert m.split(".")[0] not in FORBIDDEN, f"{name} imports {m}"
            if isinstance(node, ast.Attribute) and node.attr in CLOCK_CALLS:
                assert not (isinstance(node.value, ast.Name) and node.value.id in ("time", "datetime", "date")), \
                    f"{name} reads the clock: {ast.unparse(node)}"
