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
    assert [e.action for e in shown if e.type == "action"] == ["hold"]
