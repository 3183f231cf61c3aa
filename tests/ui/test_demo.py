"""`callcue demo`: the bundled call through the real worker thread into the window, and headless."""

from __future__ import annotations

import pytest

from callcue.cli import main
from callcue.ui.overlay import Overlay
from callcue.ui.workers import CallWorker

# What `callcue analyze` finds in the demo call with its transcript, in order. The escalation request (an
# alert) replaces "repeat-contact" before it could be read: it comes back after the alert.
DEMO_CUES = ["check-in-silence", "acknowledge-frustration", "plain-words", "let-them-finish", "repeat-contact",
             "escalation-request", "repeat-contact", "note-commitment"]


def test_the_demo_shows_the_expected_cues_in_order(qtbot, settings, store):
    o = Overlay(settings, store, worker_factory=lambda: CallWorker(settings, "demo", speed=60, use_model=False))
    qtbot.addWidget(o)
    o.show()
    shown: list[tuple[str, str]] = []

    def on_cue(cue) -> None:
        if cue is not None:
            assert o.card.text.isVisible()
            shown.append((cue.id, o.card.text.text()))

    o.cueChanged.connect(on_cue)
    o.start_call()
    qtbot.waitUntil(lambda: o.state.phase.name == "ended", timeout=30000)
    assert [cid for cid, _ in shown] == DEMO_CUES
    assert shown[0][1] == "Check in: say what you're doing"
    assert o.state.frustration is not None and o.state.summary is not None
    assert "bundled transcript" in o.status.text.text()
    assert o.promises.items == ["I will call you back tomorrow before noon with the tracking number"]
    assert any(c.text.startswith("Okay. Thank you") for c in o.captions.lines)
    assert not o.in_call and "Start" in o.call_button.text()


def test_stopping_the_demo_ends_the_call_with_a_summary(qtbot, settings, store):
    worker = CallWorker(settings, "demo", speed=1, use_model=False)
    o = Overlay(settings, store, worker_factory=lambda: worker)
    qtbot.addWidget(o)
    o.show()
    o.start_call()
    qtbot.waitUntil(lambda: o.state.phase.name == "listening", timeout=10000)
    o.toggle_call()  # stop
    qtbot.waitUntil(lambda: o.state.phase.name == "ended" and not worker.is_running(), timeout=10000)
    assert o.state.summary is not None  # the engine finished the call it had heard so far


def test_headless_demo_prints_what_the_panel_shows(capsys):
    assert main(["demo", "--headless", "--speed", "0", "--no-model"]) == 0
    out = capsys.readouterr().out
    cue_lines = [line for line in out.splitlines() if "] CUE " in line]
    assert len(cue_lines) == len(DEMO_CUES)
    assert "Check in: say what you're doing" in cue_lines[0]
    assert "Promise noted: follow through" in cue_lines[-1]
    assert "bundled transcript" in out
    assert "[00:17.4] silence timer 0:03" in out
    assert "silence timer off (the line was quiet 8 s)" in out
    assert "frustration 0.65 \u25b2 rising" in out
    assert "cue off (its time is over)" in out


def test_demo_speed_is_checked(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--headless", "--speed", "fast"])
    assert "is not a number" in capsys.readouterr().err


def test_callcue_alone_opens_the_overlay(monkeypatch):
    from callcue.commands import run as run_cmd

    opened = []
    monkeypatch.setattr(run_cmd, "open_overlay", lambda **kw: opened.append(kw) or 0)
    assert main([]) == 0
    assert opened == [{"start": False}]


def test_no_display_is_a_clear_message(monkeypatch, capsys):
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "no display" in err and "callcue demo --headless" in err


def test_demo_without_a_display_falls_back_to_headless(monkeypatch, capsys):
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert main(["demo", "--speed", "0", "--no-model", "--no-captions"]) == 0
    out, err = capsys.readouterr()
    assert "no display here" in err and "] CUE  Check in: say what you're doing" in out
    assert "agent:" not in out
