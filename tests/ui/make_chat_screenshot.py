"""The chat panel's screenshot in docs/: a live chat's cue and a checked draft.

    python tests/ui/make_chat_screenshot.py            # docs/overlay-chat.png

The panel listens on an ephemeral port, a chat is posted to it over HTTP as a chat tool would, and
the window is drawn with widget.grab() once its cue is on screen and the draft has been checked.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "overlay-chat.png"
CHAT = [("customer", "Hi, my parcel was due on Monday and it has not arrived."),
        ("agent", "Let me check that for you."),
        ("customer", "This is the third time I'm writing about this. I want to speak to a manager NOW")]
DRAFT = "Please be advised that your parcel is delayed as per our policy."


def main() -> int:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    home = tempfile.mkdtemp(prefix="callcue-shot-")
    os.environ["CALLCUE_CONFIG_DIR"] = str(Path(home) / "config")  # the token: not the user's
    os.environ["CALLCUE_MANAGED_CONFIG"] = ""
    from PySide6.QtCore import QDeadlineTimer, QEventLoop
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    from callcue.errors import CallcueError
    from callcue.settings import Settings
    from callcue.ui.chat_panel import ChatPanel

    s = Settings()
    s.set("opacity", 1.0)
    panel = ChatPanel(s)
    try:
        server = panel.start_server()  # the playbook's port, as the agent would see it
    except CallcueError:
        server = panel.start_server(port=0)  # a Callcue runs here: any free port
    try:
        for who, text in CHAT:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            conn.request("POST", "/v1/chats/ticket-4711/messages", json.dumps({"who": who, "text": text}),
                         {"Authorization": f"Bearer {server.token}", "Content-Type": "application/json"})
            assert conn.getresponse().status == 200
            conn.close()
        deadline = QDeadlineTimer(15000)
        while panel.card.cue is None and not deadline.hasExpired():
            app.processEvents(QEventLoop.AllEvents, 50)
        assert panel.card.cue is not None, "no cue reached the panel"
        panel.draft.setPlainText(DRAFT)
        panel.check_draft()
        panel.show_quietly()
        app.processEvents()
        OUT.parent.mkdir(exist_ok=True)
        assert panel.grab().save(str(OUT)), OUT
        print(OUT.relative_to(ROOT), panel.width(), "x", panel.height(), "logical px")
    finally:
        panel.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
