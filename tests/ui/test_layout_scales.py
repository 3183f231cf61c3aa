"""No part of the panel over another at 100, 125, 150 and 200 % (QT_SCALE_FACTOR), on screens of
the sizes those scales come with: each scale in its own offscreen Qt process (layout_probe.py).

In every state (busy with the why and the recent cues open, on hold, snoozed, compact, idle) the
panel fits its screen, its parts lie inside it and apart from each other, and no text is clipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from itertools import combinations
from pathlib import Path

import pytest

HERE = Path(__file__).parent
# scale -> the physical screen it is typical of (logical: 1366x768, 1536x864, 1280x720, 1280x720)
SCREENS = {1.0: (1366, 768), 1.25: (1920, 1080), 1.5: (1920, 1080), 2.0: (2560, 1440)}


def probe(scale: float, tmp_path: Path) -> dict:
    w, h = SCREENS[scale]
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [{"name": "probe", "x": 0, "y": 0, "width": w, "height": h,
                                               "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}", "QT_SCALE_FACTOR": str(scale),
           "CALLCUE_MANAGED_CONFIG": "", "CALLCUE_CONFIG_DIR": str(tmp_path / "config")}
    out = subprocess.run([sys.executable, str(HERE / "layout_probe.py")], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def overlaps(a: list[int], b: list[int]) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def problems(parts: list[dict], box: list[int]) -> list[str]:
    out = []
    bx, by, bw, bh = box
    for p in parts:
        x, y, w, h = p["rect"]
        if x < bx or y < by or x + w > bx + bw or y + h > by + bh:
            out.append(f"{p['name']} {p['rect']} is outside {box}")
        if "needs" in p and p["needs"] > h:
            out.append(f"{p['name']} is clipped: its text needs {p['needs']} px, it has {h}")
        out += problems(p.get("children", []), p["rect"])
    for a, b in combinations(parts, 2):
        if overlaps(a["rect"], b["rect"]):
            out.append(f"{a['name']} {a['rect']} overlaps {b['name']} {b['rect']}")
    return out


@pytest.mark.parametrize("scale", sorted(SCREENS))
def test_no_part_of_the_panel_overlaps_another_at_this_scale(scale, tmp_path):
    result = probe(scale, tmp_path)
    assert result["scale"] == scale  # the process really ran at this scale
    assert set(result["states"]) == {"busy", "hold", "snooze", "compact", "idle", "wrapup"}
    for name, state in result["states"].items():
        x, y, w, h = state["window"]
        sx, sy, sw, sh = state["screen"]
        assert sx <= x and x + w <= sx + sw and sy <= y and y + h <= sy + sh, (name, state["window"])
        names = {p["name"] for p in state["parts"]}
        want = {"wrapup": {"wrapUp"}, "idle": set()}.get(name, {"cueCard"}) | {"StatusLine"}
        assert want <= names, (name, names)
        found = problems(state["parts"], [0, 0, w, h])
        assert found == [], f"{name} at {scale:.0%}: " + "; ".join(found)
