"""The overlay's screenshots in docs/: the demo call at a moment with a cue, compact and expanded.

    python tests/ui/make_screenshots.py            # docs/overlay-*-100.png and -150.png

Each scale runs in its own process (QT_SCALE_FACTOR is read when Qt starts). The panel is fed the
real engine's events from the demo call, up to the moment shown, and drawn with widget.grab().
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SHOTS = {  # name: (mode, audio time to stop at, open the "why" pane)
    "expanded": ("expanded", 57.0, False),
    "compact": ("compact", 28.0, False),
    "why": ("expanded", 28.0, True),
    "quiet": ("compact", 20.6, False),
}


def shoot(scale: str) -> None:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["QT_SCALE_FACTOR"] = scale
    sys.path.insert(0, str(ROOT))
    from PySide6.QtWidgets import QApplication

    app = QApplication([])  # noqa: F841 - widgets need it
    from callcue.settings import Settings
    from callcue.ui.overlay import Overlay
    from tests.ui.conftest import EngineWorker

    pct = round(float(scale) * 100)
    for name, (mode, until, why) in SHOTS.items():
        if pct != 100 and name in ("why", "quiet"):
            continue
        s = Settings()
        s.set("mode", mode)
        worker = EngineWorker(s)
        o = Overlay(s, None, worker_factory=lambda w=worker: w)
        o.show()
        o.start_call()
        worker.play_demo_until(until)
        if why:
            o.card.why_button.setChecked(True)
        o.on_phase(o.state.phase.__class__("listening", "Demo call \u00b7 words from the bundled transcript"))
        QApplication.processEvents()
        path = DOCS / f"overlay-{name}-{pct}.png"
        assert o.grab().save(str(path)), path
        print(path.relative_to(ROOT), o.width(), "x", o.height(), "logical px")
        o.close()


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
