"""The chat panel's plain-data model: which chat is shown, which cue is up, when it leaves, the check's context.

No Qt: events and the panel's clock (`now`) go in, the panel's state comes out.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import callcue.ui
from callcue.chat.engine import ChatSession
from callcue.engine.events import CallStart, Cue, CueAction, Frustration, Summary, Utterance
from callcue.ui.chat_model import ChatPanelModel

SHOW_S = 45.0


def cue(cid="acknowledge-frustration", at=10.0, severity="warn", text="Acknowledge how they feel", until=None):
    return Cue(at=at, id=cid, skill="empathy", severity=severity, text=text, why="They wrote in capitals.",
               until=at + SHOW_S if until is None else until)


def said(who, text, at, frustration=None):
    return Utterance(who=who, start=at, end=at, text=text, words=[], sentiment=0.0, frustration=frustration)


def summary():
    return Summary(talk_ratio=None, interruptions=0, longest_silence_s=0.0, frustration_peak=None, cues=[],
                   scores={})


@pytest.fixture
def model():
    return ChatPanelModel(show_s=SHOW_S)


def test_the_model_imports_no_qt():
    source = (Path(callcue.ui.__file__).parent / "chat_model.py").read_text()
    for node in ast.walk(ast.parse(source)):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
        for name in names:
            assert name.split(".")[0] not in ("PySide6", "PyQt5", "PyQt6", "time", "threading"), name


def test_the_first_chat_is_shown_with_its_frustration_and_cue(model):
    changed = model.apply("a", [CallStart(duration_s=None, channels=["agent", "customer"], model=None,
                                          transcript=None)], now=100.0)
    assert {"chats", "shown"} <= changed and model.shown == "a" and model.cue is None
    changed = model.apply("a", [said("customer", "WHERE IS MY PARCEL", 5.0, 0.9),
                                Frustration(at=5.0, level=0.81, trend="rising"), cue(at=5.0)], now=101.0)
    assert {"cue", "frustration"} <= changed
    view = model.current
    assert (view.frustration, view.trend, view.last_customer, view.preview) == (0.81, "rising", 0.9,
                                                                                "WHERE IS MY PARCEL")
    assert model.cue.id == "acknowledge-frustration"
    assert model.label(view) == "a \u00b7 frustration 0.81 \u00b7 \u25cf cue"


def test_a_cue_leaves_after_show_s_on_the_panels_clock(model):
    model.apply("a", [cue(at=0.0)], now=1000.0)
    assert model.tick(1000.0 + SHOW_S - 0.5) == set() and model.cue is not None
    assert "cue" in model.tick(1000.0 + SHOW_S) and model.cue is None


def test_a_cue_leaves_when_the_chats_own_clock_passes_its_until(model):
    model.apply("a", [cue(at=10.0, until=55.0)], now=0.0)
    # a replayed chat: its next message is a minute later on its own clock, a moment later on ours
    changed = model.apply("a", [said("customer", "hello?", 70.0, 0.2)], now=1.0)
    assert "cue" in changed and model.cue is None


def test_a_newer_cue_replaces_the_one_shown(model):
    model.apply("a", [cue("reply-waiting", at=10.0, text="Reply now")], now=0.0)
    model.apply("a", [cue("escalation-request", at=20.0, severity="alert", text="They asked to escalate")], now=10.0)
    assert model.cue.id == "escalation-request"
    # it counts from its own arrival
    assert model.tick(10.0 + SHOW_S - 1) == set() and model.cue is not None


def test_one_cue_at_a_time_across_chats(model):
    model.apply("a", [cue("reply-waiting", at=1.0)], now=0.0)
    model.apply("b", [cue("negotiate", at=1.0, severity="info")], now=5.0)
    model.apply("c", [cue("escalation-request", at=1.0, severity="alert")], now=6.0)
    assert model.shown == "a" and model.cue.id == "reply-waiting"  # its cue keeps the screen
    assert [v.chat_id for v in model.waiting()] == ["c", "b"]  # most urgent first
    changed = model.dismiss()
    assert "shown" in changed and model.shown == "c" and model.cue.id == "escalation-request"
    model.tick(6.0 + SHOW_S)  # c's cue is over, and so is b's (it arrived earlier)
    assert model.cue is None and model.waiting() == [] and model.shown == "c"


def test_a_chat_without_a_cue_gives_way_to_one_with(model):
    model.apply("a", [said("customer", "hi", 0.0, 0.1)], now=0.0)
    model.apply("b", [said("customer", "WHERE IS IT", 0.0, 0.9), cue(at=0.0)], now=1.0)
    assert model.shown == "b" and model.cue is not None


def test_the_agents_pick_stays_until_they_follow_the_cues_again(model):
    model.apply("a", [said("customer", "hi", 0.0, 0.1)], now=0.0)
    model.apply("b", [said("customer", "hello", 0.0, 0.1)], now=1.0)
    assert model.shown == "a"  # the first chat seen
    assert "shown" in model.select("b") and model.shown == "b"
    model.select("a")
    assert model.pinned and model.shown == "a"
    model.apply("b", [cue(at=2.0)], now=2.0)
    assert model.shown == "a" and model.cue is None and [v.chat_id for v in model.waiting()] == ["b"]
    assert model.select("nope") == set() and model.shown == "a"
    model.select(None)
    assert not model.pinned and model.shown == "b" and model.cue is not None


def test_a_draft_in_the_box_keeps_its_chat_on_screen(model):
    model.apply("a", [said("customer", "hi", 0.0, 0.1)], now=0.0)
    model.set_drafting(True)
    model.apply("b", [cue(at=1.0)], now=1.0)
    assert model.shown == "a"
    assert "shown" in model.set_drafting(False) and model.shown == "b"


def test_an_ended_chat_leaves_the_panel(model):
    model.apply("a", [cue(at=1.0)], now=0.0)
    model.apply("b", [said("customer", "hi", 0.0, 0.1)], now=1.0)
    model.select("a")
    changed = model.apply("a", [summary()], now=2.0)
    assert {"chats", "shown"} <= changed and list(model.chats) == ["b"] and model.shown == "b"
    assert not model.pinned
    assert model.apply("gone", [summary()], now=3.0) == set() and "gone" not in model.chats
    model.apply("b", [summary()], now=4.0)
    assert model.chats == {} and model.shown is None and model.current is None and model.cue is None


def test_an_engine_dismissal_clears_the_cue(model):
    model.apply("a", [cue(at=1.0)], now=0.0)
    model.apply("a", [CueAction(at=2.0, action="dismiss", cue="acknowledge-frustration")], now=1.0)
    assert model.cue is None


def test_the_chats_kept_are_capped_idle_longest_first():
    m = ChatPanelModel(show_s=SHOW_S, max_chats=3)
    for i, name in enumerate("abcd"):
        m.apply(name, [said("customer", "hi", 0.0, 0.1)], now=float(i))
    assert list(m.chats) == ["a", "c", "d"]  # "a" is shown, so "b" went


def test_the_reply_check_reads_the_shown_chats_frustration(model, playbook):
    cold = "Please be advised that your request is closed as per our policy."
    assert model.check(cold, playbook).ids == ["cold"]  # no chat: no context
    model.apply("calm", [said("customer", "thanks, that works", 0.0, 0.05),
                         Frustration(at=0.0, level=0.1, trend="steady")], now=0.0)
    assert model.context() == {"frustration": 0.1, "last_customer": 0.05}
    assert model.check("Great, it ships today.", playbook).ok
    model.apply("angry", [said("customer", "THIS IS RIDICULOUS", 0.0, 0.95),
                          Frustration(at=0.0, level=0.7, trend="rising")], now=1.0)
    model.select("angry")
    result = model.check(cold, playbook)
    assert result.ids == ["cold", "no-acknowledgement"] and result.frustration == 0.7
    assert "just so you know" in result.flags[0].suggestion
    assert model.check("I'm so sorry, I understand how frustrating this is. I will fix it now.", playbook).ok


def test_a_real_chat_sessions_events_drive_the_model(model, playbook):
    session = ChatSession(chat_id="t-1", playbook=playbook)
    model.apply("t-1", session.add("customer", "Hi, my parcel has not arrived.", 0.0), now=0.0)
    assert model.cue is None and model.current.frustration is not None
    model.apply("t-1", session.add("customer", "I want to speak to a manager NOW", 20.0), now=20.0)
    assert model.cue.id == "escalation-request" and model.cue.text == session.active_cue.text
    assert model.current.frustration == session.frustration
    assert model.context()["frustration"] == session.frustration
    draft = "Please be advised that we are looking into it."
    assert model.check(draft, playbook).to_dict() == session.check_reply(draft).to_dict()
