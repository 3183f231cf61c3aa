"""The overlay's chat panel in Qt's offscreen platform: a real endpoint on 127.0.0.1, real HTTP posts,
the events queued from the server's threads into the UI thread, and the reply check through the widget.

No sleeps: the tests process Qt events until the condition holds (qtbot.waitUntil polls it).
"""

from __future__ import annotations

import http.client
import json
import socket
import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QToolButton

from callcue.errors import CallcueError
from callcue.settings import Settings
from callcue.ui.chat_panel import ChatPanel

WAIT_MS = 15000  # only how long a broken test hangs: the cue comes as soon as Qt has run its queue

COLD = "Please be advised that your request is closed as per our policy."
WARM = "I'm so sorry about the wait, I understand how frustrating this is. I've asked for your refund today."


def call(server, method: str, path: str, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    headers = {"Authorization": f"Bearer {server.token}", "Content-Type": "application/json"}
    conn.request(method, path, body=None if body is None else json.dumps(body).encode(), headers=headers)
    resp = conn.getresponse()
    out = resp.status, json.loads(resp.read() or b"{}")
    conn.close()
    return out


def post(server, chat: str, *messages: tuple[str, str]) -> dict:
    status, data = call(server, "POST", f"/v1/chats/{chat}/messages",
                        {"messages": [{"who": who, "text": text} for who, text in messages]})
    assert status == 200, data
    return data


@pytest.fixture
def panel(qtbot, playbook):
    p = ChatPanel(Settings(), playbook)
    qtbot.addWidget(p)
    p.start_server(port=0)  # an ephemeral port: tests never meet a running Callcue
    yield p
    p.shutdown()


def angry_chat(panel, qtbot, chat: str = "ticket-4711") -> dict:
    post(panel.server, chat, ("customer", "Hi, my parcel has not arrived."))
    data = post(panel.server, chat, ("customer", "I want to speak to a manager NOW"))
    qtbot.waitUntil(lambda: panel.card.cue is not None and panel.card.cue.id == "escalation-request",
                    timeout=WAIT_MS)
    return data


def test_a_chat_posted_over_http_shows_its_cue_and_frustration(panel, qtbot):
    assert panel.server.host == "127.0.0.1" and panel.server.port > 0
    assert "No live chats yet" in panel.status.text() and not panel.isVisible()
    data = angry_chat(panel, qtbot)
    assert data["active_cue"]["id"] == "escalation-request"
    assert panel.card.text.text() == "They asked to escalate: follow policy"
    assert panel.card.text.isVisible() and not panel.card.placeholder.isVisible()
    assert "escalate" in panel.card.why.text() or "manager" in panel.card.why.text()
    assert panel.meter.level == data["frustration"] and panel.meter.level > 0.5
    assert "I want to speak to a manager NOW" in panel.preview.text()
    assert panel.isVisible()  # a new chat shows the panel...
    # ...without taking the keyboard: the window system is told so (test_xvfb_chat.py checks it on X11)
    assert panel.windowHandle().property("_q_showWithoutActivating") is True
    assert "1 live chat" in panel.status.text() and panel.server.url in panel.status.text()
    assert [panel.chooser.itemData(i) for i in range(panel.chooser.count())] == [None, "ticket-4711"]


def test_events_cross_from_the_servers_thread_through_a_queued_signal(panel, qtbot):
    hook = panel.server.on_events
    threads: dict[str, set[int]] = {"hook": set(), "slot": set()}

    def spy(chat_id, events):
        threads["hook"].add(threading.get_ident())
        hook(chat_id, events)

    panel.server.on_events = spy
    panel.bridge.events.connect(lambda *_: threads["slot"].add(threading.get_ident()))
    angry_chat(panel, qtbot)
    assert threads["slot"] == {threading.get_ident()}  # the UI thread
    assert threads["hook"] and threading.get_ident() not in threads["hook"]  # the server's own threads


def test_the_shown_chat_follows_the_cues_and_the_agents_pick(panel, qtbot):
    post(panel.server, "calm", ("customer", "Hi, could you tell me when my order ships?"))
    qtbot.waitUntil(lambda: "calm" in panel.model.chats, timeout=WAIT_MS)
    assert panel.model.shown == "calm" and panel.card.cue is None
    angry_chat(panel, qtbot, "angry")  # the panel moves to the chat with a cue
    assert panel.model.shown == "angry"
    panel.chooser.activated.emit(panel.chooser.findData("calm"))
    assert panel.model.shown == "calm" and panel.model.pinned and panel.card.cue is None
    assert panel.preview.text() == "Customer: \u201cHi, could you tell me when my order ships?\u201d"
    panel.chooser.activated.emit(0)  # Follow cues
    assert panel.model.shown == "angry" and panel.card.cue is not None
    status, _ = call(panel.server, "POST", "/v1/chats/angry/end", {})
    assert status == 200
    qtbot.waitUntil(lambda: "angry" not in panel.model.chats, timeout=WAIT_MS)
    assert panel.model.shown == "calm" and panel.card.cue is None


def test_the_reply_check_flags_a_cold_draft_and_passes_a_warm_one(panel, qtbot):
    angry_chat(panel, qtbot)
    panel.draft.setPlainText(COLD)
    QTest.keyClick(panel.draft, Qt.Key_Return, Qt.ControlModifier)  # Ctrl+Enter checks
    result = panel.result
    assert result is not None and result.ids == ["cold", "no-acknowledgement"]
    text = panel.check_result.text()
    assert panel.check_result.isVisible()
    assert "Sounds cold or overly formal" in text and "just so you know" in text and "under our policy" in text
    assert "does not acknowledge" in text and "ticket-4711" in text
    assert panel.draft.toPlainText() == COLD  # Ctrl+Enter checked: no new line, nothing sent or changed
    # the panel's check is the endpoint's check of the same draft in the same chat
    status, remote = call(panel.server, "POST", "/v1/chats/ticket-4711/check", {"draft": COLD})
    assert status == 200 and remote["flags"] == result.to_dict()["flags"]

    panel.draft.setPlainText(WARM)
    assert panel.result is None and not panel.check_result.isVisible()  # the old flags were for another text
    QTest.mouseClick(panel.check_button, Qt.LeftButton)
    assert panel.result.ok and "No flags" in panel.check_result.text()


def test_the_reply_check_works_without_a_chat(qtbot, playbook):
    p = ChatPanel(Settings(), playbook)  # not listening: the check still reads a draft
    qtbot.addWidget(p)
    assert "Not listening" in p.status.text()
    p.draft.setPlainText(COLD)
    assert p.check_draft().ids == ["cold"] and "with no chat as context" in p.check_result.text()
    p.draft.setPlainText("   ")
    assert p.check_draft() is None and "Write or paste" in p.check_result.text()


def test_only_the_reply_box_takes_the_keyboard_and_only_when_clicked(panel, qtbot):
    flags = panel.windowFlags()
    assert flags & Qt.Tool and flags & Qt.WindowStaysOnTopHint
    assert not flags & Qt.WindowDoesNotAcceptFocus  # or typing could never reach the reply box
    assert panel.testAttribute(Qt.WA_ShowWithoutActivating)
    assert panel.draft.focusPolicy() == Qt.ClickFocus
    buttons = panel.findChildren(QToolButton)
    assert buttons and all(b.focusPolicy() == Qt.NoFocus for b in buttons)
    assert panel.chooser.focusPolicy() == Qt.NoFocus
    panel.show_quietly()
    qtbot.waitExposed(panel)
    assert not panel.draft.hasFocus()
    QTest.mouseClick(panel.draft.viewport(), Qt.LeftButton)
    qtbot.waitUntil(panel.draft.hasFocus, timeout=WAIT_MS)
    QTest.keyClicks(panel.draft, "No.")
    QTest.keyClick(panel.draft, Qt.Key_Enter, Qt.ControlModifier)
    assert panel.result.ids == ["curt"]


def test_the_dismiss_button_clears_the_cue_and_the_chat_counts_it(panel, qtbot):
    angry_chat(panel, qtbot)
    QTest.mouseClick(panel.card.dismiss_button, Qt.LeftButton)
    assert panel.card.cue is None and panel.card.placeholder.isVisible()
    session = panel.server.session("ticket-4711")
    assert session.active_cue is None  # the chat's engine heard it, not only the panel
    summary = panel.server.end("ticket-4711")[-1]
    assert summary.cues_dismissed == ["escalation-request"]


def test_a_taken_port_is_said_on_the_panel(panel, qtbot, playbook):
    other = ChatPanel(Settings(), playbook)
    qtbot.addWidget(other)
    with pytest.raises(CallcueError, match="cannot listen"):
        other.start_server(port=panel.server.port)
    assert other.server is None and "Not listening for chats: cannot listen" in other.status.text()


def test_the_overlay_shows_and_hides_the_chat_panel(overlay, panel, qtbot):
    overlay.attach_chat(panel)
    assert panel.companion is overlay and overlay.chat_button.isVisible()
    assert overlay.chat_button.focusPolicy() == Qt.NoFocus
    QTest.mouseClick(overlay.chat_button, Qt.LeftButton)
    assert panel.isVisible()
    assert not panel.geometry().intersects(overlay.geometry())  # docked clear of the overlay
    QTest.mouseClick(overlay.chat_button, Qt.LeftButton)
    assert not panel.isVisible()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_starts_stops_and_moves_the_endpoint_as_the_settings_say(overlay, settings, qtbot):
    from callcue.commands.run import ChatAssist

    settings.set("chat_port", free_port())
    chat = ChatAssist(settings, overlay)
    chat.sync()
    try:
        assert chat.panel is not None and chat.panel.server.port == settings.chat_port
        assert overlay.chat_panel is chat.panel
        post(chat.panel.server, "c1", ("customer", "I want to speak to a manager NOW"))
        qtbot.waitUntil(lambda: chat.panel.card.cue is not None, timeout=WAIT_MS)
        settings.set("chat_enabled", False)
        chat.sync()
        assert chat.panel.server is None and not overlay.chat_button.isVisible()
        settings.set("chat_enabled", True)
        settings.set("chat_port", free_port())
        chat.sync()
        assert chat.panel.server.port == settings.chat_port and chat.panel.model.chats == {}
        taken = chat.panel.server.port
        other = ChatAssist(Settings(chat_port=taken), overlay)
        other.sync()  # the port is in use: the overlay says so, the app goes on
        assert other.panel.server is None and "Chat assistance is off" in overlay.notice.text()
        assert "Chat port" in overlay.notice.text()
    finally:
        chat.stop()


def test_the_settings_dialog_turns_chat_assistance_off_and_picks_its_port(qtbot, store, monkeypatch):
    from callcue.ui import settings_dialog

    monkeypatch.setattr(settings_dialog, "input_devices", lambda: (["Headset mic"], None))
    s = store.load()
    assert (s.chat_enabled, s.chat_port) == (True, None)
    d = settings_dialog.SettingsDialog(s, store, meters=False)
    qtbot.addWidget(d)
    assert d.chat_enabled.isChecked() and d.chat_port.text() == "the playbook's (chat.port)"
    d.chat_enabled.setChecked(False)
    d.chat_port.setValue(9123)
    d.accept()
    assert (s.chat_enabled, s.chat_port) == (False, 9123)
    assert (store.load().chat_enabled, store.load().chat_port) == (False, 9123)
    with pytest.raises(ValueError, match="port number"):
        s.set("chat_port", 80)
