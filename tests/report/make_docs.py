"""Make docs/review.png and docs/sample-report.html from the sample sessions.

    QT_QPA_PLATFORM=offscreen python -m tests.report.make_docs
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

DOCS = Path(__file__).resolve().parents[2] / "docs"


def main() -> int:
    from PySide6.QtWidgets import QApplication

    from callcue.report.data import build_report
    from callcue.report.html import render_html
    from callcue.store import SessionStore
    from callcue.ui.review import ReviewWindow
    from tests.conftest import RUN_DIR
    from tests.report.sessions import build

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        atexit.register(shutil.rmtree, RUN_DIR, True)  # the test calls build() makes there
        db = Path(tmp) / "sessions.db"
        ids = build(db)
        billing = next(sid for sid, name in ids.items() if name == "billing-dispute")
        store = SessionStore(db)
        (DOCS / "sample-report.html").write_text(render_html(build_report(store.load(billing))), encoding="utf-8")
        window = ReviewWindow(store)
        window.resize(1500, 920)
        window.show()
        window.open_session(billing)
        app.processEvents()
        chart = window.view.chart
        escalation = next(i for i, m in enumerate(chart.markers) if "escalate" in m.label)
        window.view.jump_to_marker(escalation)  # what a click on the marker does
        app.processEvents()
        window.grab().save(str(DOCS / "review.png"))
        window.close()
        store.close()
    print(f"wrote {DOCS / 'review.png'} and {DOCS / 'sample-report.html'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
