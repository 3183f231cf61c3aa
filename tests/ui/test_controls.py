"""Dismiss, snooze and hold from the panel, through the real engine on the demo call."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from callcue.engine.events import Cue, CueAction
from callcue.ui.overlay import Overlay, run_hotkey

from .conftest import EngineWorker

FIRST_CUE_S = 21.4  # the demo's first cue: "Check in" after the silence that follows "one moment"


@pytest.fixture
def live(qtbot, settings, store):
    worker = EngineWorker(settings)
    o = Overlay(settings, store, worker_factory=lambda: worker)
    qtbot.addWidget(o)
    o.show()
    o.start_call()
    worker.play_demo_until(22.0)
    assert o.card.cue is not None and o.card.cue.id == "check-in-silence"
    return o, worker


def actions(worker: EngineWorker) -> list[CueAction]:
    return [e for e in worker.engine.events if isinstance(e, CueAction)]


def test_dismiss_is_recorded_in_the_engine_event_stream(live, qtbot):
    o, worker = live
    qtbot.mouseClick(o.card.dismiss_button, Qt.LeftButton)
    assert o.card.cue is None and not o.card.text.isVisible()
    assert [(a.action, a.cue) for a in actions(worker)] == [("dismiss", "check-in-silence")]
    assert worker.engine.board.dismissed == ["check-in-silence"]
    worker.play_demo_until(30.0, start_s=22.0)  # the next cue still comes
    assert o.card.cue is not None and o.card.cue.id == "acknowledge-frustration"


def test_dismiss_of_a_cue_that_has_gone_does_not_dismiss_the_next(live):
    o, worker = live
    shown = len(worker.engine.events)
    worker.session.request("dismiss:let-them-finish")  # the agent's click came after that cue had gone
    assert len(worker.engine.events) == shown and actions(worker) == []
    assert o.card.cue.id == "check-in-silence"


def test_snooze_hides_cues_for_five_minutes(live, qtbot):
    o, worker = live
    qtbot.mouseClick(o.snooze_button, Qt.LeftButton)
    (snooze,) = actions(worker)
    assert snooze.action == "snooze" and snooze.until == pytest.approx(snooze.at + 300)
    assert o.card.cue is None
    assert o.snooze_chip.isVisible() and o.snooze_chip.text().startswith("Cues snoozed 5:00")
    assert o.snooze_button.text() == "End snooze"
    worker.play_demo_until(61.0, start_s=22.0)  # the rest of the call: every coaching cue is held back ...
    after = [e for e in worker.engine.events if isinstance(e, Cue) and e.at > snooze.at]
    assert [e.id for e in after] == ["escalation-request"]  # ... but the alert, which is never muted
    assert o.snooze_chip.text().startswith("Cues snoozed 4:")
    # The recent list has the alert, and the cues the snooze kept back, marked as such.
    o.recent_button.click()
    assert o.recent.isVisible()
    recent = list(o.state.recent)
    assert recent[0].id == "escalation-request" or any(r.id == "escalation-request" for r in recent)
    held = [r for r in recent if r.held == "snooze"]
    assert held and "held back: snoozed" in o.recent.label.text()
    assert held[0].text in o.recent.label.text()


def test_a_click_on_the_snooze_countdown_cancels_it(live, qtbot):
    o, worker = live
    qtbot.mouseClick(o.snooze_button, Qt.LeftButton)
    assert o.snooze_chip.isVisible()
    qtbot.mouseClick(o.snooze_chip, Qt.LeftButton)
    assert [a.action for a in actions(worker)] == ["snooze", "unsnooze"]
    assert not o.snooze_chip.isVisible() and o.snooze_button.text() == "Snooze 5 min"
    worker.play_demo_until(30.0, start_s=22.0)  # coaching cues come again at once
    assert o.card.cue is not None and o.card.cue.id == "acknowledge-frustration"


def test_the_snooze_hotkey_pressed_again_cancels_the_snooze(live):
    o, worker = live
    run_hotkey(o, "snooze")
    assert o.snooze_chip.isVisible()
    assert "Ctrl+Alt+Z" in o.snooze_chip.toolTip()
    run_hotkey(o, "snooze")
    assert [a.action for a in actions(worker)] == ["snooze", "unsnooze"]
    assert not o.snooze_chip.isVisible()


def test_the_tray_says_how_long_the_snooze_has_left_and_ends_it(live):
    from callcue.ui.tray import Tray

    o, worker = live
    tray = Tray(o)
    tray.actions["snooze"].trigger()
    assert tray.actions["snooze"].text().startswith("End snooze (5:00 left)")
    worker.play_demo_until(25.0, start_s=22.0)
    assert tray.actions["snooze"].text().startswith("End snooze (4:57 left)")
    tray.actions["snooze"].trigger()
    assert [a.action for a in actions(worker)] == ["snooze", "unsnooze"]
    assert tray.actions["snooze"].text().startswith("Snooze cues 5 min")


def test_hold_mutes_cues_until_resumed(live, qtbot):
    o, worker = live
    qtbot.mouseClick(o.hold_button, Qt.LeftButton)
    assert [a.action for a in actions(worker)] == ["hold"]
    assert o.card.cue is None and o.hold_button.text() == "Resume" and o.hold_button.isChecked()
    assert o.timer.text().startswith("On hold 0:00")
    worker.play_demo_until(27.5, start_s=22.0)
    assert o.timer.text().startswith("On hold 0:05")
    assert not [e for e in worker.engine.events if isinstance(e, Cue) and e.at > 22.0]
    qtbot.mouseClick(o.hold_button, Qt.LeftButton)
    assert [a.action for a in actions(worker)] == ["hold", "resume"]
    assert o.hold_button.text() == "Hold" and not o.hold_button.isChecked()
    worker.play_demo_until(34.0, start_s=27.5)  # cues come again after the hold
    assert o.card.cue is not None


def test_hotkey_actions_reach_the_engine(live):
    o, worker = live
    run_hotkey(o, "dismiss")
    run_hotkey(o, "hold")
    run_hotkey(o, "hold")
    run_hotkey(o, "snooze")
    assert [a.action for a in actions(worker)] == ["dismiss", "hold", "resume", "snooze"]
    run_hotkey(o, "expand")
    assert o.settings.mode == "compact"


def test_a_hold_ends_by_itself_when_both_sides_speak_again_and_says_so(live, qtbot):
    o, worker = live
    qtbot.mouseClick(o.hold_button, Qt.LeftButton)
    worker.play_demo_until(35.0, start_s=22.0)
    assert o.timer.text().startswith("On hold 0:13") and "coaching cues muted" in o.timer.text()
    worker.play_demo_until(38.0, start_s=35.0)  # both have spoken again, 5 s after the hold settled
    (resume,) = [a for a in actions(worker) if a.action == "resume"]
    assert resume.reason == "both sides are speaking again"
    assert o.timer.isVisible() and o.timer.text() == "Hold ended: both sides are speaking again"
    assert o.timer.property("kind") == "hold-ended"
    assert o.hold_button.text() == "Hold" and not o.hold_button.isChecked()
    worker.play_demo_until(45.0, start_s=38.0)  # the note stays a few seconds, then goes
    assert "Hold ended" not in o.timer.text()


def test_after_the_call_a_wrap_up_for_the_agent_alone_closed_with_one_click(live, qtbot, tmp_path):
    from callcue.engine.events import Summary

    o, worker = live
    worker.play_demo_until(worker.rec.duration_s, start_s=22.0)
    before = len(worker.engine.events)
    (summary,) = [e for e in worker.engine.finish() if isinstance(e, Summary)]
    worker.send(summary)
    assert o.wrapup.isVisible() and not o.card.isVisible()
    text = o.wrapup.body.text()
    share = round(100 * summary.talk_ratio)
    assert f"You talked {share}% of the time, the customer {100 - share}%." in text
    assert "What went well" in text and "Accountability 100" in text
    # the weakest skill, with the cue the call gave for it
    assert "One thing to try next call" in text and "Empathy: Acknowledge how they feel" in text
    assert "I will call you back tomorrow before noon with the tracking number (due tomorrow before noon)" in text
    acts = list(worker.actions)
    qtbot.mouseClick(o.wrapup.done, Qt.LeftButton)
    assert not o.wrapup.isVisible() and o.card.isVisible()
    assert worker.actions == acts  # closing it tells the call nothing: nothing of it is recorded
    assert len(worker.engine.events) == before + 1  # only the summary itself; no wrap-up event anywhere
