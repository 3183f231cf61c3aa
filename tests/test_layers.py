"""The layers hold: import-linter checks the imports (pyproject.toml, run by the README's test command);
this checks what it cannot see, that no module outside the engine touches the engine's private names."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "desktop" / "callcue"
ENGINE = PACKAGE / "engine"


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def engine_private_names() -> set[str]:
    """Every private attribute, method and module-level name the engine's modules define."""
    names: set[str] = set()
    for path in ENGINE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and _private(node.name):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self" \
                    and _private(node.attr):
                names.add(node.attr)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and _private(node.target.id):
                names.add(node.target.id)
    return names


def touches(source: str, where: str, private: set[str]) -> list[str]:
    """Where the module `source` reads an engine object's private name (not its own: `self._x` is its
    business)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in private and not (
                isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
            found.append(f"{where}:{node.lineno}: .{node.attr}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("callcue.engine"):
            found += [f"{where}:{node.lineno}: import {a.name}" for a in node.names
                      if _private(a.name)]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr" \
                and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and node.args[1].value in private:
            found.append(f"{where}:{node.lineno}: getattr {node.args[1].value}")
    return found


def test_the_engine_has_private_names_to_protect():
    private = engine_private_names()
    assert {"_open", "_pending", "_results", "_utterance"} <= private  # the check looks at the right things


def test_no_module_outside_the_engine_touches_its_private_names():
    private = engine_private_names()
    outside = [p for p in PACKAGE.rglob("*.py") if ENGINE not in p.parents]
    assert outside
    assert [hit for p in outside for hit in touches(p.read_text(), str(p.relative_to(PACKAGE)), private)] == []


def test_the_check_finds_a_reach_into_the_engine():
    probe = "from callcue.engine.pipeline import _said\ndef f(engine):\n    return engine.conversation._open\n"
    assert touches(probe, "probe.py", engine_private_names()) == ["probe.py:1: import _said", "probe.py:3: ._open"]


def test_one_sample_rate_constant():
    defined = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
               for node in ast.walk(ast.parse(p.read_text()))
               if isinstance(node, ast.Assign)
               and any(isinstance(t, ast.Name) and t.id == "RATE" for t in node.targets)]
    assert defined == ["engine/clock.py"]
