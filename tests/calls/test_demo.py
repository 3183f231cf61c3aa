"""The demo is a recording played through the live pipeline, with its transcript as the words: its events
are those of a replay of the same recording with the same transcript, as for any other recording."""

from __future__ import annotations

from callcue.calls.offline import analyze_recording, drop_partials
from callcue.calls.recipe import CallSpec, demo_files
from callcue.calls.runner import run_call
from callcue.calls.session import CallSession, Outlet, Tick
from callcue.engine.events import CallStart, Partial, sort_stream
from callcue.settings import Settings


def play_demo(**spec) -> tuple[list, list[Tick], list]:
    shown: list = []
    ticks: list[Tick] = []
    phases: list = []
    session = CallSession(Outlet(shown.extend, ticks.append, phases.append))
    call = run_call(session, CallSpec.from_settings(Settings(), "demo", speed=0, use_model=False, **spec),
                    tick_gap_s=0.0)
    assert call is not None and phases[-1].name == "ended", phases[-1]
    return shown, ticks, call.engine.events


def test_the_demos_events_are_a_replay_of_its_recording_with_its_transcript():
    shown, ticks, engine_events = play_demo(save=False)
    audio, transcript = demo_files()
    replayed = analyze_recording(str(audio), str(transcript))
    live = sort_stream(drop_partials(shown))
    assert isinstance(live[0], CallStart) and live[0].note.startswith("demo call: words from the bundled transcript")
    assert [e.to_json() for e in live[1:]] == [e.to_json() for e in replayed[1:]]
    assert sort_stream(engine_events) == live  # the panel saw exactly what the engine made, and captions
    assert any(isinstance(e, Partial) for e in shown)
    assert ticks[-1].at == replayed[-1].duration_s and ticks[-1].talk_s["customer"] > 0


def test_a_control_before_the_call_runs_is_done_once_it_does():
    shown: list = []
    session = CallSession(Outlet(shown.extend, lambda tick: None, lambda phase: None))
    session.request("hold")  # the agent clicked while the call was loading
    run_call(session, CallSpec.from_settings(Settings(), "demo", speed=0, use_model=False, save=False))
    actions = [e for e in shown if e.type == "action"]
    assert actions[0].action == "hold" and actions[0].at == 0.0
    # ... and the hold ended by itself when both sides spoke again, which the stream says
    assert [(a.action, a.reason) for a in actions[1:]] == [("resume", "both sides are speaking again")]


def test_a_snooze_before_the_escalation_request_lets_the_alert_through_and_both_are_saved(tmp_path, monkeypatch):
    from callcue.engine.events import Cue, CueAction, CueHeld
    from callcue.store import SessionStore

    monkeypatch.setenv("CALLCUE_DATA_DIR", str(tmp_path))
    shown: list = []
    session = CallSession(Outlet(shown.extend, lambda tick: None, lambda phase: None))
    session.request("snooze")  # at the start of the call: the snooze lasts past its end
    run_call(session, CallSpec.from_settings(Settings(), "demo", speed=0, use_model=False, save=True))
    assert [e.id for e in shown if isinstance(e, Cue)] == ["escalation-request"]
    (saved,) = SessionStore(tmp_path / "sessions.db").list()
    stored = SessionStore(tmp_path / "sessions.db").load(saved.id).events
    assert [e.action for e in stored if isinstance(e, CueAction)] == ["snooze"]
    assert [e.id for e in stored if isinstance(e, Cue)] == ["escalation-request"]
    held = {e.id for e in stored if isinstance(e, CueHeld) and e.reason == "snooze"}
    assert {"check-in-silence", "acknowledge-frustration"} <= held  # what the snooze kept back is on record
    from callcue.report.data import build_report

    report = build_report(SessionStore(tmp_path / "sessions.db").load(saved.id))
    rows = {(c.id, c.outcome) for c in report.cues}
    assert ("check-in-silence", "held back: snoozed") in rows and ("escalation-request", "shown") in rows


def test_a_cue_replaced_before_it_could_be_read_says_so_in_the_summary():
    audio, transcript = demo_files()
    summary = analyze_recording(str(audio), str(transcript))[-1]
    outcomes = [(c["id"], c["outcome"]) for c in summary.cues_shown]
    assert outcomes[4:7] == [("repeat-contact", "replaced"), ("escalation-request", "shown"),
                             ("repeat-contact", "shown")]
    assert summary.cues.count("repeat-contact") == 1  # counted once: the time it could be read
    assert [(h["id"], h["reason"]) for h in summary.cues_held][:1] == [("repeat-contact", "replaced")]
