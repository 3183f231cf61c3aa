"""The overlay's screenshots in docs/: the demo call at a moment with a cue, compact and expanded.

    python tests/ui/make_screenshots.py            # docs/overlay-*-100.png and -150.png, docs/review-1366x768.png

Each scale runs in its own process (QT_SCALE_FACTOR is read when Qt starts). The panel is fed the
real engine's events from the demo call, up to the moment shown, and drawn with widget.grab().
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SHOTS = {  # name: (mode, audio time to stop at, open the "why" pane)
    "expanded": ("expanded", 57.0, False),
    "compact": ("compact", 28.0, False),
    "why": ("expanded", 28.0, True),
    "quiet": ("compact", 20.6, False),
    "snooze": ("expanded", 46.0, False),  # snoozed at 0:40: the escalation alert still shows
    "recent": ("expanded", 57.0, False),  # the last cues, held-back ones marked
    "wrapup": ("expanded", None, False),  # the call over: the agent's wrap-up
    "idle": ("expanded", 0.0, False),  # before a call: compact whatever the mode
}
AT_100 = ("why", "quiet", "snooze", "recent", "idle")  # the others at 100 and 150 %
# The screens those scales come with (physical pixels): 1366x768 at 100 %, 1920x1080 at 150 %.
SCREENS = {"1": (1366, 768), "1.5": (1920, 1080)}


def shoot(scale: str) -> None:
    w, h = SCREENS[scale]
    config = Path(tempfile.mkdtemp(prefix="callcue-shots-")) / "screen.json"
    config.write_text(json.dumps({"screens": [{"name": "shots", "x": 0, "y": 0, "width": w, "height": h,
                                               "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"
    os.environ["QT_SCALE_FACTOR"] = scale
    sys.path.insert(0, str(ROOT))
    from PySide6.QtWidgets import QApplication

    app = QApplication([])  # noqa: F841 - widgets need it
    from callcue.engine.events import Summary
    from callcue.settings import Settings
    from callcue.ui.overlay import Overlay
    from tests.ui.conftest import EngineWorker

    os.environ["QT_QPA_PLATFORM"] = "offscreen"  # (the conftest says so too; the app already runs)

    pct = round(float(scale) * 100)
    for name, (mode, until, why) in SHOTS.items():
        if pct != 100 and name in AT_100:
            continue
        s = Settings()
        s.set("mode", mode)
        worker = EngineWorker(s)
        o = Overlay(s, None, worker_factory=lambda w=worker: w)
        o.show()
        if name != "idle":
            o.start_call()
            if name == "snooze":
                worker.play_demo_until(40.0)
                o.toggle_snooze()
                worker.play_demo_until(until, start_s=40.0)
            else:
                worker.play_demo_until(until if until is not None else 62.0)  # the demo is 1:02 long
            if name == "recent":
                o.recent_button.setChecked(True)
            if why:
                o.card.why_button.setChecked(True)
            o.on_phase(o.state.phase.__class__("listening", "Demo call \u00b7 words from the bundled transcript"))
            if name == "wrapup":
                worker.send(*[e for e in worker.engine.finish() if isinstance(e, Summary)])
                o.on_phase(o.state.phase.__class__("ended", "The call ended."))
        QApplication.processEvents()
        path = DOCS / f"overlay-{name}-{pct}.png"
        assert o.grab().save(str(path)), path
        print(path.relative_to(ROOT), o.width(), "x", o.height(), "logical px")
        o.close()
    if pct == 100:
        review()


def review() -> None:
    """The review window as it opens on a 1366x768 screen, the billing dispute's escalation marker clicked."""
    from PySide6.QtWidgets import QApplication

    from callcue.store import SessionStore
    from callcue.ui.review import ReviewWindow
    from tests.report.sessions import sample_db

    with tempfile.TemporaryDirectory() as tmp:
        ids = sample_db(Path(tmp) / "sessions.db")
        store = SessionStore(Path(tmp) / "sessions.db")
        window = ReviewWindow(store)
        window.show()
        window.open_session(next(sid for sid, name in ids.items() if name == "billing-dispute"))
        chart = window.view.chart
        window.view.jump_to_marker(next(i for i, m in enumerate(chart.markers) if "escalate" in m.label))
        QApplication.processEvents()
        path = DOCS / "review-1366x768.png"
        assert window.grab().save(str(path)), path
        print(path.relative_to(ROOT), window.width(), "x", window.height(), "on a 1366x768 screen")
        window.close()
        store.close()


def main() -> int:
    if len(sys.argv) > 1:
        shoot(sys.argv[1])
        return 0
    DOCS.mkdir(exist_ok=True)
    for scale in ("1", "1.5"):
        subprocess.run([sys.executable, __file__, scale], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
