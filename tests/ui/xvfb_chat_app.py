"""The chat panel as a program for the Xvfb test (tests/ui/test_xvfb_chat.py), on a real X server.

    python xvfb_chat_app.py     the chat panel listening on an ephemeral port of 127.0.0.1

It prints one line per thing the test waits for: READY port token, CUE id, SHOWN window-id x y (the
reply box's centre on the screen), CHECK flag ids.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

KEEP: list[object] = []


def say(*parts: object) -> None:
    print(*parts, flush=True)


def main() -> None:
    from callcue.settings import Settings
    from callcue.ui.chat_panel import ChatPanel

    s = Settings()
    s.set("opacity", 1.0)
    panel = ChatPanel(s)
    KEEP.append(panel)
    server = panel.start_server(port=0)

    def shown() -> None:
        box = panel.draft.viewport()
        centre = box.mapToGlobal(box.rect().center())
        say("SHOWN", int(panel.winId()), centre.x(), centre.y())

    def cue(c) -> None:  # type: ignore[no-untyped-def]
        say("CUE", c.id if c else None)
        if c is not None:
            QTimer.singleShot(300, shown)  # the window manager maps the window meanwhile

    panel.cueChanged.connect(cue)
    panel.checked.connect(lambda result: say("CHECK", *(result.ids or ["ok"])))
    QApplication.instance().aboutToQuit.connect(panel.shutdown)
    say("READY", server.port, server.token)


if __name__ == "__main__":
    app = QApplication(sys.argv[:1])
    main()
    sys.exit(app.exec())
