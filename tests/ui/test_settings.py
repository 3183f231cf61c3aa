"""Settings: round trip, damaged files, the hook for managed (locked) keys, and the dialog."""

from __future__ import annotations

import json

import pytest

from callcue.settings import DEFAULT_HOTKEYS, Settings, apply_layer


def test_round_trip(store):
    s = Settings()
    changes = {"edge": "left", "screen": "HDMI-1", "width": 400, "opacity": 0.7, "mode": "compact",
               "click_through": True, "always_on_top": False, "captions": False, "agent_device": "Headset mic",
               "customer_device": "Monitor of Speakers", "model": "vosk-model-small-en-us-0.15",
               "playbook": "/srv/acme.toml", "profile": "gentle",
               "hotkeys": {**DEFAULT_HOTKEYS, "dismiss": "Ctrl+Shift+F9"}}
    for key, value in changes.items():
        assert s.set(key, value)
    store.save(s)
    loaded = store.load()
    assert store.notice is None
    assert loaded.to_dict() == s.to_dict() == {**Settings().to_dict(), **changes}
    assert loaded.source["edge"] == "user" and loaded.source["model"] == "user"


def test_missing_file_gives_the_defaults_quietly(store):
    assert store.load().to_dict() == Settings().to_dict()
    assert store.notice is None and not store.path.exists()


def test_out_of_range_numbers_are_clamped_and_unknown_keys_ignored(store):
    store.path.parent.mkdir(parents=True)
    store.path.write_text(json.dumps({"width": 5000, "opacity": 0.01, "from_the_future": 1,
                                      "hotkeys": {"dismiss": "F8"}}))
    s = store.load()
    assert (s.width, s.opacity, store.notice) == (720, 0.3, None)
    assert s.hotkeys == {**DEFAULT_HOTKEYS, "dismiss": "F8"}  # a missing action keeps its default


@pytest.mark.parametrize("content, why", [
    ("{\"edge\": \"left\",", "is not valid JSON (line 1"),
    ("[1, 2]", "does not hold a JSON object"),
    (b"\xff\xfe\x00garbage", "cannot be read"),
])
def test_a_damaged_file_is_backed_up_and_reset_and_the_user_told(store, content, why):
    store.path.parent.mkdir(parents=True)
    if isinstance(content, bytes):
        store.path.write_bytes(content)
    else:
        store.path.write_text(content)
    s = store.load()
    assert s.to_dict() == Settings().to_dict()
    (backup,) = store.path.parent.glob("settings.json.damaged-*")
    assert backup.read_bytes() == (content if isinstance(content, bytes) else content.encode())
    assert why in store.notice and str(backup) in store.notice and "reset to the defaults" in store.notice
    assert json.loads(store.path.read_text()) == Settings().to_dict()  # a good file again
    store.load()
    assert store.notice is None


def test_bad_values_are_reset_one_by_one(store):
    store.path.parent.mkdir(parents=True)
    store.path.write_text(json.dumps({"edge": "top", "opacity": "half", "width": 300, "captions": "yes"}))
    s = store.load()
    assert (s.edge, s.opacity, s.width, s.captions) == ("right", Settings().opacity, 300, True)
    assert "edge (must be one of left, right)" in store.notice and "opacity" in store.notice
    assert "captions" in store.notice and "those values were reset" in store.notice
    assert len(list(store.path.parent.glob("settings.json.damaged-*"))) == 1


def test_two_damaged_files_in_the_same_second_keep_both_copies(store):
    store.path.parent.mkdir(parents=True)
    for text in ("{", "{{"):
        store.path.write_text(text)
        store.load()
    assert sorted(p.read_text() for p in store.path.parent.glob("settings.json.damaged-*")) == ["{", "{{"]


