"""The overlay in Qt's offscreen platform, driven by synthetic events and the audio clock."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from callcue.engine.events import (
    CallStart,
    Cue,
    Frustration,
    Partial,
    Speech,
    Status,
    Summary,
    Utterance,
)
from callcue.ui.overlay import Overlay, run_hotkey
from callcue.ui.panel import Phase
from callcue.ui.qtcompat import emit


def cue(cid: str = "let-them-finish", at: float = 10.0, text: str = "Let them finish",
        skill: str = "active-listening", until: float | None = None, severity: str = "warn") -> Cue:
    return Cue(at=at, id=cid, skill=skill, severity=severity, text=text, why="You started while they spoke.",
               evidence={"at": at - 1, "overlap_s": 0.9}, until=at + 6 if until is None else until)


def started(overlay: Overlay, worker) -> None:
    overlay.start_call()
    assert overlay.worker is worker and overlay.in_call


# ---- the window --------------------------------------------------------------------------------


def test_window_is_on_top_frameless_and_never_takes_focus(overlay):
    flags = overlay.windowFlags()
    for flag in (Qt.WindowStaysOnTopHint, Qt.WindowDoesNotAcceptFocus, Qt.FramelessWindowHint, Qt.Tool):
        assert flags & flag, flag
    assert not flags & Qt.WindowTransparentForInput
    assert overlay.testAttribute(Qt.WA_ShowWithoutActivating)
    assert overlay.focusPolicy() == Qt.NoFocus
    assert overlay.windowHandle().flags() & Qt.WindowDoesNotAcceptFocus  # what the platform is told
    assert all(b.focusPolicy() == Qt.NoFocus for b in (overlay.call_button, overlay.hold_button,
                                                       overlay.snooze_button, overlay.card.dismiss_button))


def test_click_through_toggles_input_transparency_and_is_remembered(overlay, store):
    overlay.toggle_click_through()
    assert overlay.windowFlags() & Qt.WindowTransparentForInput
    assert overlay.windowFlags() & Qt.WindowStaysOnTopHint
    assert overlay.isVisible() and overlay.click_through_label.isVisible()
    assert store.load().click_through is True
    overlay.toggle_click_through()
    assert not overlay.windowFlags() & Qt.WindowTransparentForInput
    assert store.load().click_through is False


def test_docks_to_the_right_or_left_edge_of_the_screen(overlay, settings):
    area = QGuiApplication.primaryScreen().availableGeometry()
    g = overlay.geometry()
    assert (g.right(), g.top(), g.width()) == (area.right(), area.top(), settings.width)
    assert g.height() <= area.height()
    settings.set("edge", "left")
    settings.set("width", 300)
    overlay.apply_settings()
    g = overlay.geometry()
    assert (g.left(), g.top(), g.width()) == (area.left(), area.top(), 300)


def test_width_is_clamped_to_the_screen_and_an_unknown_screen_falls_back_to_the_primary(overlay, settings):
    settings.set("width", 720)
    settings.set("screen", "HDMI-9 (unplugged)")
    overlay.apply_settings()
    area = QGuiApplication.primaryScreen().availableGeometry()
    assert overlay.target_screen() is QGuiApplication.primaryScreen()
    assert overlay.geometry().width() == min(720, area.width())
    assert overlay.geometry().right() == area.right()


def test_compact_mode_hides_the_details_and_is_shorter(overlay, store, fake_worker):
    started(overlay, fake_worker)
    tall = overlay.height()
    assert overlay.captions.isVisible() and overlay.talk.isVisible()
    overlay.toggle_mode()
    assert overlay.settings.mode == "compact" and store.load().mode == "compact"
    assert not overlay.captions.isVisible() and not overlay.talk.isVisible() and not overlay.meter.isVisible()
    assert overlay.mini_meter.isVisible() and overlay.card.isVisible()
    assert overlay.height() < tall
    overlay.toggle_mode()
    assert overlay.captions.isVisible()


def test_before_a_call_the_panel_is_compact_start_and_status_only(overlay, fake_worker):
    idle = overlay.height()
    assert overlay.call_button.isVisible() and overlay.status.isVisible()
    for w in (overlay.card, overlay.meter, overlay.talk, overlay.captions, overlay.promises, overlay.hold_button,
              overlay.snooze_button, overlay.recent_button):
        assert not w.isVisible(), w
    started(overlay, fake_worker)
    assert overlay.card.isVisible() and overlay.captions.isVisible() and overlay.hold_button.isVisible()
    assert overlay.height() > idle + 150
    overlay.toggle_call()  # the call ended: its panel stays (the last cues, the wrap-up) until the next
    assert overlay.state.phase.name == "ended" and overlay.card.isVisible()


def test_opacity_comes_from_the_settings(qtbot, store):
    from callcue.settings import Settings

    s = Settings()
    s.set("opacity", 0.6)
    o = Overlay(s, store)
    qtbot.addWidget(o)
    assert abs(o.windowOpacity() - 0.6) < 0.01


# ---- cues --------------------------------------------------------------------------------------


def test_a_cue_appears_when_the_engine_sends_one_and_leaves_when_its_time_is_over(overlay, fake_worker, qtbot):
    started(overlay, fake_worker)
    seen = []
    overlay.cueChanged.connect(seen.append)
    assert not overlay.card.text.isVisible()
    fake_worker.clock(9.9)
    fake_worker.send(cue(at=10.0, until=16.0))
    assert overlay.card.text.isVisible() and overlay.card.text.text() == "Let them finish"
    assert overlay.card.meta.text().startswith("Active listening")
    fake_worker.clock(15.9)
    assert overlay.card.text.isVisible()
    fake_worker.clock(16.0)
    assert not overlay.card.text.isVisible() and overlay.card.placeholder.isVisible()
    assert [c.id if c else None for c in seen] == ["let-them-finish", None]


def test_the_next_cue_replaces_the_one_showing(overlay, fake_worker):
    started(overlay, fake_worker)
    seen = []
    overlay.cueChanged.connect(seen.append)
    fake_worker.send(cue(at=10.0))
    fake_worker.clock(11.0)
    fake_worker.send(cue("escalation-request", at=11.0, text="They asked to escalate: follow policy",
                         skill="conflict-management", severity="alert"))
    assert overlay.card.text.text() == "They asked to escalate: follow policy"
    assert "urgent" in overlay.card.meta.text()
    assert [c.id for c in seen] == ["let-them-finish", "escalation-request"]
    fake_worker.clock(16.5)  # the first cue's time would be over: the second still shows
    assert overlay.card.cue.id == "escalation-request"


def test_why_shows_the_evidence_on_click_and_on_hover(overlay, fake_worker, qtbot):
    started(overlay, fake_worker)
    fake_worker.send(cue())
    assert not overlay.card.why.isVisible()
    assert "You started while they spoke." in overlay.card.toolTip()
    qtbot.mouseClick(overlay.card, Qt.LeftButton)
    assert overlay.card.why.isVisible()
    assert "Overlap: 0.9 s" in overlay.card.why.text()
    qtbot.mouseClick(overlay.card.why_button, Qt.LeftButton)
    assert not overlay.card.why.isVisible()


# ---- meters, timers, captions, promises, status -------------------------------------------------


def test_frustration_meter_and_talk_bar(overlay, fake_worker):
    started(overlay, fake_worker)
    assert "not heard yet" in overlay.meter.text()
    fake_worker.send(Frustration(at=20.0, level=0.62, trend="rising"))
    assert overlay.meter.text() == "Customer frustration 0.62 \u25b2 rising"
    fake_worker.send(Frustration(at=30.0, level=0.5, trend="falling"))
    assert "0.50 \u25bc easing" in overlay.meter.text()
    fake_worker.clock(31.0, talk_s={"agent": 30.0, "customer": 10.0})
    assert overlay.talk.text() == "Talk: you 75% \u00b7 customer 25%"


def test_talk_bar_from_speech_events_when_ticks_do_not_carry_talk(overlay, fake_worker):
    started(overlay, fake_worker)
    fake_worker.send(Speech(who="agent", start=0.0, end=6.0), Speech(who="customer", start=6.5, end=8.5))
    assert overlay.talk.text() == "Talk: you 75% \u00b7 customer 25%"


def test_silence_timer_shows_once_quiet_for_3_s(overlay, fake_worker):
    started(overlay, fake_worker)
    fake_worker.clock(10.0, quiet_s=2.9)
    assert not overlay.timer.isVisible()
    fake_worker.clock(10.1, quiet_s=3.0)
    assert overlay.timer.isVisible() and overlay.timer.text() == "Quiet 0:03"
    fake_worker.clock(17.4, quiet_s=10.3)
    assert overlay.timer.text() == "Quiet 0:10"
    fake_worker.clock(17.5, quiet_s=0.0)
    assert not overlay.timer.isVisible()


def test_silence_timer_derived_from_events_and_the_clock(overlay, fake_worker):
    started(overlay, fake_worker)
    fake_worker.send(Utterance(who="agent", start=1.0, end=5.0, text="One moment."))
    fake_worker.clock(7.9)
    assert not overlay.timer.isVisible()
    fake_worker.clock(8.0)
    assert overlay.timer.isVisible() and overlay.timer.text() == "Quiet 0:03"
    fake_worker.send(Partial(who="customer", at=8.5, text="hello"))
    fake_worker.clock(8.6)
    assert not overlay.timer.isVisible()


def test_captions_replace_partials_keep_finals_and_can_be_switched_off(overlay, fake_worker, settings):
    started(overlay, fake_worker)
    fake_worker.send(Partial(who="customer", at=1.0, text="my parcel"))
    fake_worker.send(Partial(who="customer", at=1.5, text="my parcel was due"))
    assert [c.text for c in overlay.captions.lines] == ["my parcel was due"]
    fake_worker.send(Utterance(who="customer", start=0.5, end=2.0, text="My parcel was due on Monday."))
    fake_worker.send(Partial(who="agent", at=2.5, text="I am"))
    assert [(c.text, c.final) for c in overlay.captions.lines] == [("My parcel was due on Monday.", True),
                                                                   ("I am", False)]
    assert "Customer:" in overlay.captions.text() and "You:" in overlay.captions.text()
    settings.set("captions", False)
    overlay.apply_settings()
    assert not overlay.captions.isVisible()


def test_promises_from_the_engine_and_the_summary(overlay, fake_worker):
    started(overlay, fake_worker)
    fake_worker.clock(51.0, commitments=["I will release the parcel today"])
    assert overlay.promises.items == ["I will release the parcel today"]
    fake_worker.send(Summary(talk_ratio=0.6, interruptions=1, longest_silence_s=8.0, frustration_peak=0.8,
                             cues=[], scores={}, commitments=[{"at": 51.0, "text": "I will call you back tomorrow",
                                                               "due": "tomorrow"}]))
    assert overlay.promises.items == ["I will release the parcel today", "I will call you back tomorrow"]
    assert "call you back tomorrow" in overlay.promises.text()


def test_status_line_says_what_is_listening_and_what_went_wrong(overlay, fake_worker, qtbot):
    started(overlay, fake_worker)
    fake_worker.send(CallStart(duration_s=None, channels=["agent", "customer"], model="vosk-model-small-en-us-0.15",
                               transcript="vosk"))
    emit(fake_worker.phase, Phase("listening", "Listening: Headset mic + Monitor of speakers"))
    assert "Headset mic" in overlay.status.text.text()
    assert not overlay.status.fix.isVisible()
    fake_worker.send(Status(at=12.0, kind="device-lost", message="Headset mic was unplugged", who="agent"))
    assert "Device lost" in overlay.status.text.text() and "unplugged" in overlay.status.text.text()
    assert overlay.status.fix.isVisible() and overlay.status.fix.text() == "Choose device\u2026"
    with qtbot.waitSignal(overlay.settingsRequested) as sig:
        qtbot.mouseClick(overlay.status.fix, Qt.LeftButton)
    assert sig.args == ["devices"]
    fake_worker.send(Status(at=15.0, kind="device-back", message="Headset mic is back", who="agent"))
    assert "unplugged" not in overlay.status.text.text()
    fake_worker.send(Status(at=16.0, kind="overload", message="the recognizer fell 2 s behind; audio dropped"))
    assert "Overload" in overlay.status.text.text()
    fake_worker.clock(26.5)
    assert "Overload" not in overlay.status.text.text()  # it passes once the worker keeps up again


def test_missing_microphone_and_model_still_open_with_a_way_to_fix_them(qtbot, settings, store, monkeypatch):
    """What `callcue` does on a machine with no microphone and no model: a clear status, a button."""
    from callcue.commands import run as run_cmd
    from callcue.speech import models
    from callcue.ui import settings_dialog

    monkeypatch.setattr(models, "all_models", lambda: [])  # this machine's Korean test model is not there
    monkeypatch.setattr(settings_dialog, "input_devices",
                        lambda: ([], "no input device found: plug in a headset"))
    problem, fix = run_cmd.preflight(settings)
    assert "No microphone" in problem and "No speech model" in problem and fix == "devices"
    o = Overlay(settings, store, worker_factory=None)
    qtbot.addWidget(o)
    o.show()
    o.on_phase(Phase("idle", f"Not listening. {problem}", fix=fix))
    assert "plug in a headset" in o.status.text.text()
    assert o.status.fix.isVisible() and o.status.fix.text() == "Choose device\u2026"
    monkeypatch.setattr(settings_dialog, "input_devices", lambda: (["Headset mic"], None))
    problem, fix = run_cmd.preflight(settings)
    assert fix == "model" and "Install one" in problem


def test_settings_notice_is_shown_until_closed(qtbot, settings, store):
    o = Overlay(settings, store, notice="Your settings file was damaged; a copy is in /x.")
    qtbot.addWidget(o)
    o.show()
    assert o.notice_box.isVisible() and "damaged" in o.notice.text()
    qtbot.mouseClick(o.notice_close, Qt.LeftButton)
    assert not o.notice_box.isVisible()


# ---- controls ------------------------------------------------------------------------------------


def test_controls_are_off_until_a_call_starts(overlay, fake_worker):
    assert not overlay.hold_button.isEnabled() and not overlay.snooze_button.isEnabled()
    assert overlay.call_button.isEnabled() and "Start" in overlay.call_button.text()
    overlay.toggle_call()
    assert overlay.hold_button.isEnabled() and "Stop" in overlay.call_button.text()
    overlay.toggle_call()
    assert overlay.state.phase.name == "ended"
    assert "Start" in overlay.call_button.text()


def test_tray_icon_shows_the_state_and_offers_every_control(overlay, fake_worker):
    from callcue.ui import theme
    from callcue.ui.tray import Tray, state_colour

    tray = Tray(overlay)
    assert state_colour(overlay) == (theme.IDLE, "Callcue: not listening")
    assert not tray.actions["hold"].isEnabled() and tray.actions["call"].text().startswith("Start call")
    started(overlay, fake_worker)
    assert tray.tooltip == "Callcue: listening" and tray.actions["hold"].isEnabled()
    fake_worker.send(cue())
    assert tray.colour == theme.skill_style("active-listening").colour and "Let them finish" in tray.tooltip
    tray.actions["dismiss"].trigger()
    assert fake_worker.actions == ["dismiss:let-them-finish"] and tray.tooltip == "Callcue: listening"
    tray.actions["hold"].trigger()
    assert fake_worker.actions[-1] == "hold"
    fake_worker.send(Status(at=5.0, kind="device-lost", message="Headset mic was unplugged", who="agent"))
    assert tray.colour == theme.BAD and tray.tooltip == "Callcue: needs attention"
    tray.actions["click_through"].trigger()
    assert overlay.settings.click_through and tray.actions["click_through"].isChecked()


# ---- recent cues ---------------------------------------------------------------------------------


def test_recent_cues_list_the_last_five_newest_first_with_why_and_held_back_ones_marked(overlay, fake_worker):
    from callcue.engine.events import CueHeld

    started(overlay, fake_worker)
    assert not overlay.recent.isVisible()
    overlay.recent_button.click()
    assert overlay.recent.isVisible() and "No cues yet" in overlay.recent.label.text()
    fake_worker.send(cue("let-them-finish", at=10.0))
    fake_worker.send(cue("repeat-contact", at=20.0, text="They've called before: own it", skill="empathy"))
    fake_worker.send(CueHeld(at=20.3, id="repeat-contact", skill="empathy", severity="warn",
                             text="They've called before: own it", reason="replaced"),
                     cue("escalation-request", at=20.3, text="They asked to escalate", severity="alert",
                         skill="conflict-management"))
    fake_worker.send(CueHeld(at=70.0, id="plain-words", skill="clear-communication", severity="info",
                             text="Use plain words", reason="snooze"))
    recent = list(overlay.state.recent)
    assert [(r.id, r.held) for r in recent] == [("plain-words", "snooze"), ("escalation-request", None),
                                                ("repeat-contact", "replaced"), ("let-them-finish", None)]
    text = overlay.recent.label.text()
    assert text.index("Use plain words") < text.index("They asked to escalate") < text.index("Let them finish")
    assert "1:10" in text and "held back: snoozed" in text and "replaced before you could read it" in text
    assert "You started while they spoke." in text  # the why of each shown cue
    for n in range(5):
        fake_worker.send(cue(f"c{n}", at=100.0 + n, text=f"Cue {n}"))
    assert [r.id for r in overlay.state.recent] == ["c4", "c3", "c2", "c1", "c0"]
    overlay.recent_button.click()
    assert not overlay.recent.isVisible()


def test_tooltips_show_on_the_never_active_panel_and_list_the_hotkeys(overlay):
    assert overlay.testAttribute(Qt.WA_AlwaysShowToolTips)  # Qt's tooltips, on an inactive window too
    tip = overlay.settings_button.toolTip()
    assert "Hotkeys (from any window):" in tip
    for line in ("Ctrl+Alt+K  Start / stop the call", "Ctrl+Alt+Z  Snooze cues 5 min / end the snooze",
                 "Ctrl+Alt+H  Hold on / off"):
        assert line in tip


def test_the_tray_menu_lists_every_hotkey_and_each_entry_does_what_its_key_does(overlay, fake_worker):
    from callcue.ui.tray import Tray

    tray = Tray(overlay)
    started(overlay, fake_worker)
    tray.fill_keys()
    entries = {a.text().split("\t")[0]: a for a in tray.keys_menu.actions() if "\t" in a.text()}
    assert {a.text().split("\t")[1] for a in entries.values()} >= {"Ctrl+Alt+K", "Ctrl+Alt+D", "Ctrl+Alt+Z",
                                                                   "Ctrl+Alt+H", "Ctrl+Alt+X", "Ctrl+Alt+E"}
    assert tray.keys_menu.actions()[0].text().startswith("Hotkeys are off here: no display")  # offscreen
    entries["Hold on / off"].trigger()
    assert fake_worker.actions == ["hold"]


# ---- wrap-up -------------------------------------------------------------------------------------


def summary(**kw) -> Summary:
    base = dict(talk_ratio=0.4, interruptions=0, longest_silence_s=2.0, frustration_peak=0.3, cues=[],
                scores={"empathy": 95, "accountability": 90},
                scorecard={"empathy": {"score": 95, "basis": "acknowledged at once"},
                           "accountability": {"score": 90, "basis": "1 commitment(s), 1 with a time"}})
    base.update(kw)
    return Summary(**base)


def test_wrap_up_with_nothing_to_improve_says_so_and_a_new_call_or_the_dismiss_key_closes_it(overlay, fake_worker):
    from callcue.ui.wrapup import wrap_up

    rules = overlay._rules()
    w = wrap_up(summary(), rules)
    assert w.talk == "You talked 40% of the time, the customer 60%."
    assert w.went_well == ["Empathy 95: acknowledged at once", "Accountability 90: 1 commitment(s), 1 with a time"]
    assert w.to_try is None and w.promises == []
    low = wrap_up(summary(talk_ratio=None, scorecard={"active-listening": {"score": 40, "basis": "3 talk-overs"}},
                          scores={}), rules)
    assert low.talk.startswith("Talk share: one channel only") and low.went_well == []
    assert low.to_try == "Active listening (3 talk-overs)"  # no cue of that skill: what was measured

    started(overlay, fake_worker)
    fake_worker.send(summary())
    assert overlay.wrapup.isVisible() and "Nothing stood out: keep it up." in overlay.wrapup.body.text()
    assert "None made in this call." in overlay.wrapup.body.text()
    run_hotkey(overlay, "dismiss")
    assert not overlay.wrapup.isVisible()
    fake_worker.send(summary())
    overlay.toggle_call()  # ends the call: the wrap-up stays
    assert overlay.state.phase.name == "ended" and overlay.wrapup.isVisible()
    overlay.toggle_call()  # the next call: the last one's wrap-up goes
    assert overlay.in_call and not overlay.wrapup.isVisible()


def test_strut_values_keep_the_panels_whole_column_free():
    from callcue.ui.strut import available, strut_values

    assert strut_values("right", 940, 340, 0, 719, 1280) == [0, 340, 0, 0, 0, 0, 0, 719, 0, 0, 0, 0]
    assert strut_values("left", 0, 300, 0, 1079, 1920) == [300, 0, 0, 0, 0, 1079, 0, 0, 0, 0, 0, 0]
    assert not available()  # offscreen: no X server, nothing reserved, the panel still docks
