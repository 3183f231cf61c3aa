"""On a real X server with a window manager: a chat's cue appears beside the agent's application
without taking its keyboard, and the reply box takes the keyboard only when the agent clicks into it.

Xvfb and openbox play the desktop, a plain Qt window plays the agent's chat tool. Skipped only when
the programs are not installed (`./setup.sh --test` installs them; CI does).
"""

from __future__ import annotations

import http.client
import json
import sys

from tests.ui.test_xvfb import HERE, Proc, _until, pytestmark, xdo  # noqa: F401 - skip mark


def post(port: int, token: str, chat: str, who: str, text: str) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", f"/v1/chats/{chat}/messages", json.dumps({"who": who, "text": text}),
                 {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert conn.getresponse().status == 200
    conn.close()


def test_a_chat_cue_leaves_the_keyboard_with_the_agent_until_they_click_the_reply_box(desktop):
    env = desktop
    crm = Proc([sys.executable, str(HERE / "xvfb_app.py"), "holder"], env)
    chat = None
    try:
        crm_id = crm.expect("READY")[0]
        xdo(env, "windowactivate", "--sync", crm_id)
        _until(lambda: xdo(env, "getactivewindow") == crm_id, 5, "the chat tool's window to be active")

        chat = Proc([sys.executable, str(HERE / "xvfb_chat_app.py")], env)
        port, token = chat.expect("READY", timeout=20)
        post(int(port), token, "ticket-4711", "customer", "Hi, my parcel has not arrived.")
        post(int(port), token, "ticket-4711", "customer", "I want to speak to a manager NOW")
        assert chat.expect("CUE") == ["escalation-request"]
        panel_id, x, y = chat.expect("SHOWN")
        assert xdo(env, "getactivewindow") == crm_id  # the panel appeared without taking the keyboard
        assert xdo(env, "getwindowfocus") == crm_id
        xdo(env, "type", "--delay", "5", "ok")
        _until(lambda: crm.log[-1].strip() == "TEXT ok", 5, "the typing to reach the chat tool")

        # A click into the reply box gives it the keyboard: the draft is typed there and checked.
        xdo(env, "mousemove", x, y, "click", "1")
        _until(lambda: xdo(env, "getactivewindow") == panel_id, 5, "the chat panel to take the keyboard")
        xdo(env, "type", "--delay", "5", "No.")
        xdo(env, "key", "ctrl+Return")
        assert chat.expect("CHECK") == ["curt", "no-acknowledgement"]  # in the frustrated chat's context
        assert crm.log[-1].strip() == "TEXT ok"  # nothing went to the chat tool

        # A click back into the chat tool takes the keyboard back.
        xdo(env, "mousemove", "300", "60", "click", "1")
        _until(lambda: xdo(env, "getactivewindow") == crm_id, 5, "the chat tool to be active again")
        xdo(env, "type", "--delay", "5", "!")
        _until(lambda: crm.log[-1].strip() == "TEXT ok!", 5, "the typing to reach the chat tool again")
    finally:
        if chat is not None:
            chat.stop()
        crm.stop()