def test_locked_keys_cannot_be_changed_and_are_not_written(store):
    s = store.load()
    apply_layer(s, {"profile": "acme", "captions": False}, "managed", lock=True)
    assert s.is_locked("profile") and s.source["profile"] == "managed"
    assert s.set("profile", "mine") is False and s.profile == "acme"
    assert s.set("edge", "left") is True
    store.save(s)
    saved = json.loads(store.path.read_text())
    assert "profile" not in saved and "captions" not in saved and saved["edge"] == "left"


def test_settings_dialog_applies_and_saves(qtbot, store, monkeypatch):
    from callcue.ui import settings_dialog

    monkeypatch.setattr(settings_dialog, "input_devices", lambda: (["Headset mic", "Monitor of Speakers"], None))
    s = store.load()
    apply_layer(s, {"profile": "gentle"}, "managed", lock=True)
    d = settings_dialog.SettingsDialog(s, store, meters=False)
    qtbot.addWidget(d)
    assert not d.profile.isEnabled() and "organisation" in d.profile.toolTip()
    d.edge.setCurrentText("left")
    d.width_box.setValue(400)
    d.opacity.setValue(80)
    d.agent_device.setCurrentText("Headset mic")
    d.customer_device.setCurrentText("Monitor of Speakers")
    d.captions.setChecked(False)
    with qtbot.waitSignal(d.applied):
        d.accept()
    assert (s.edge, s.width, s.opacity, s.captions) == ("left", 400, 0.8, False)
    assert (s.agent_device, s.customer_device, s.profile) == ("Headset mic", "Monitor of Speakers", "gentle")
    again = store.load()
    assert (again.edge, again.width, again.agent_device) == ("left", 400, "Headset mic")


def test_settings_dialog_without_devices_says_so(qtbot, store, monkeypatch):
    from callcue.ui import settings_dialog

    monkeypatch.setattr(settings_dialog, "input_devices", lambda: ([], "no input device found: plug in a headset"))
    s = Settings()
    s.set("agent_device", "Old USB headset")
    d = settings_dialog.SettingsDialog(s, store, meters=False)
    qtbot.addWidget(d)
    d.open_page("devices")
    assert d.tabs.currentIndex() == 0
    assert "plug in a headset" in d.devices_note.text()
    assert d.agent_device.currentText() == "Old USB headset (not connected)"
    d.accept()
    assert s.agent_device == "Old USB headset"  # kept until the user picks another


def test_wayland_says_always_on_top_is_not_honoured(qtbot, store, monkeypatch):
    from PySide6.QtGui import QGuiApplication

    from callcue.ui import settings_dialog

    monkeypatch.setattr(settings_dialog, "input_devices", lambda: ([], "none"))
    monkeypatch.setattr(QGuiApplication, "platformName", staticmethod(lambda: "wayland"))
    d = settings_dialog.SettingsDialog(Settings(), store, meters=False)
    qtbot.addWidget(d)
    d.show()
    d.open_page("panel")
    assert d.wayland_note.isVisible() and "Wayland" in d.wayland_note.text()
    assert not d.on_top.isVisible()


def test_the_hotkeys_page_lists_every_key_with_what_it_does(qtbot, store, monkeypatch):
    from PySide6.QtWidgets import QFormLayout, QLabel

    from callcue.ui import settings_dialog

    monkeypatch.setattr(settings_dialog, "input_devices", lambda: (["Headset mic"], None))
    d = settings_dialog.SettingsDialog(Settings(), store, meters=False, hotkey_note="no display: hotkeys are off")
    qtbot.addWidget(d)
    d.open_page("hotkeys")
    form = d.tabs.currentWidget().layout()
    assert isinstance(form, QFormLayout)
    rows = {form.labelForField(e).text(): e.keySequence().toString() for e in d.keys.values()}
    assert rows["Snooze cues 5 min / end the snooze"] == "Ctrl+Alt+Z"
    assert rows["Dismiss the cue"] == "Ctrl+Alt+D" and len(rows) == 6
    notes = [w.text() for w in d.tabs.currentWidget().findChildren(QLabel)]
    assert "no display: hotkeys are off" in notes  # why they would not work here
