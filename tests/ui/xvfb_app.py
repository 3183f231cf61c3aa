"""Two small programs for the Xvfb test, run as subprocesses on a real X server.

    python xvfb_app.py holder    a plain window with a text box: the agent's own application
    python xvfb_app.py overlay   the Callcue overlay showing a cue, with its global hotkeys
    python xvfb_app.py maximised a maximised window, saying where it ends

Each prints one line per thing the test waits for (READY, TARGETS, WID, TEXT, WHY, CUE, HOTKEYS,
TIP, GEOM).
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtGui import QTextDocumentFragment
from PySide6.QtWidgets import QApplication, QLineEdit, QToolTip, QVBoxLayout, QWidget

KEEP: list[object] = []  # the windows must outlive the functions that make them


def say(*parts: object) -> None:
    print(*parts, flush=True)


def holder() -> None:
    w = QWidget()
    w.setWindowTitle("Agent CRM")
    w.setStyleSheet("background: #f4f4f4;")
    edit = QLineEdit()
    lay = QVBoxLayout(w)
    lay.addWidget(edit)
    lay.addStretch(1)
    edit.textChanged.connect(lambda text: say("TEXT", text))
    w.setGeometry(40, 40, 700, 500)
    KEEP.append(w)
    w.show()
    w.activateWindow()
    edit.setFocus()
    QTimer.singleShot(200, lambda: say("READY", int(w.winId())))


def maximised() -> None:
    """A maximised window: where the window manager lets it end (GEOM x y w h, on every change)."""
    w = QWidget()
    w.setWindowTitle("Agent CRM (maximised)")
    w.setStyleSheet("background: #f4f4f4;")
    KEEP.append(w)
    w.showMaximized()
    last: list[tuple[int, int, int, int]] = []

    def report() -> None:
        g = w.frameGeometry()
        now = (g.x(), g.y(), g.width(), g.height())
        if w.isMaximized() and now not in last:
            last.append(now)
            say("GEOM", *now)

    poll = QTimer(w)
    poll.timeout.connect(report)
    poll.start(50)


def overlay() -> None:
    from callcue.engine.events import Cue
    from callcue.settings import Settings
    from callcue.ui.hotkeys import GlobalHotkeys
    from callcue.ui.overlay import Overlay, run_hotkey
    from callcue.ui.panel import Phase

    s = Settings()
    s.set("opacity", 1.0)  # no compositor on Xvfb: opaque anyway, and the pixels are then exact
    o = Overlay(s)
    KEEP.append(o)
    hotkeys = GlobalHotkeys(o)
    hotkeys.ready.connect(lambda failed: say("HOTKEYS", repr(failed)))
    hotkeys.triggered.connect(lambda action: run_hotkey(o, action))
    hotkeys.set_keys(s.hotkeys)
    o.cueChanged.connect(lambda cue: say("CUE", cue.id if cue else None))
    o.card.why_button.toggled.connect(lambda on: say("WHY", "on" if on else "off"))
    o.on_phase(Phase("listening", "Listening (Xvfb test)"))
    o.on_events([Cue(at=21.4, id="check-in-silence", skill="time-management", severity="warn",
                     text="Check in: say what you're doing", why="Silent for 7s.", until=None)])
    o.show()

    def ready() -> None:
        g = o.geometry()
        card = o.card.geometry().translated(o.mapToGlobal(o.rect().topLeft()))
        why = o.card.why_button
        centre = why.mapToGlobal(why.rect().center())
        say("READY", g.x(), g.y(), g.width(), g.height(), card.x(), card.y(), card.width(), card.height(),
            centre.x(), centre.y())
        text = o.card.text.mapToGlobal(o.card.text.rect().center())
        settings = o.settings_button.mapToGlobal(o.settings_button.rect().center())
        say("TARGETS", text.x(), text.y(), settings.x(), settings.y())
        say("WID", int(o.winId()))

    seen: list[str] = []

    def watch_tooltip() -> None:
        # Qt's own tooltip window (QTipLabel): when it shows, where, and the first words it says.
        tip = next((w for w in QApplication.topLevelWidgets() if w.objectName() == "qtooltip_label"), None)
        shown = tip is not None and tip.isVisible()
        text = QToolTip.text() if shown else ""
        if shown and text not in seen:
            seen.append(text)
            g = tip.geometry()
            plain = " ".join(QTextDocumentFragment.fromHtml(text).toPlainText().split())
            say("TIP", g.x(), g.y(), g.width(), g.height(), plain)

    poll = QTimer(o)
    poll.timeout.connect(watch_tooltip)
    poll.start(50)
    QTimer.singleShot(300, ready)
    app = QApplication.instance()
    app.aboutToQuit.connect(hotkeys.stop)


if __name__ == "__main__":
    app = QApplication(sys.argv[:1])
    {"holder": holder, "overlay": overlay, "maximised": maximised}[sys.argv[1]]()
    sys.exit(app.exec())
