"""The engine is plain Python on the sample clock: no Qt, no audio devices, no wall clock."""

import ast
from pathlib import Path

import callcue.engine

ENGINE = Path(callcue.engine.__file__).parent
FORBIDDEN_MODULES = ("PySide6", "PyQt5", "PyQt6", "sounddevice", "time", "datetime", "threading", "asyncio")
FORBIDDEN_CALLS = {"time", "monotonic", "perf_counter", "now", "utcnow", "sleep"}


def _imports(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_engine_modules_import_no_qt_no_devices_no_clock():
    files = sorted(ENGINE.glob("*.py"))
    assert len(files) >= 10
    for path in files:
        tree = ast.parse(path.read_text(), filename=str(path))
        for name in _imports(tree):
            assert name.split(".")[0] not in FORBIDDEN_MODULES, f"{path.name} imports {name}"
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_CALLS and isinstance(node.value, ast.Name):
                clock = f"{node.value.id}.{node.attr}"
                assert node.value.id not in ("time", "datetime"), f"{path.name} reads the clock: {clock}"


def test_checker_catches_a_clock(tmp_path):
    """The check above would notice `time.time()` (so it is not vacuous)."""
    tree = ast.parse("import time\nx = time.time()\n")
    assert "time" in _imports(tree)
