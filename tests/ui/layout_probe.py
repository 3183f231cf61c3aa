"""Run as a subprocess (QT_SCALE_FACTOR and the offscreen screen must be set before Qt starts):

    QT_SCALE_FACTOR=1.5 QT_QPA_PLATFORM=offscreen:configfile=screen.json python layout_probe.py [shots/]

prints, as one JSON object, the panel's geometry in each of its states: the window, the screen's
free area, and every part with its rectangle (panel coordinates) and the height its text needs.
With a folder, a PNG of each state goes there too (make_screenshots.py uses them).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
PLATFORM = os.environ.get("QT_QPA_PLATFORM", "offscreen")  # the conftest imported below sets its own

from PySide6.QtWidgets import QApplication, QLabel, QLayout, QWidget  # noqa: E402

from callcue.settings import Settings  # noqa: E402
from callcue.ui.overlay import Overlay  # noqa: E402
from tests.ui.conftest import FakeWorker  # noqa: E402
from tests.ui.overlay_states import ended, fill  # noqa: E402

STATES = {
    "busy": dict(timer="silence"),
    "hold": dict(timer="hold", why=False),
    "snooze": dict(timer="snooze", recent=False),
    "compact": dict(timer="hold-ended", why=True, recent=True, mode="compact"),
    "idle": None,
    "wrapup": "ended",
}


def rect(o: QWidget, w: QWidget) -> list[int]:
    top_left = w.mapTo(o, w.rect().topLeft())
    return [top_left.x(), top_left.y(), w.width(), w.height()]


def parts(o: Overlay, layout: QLayout, prefix: str = "") -> list[dict]:
    """The visible items of `layout`, each with its rectangle and, for words, the height they need."""
    out = []
    for i in range(layout.count()):
        item = layout.itemAt(i)
        w = item.widget()
        if item.layout() is not None:
            g = item.layout().geometry()
            if g.isValid() and not item.isEmpty():
                origin = item.layout().parentWidget().mapTo(o, g.topLeft())
                out.append({"name": f"{prefix}layout{i}", "rect": [origin.x(), origin.y(), g.width(), g.height()],
                            "children": parts(o, item.layout(), f"{prefix}layout{i}.")})
            continue
        if w is None or not w.isVisible():
            continue
        entry = {"name": prefix + (w.objectName() or type(w).__name__), "rect": rect(o, w)}
        if isinstance(w, QLabel) and w.wordWrap():
            entry["needs"] = w.heightForWidth(w.width())
        if w.layout() is not None:
            entry["children"] = parts(o, w.layout(), entry["name"] + ".")
        out.append(entry)
    return out


def main() -> None:
    os.environ["QT_QPA_PLATFORM"] = PLATFORM
    app = QApplication(sys.argv[:1])
    shots = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    result = {"scale": app.primaryScreen().devicePixelRatio(), "states": {}}
    for name, how in STATES.items():
        s = Settings()
        s.set("opacity", 1.0)
        how = {} if how in (None, "ended") else dict(how)
        s.set("mode", how.pop("mode", "expanded"))
        worker = FakeWorker()
        o = Overlay(s, None, worker_factory=lambda w=worker: w)
        o.show()
        if STATES[name] == "ended":
            ended(o, worker)
        elif STATES[name] is not None:
            fill(o, worker, **how)
        app.processEvents()
        area = o.screen().availableGeometry()
        g = o.geometry()
        result["states"][name] = {"window": [g.x(), g.y(), g.width(), g.height()],
                                  "screen": [area.x(), area.y(), area.width(), area.height()],
                                  "parts": parts(o, o.layout())}
        if shots is not None:
            o.grab().save(str(shots / f"{name}.png"))
        o.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
