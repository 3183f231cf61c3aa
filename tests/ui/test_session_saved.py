"""The overlay's calls become sessions in the store, written while they run."""

from callcue.calls.recipe import CallSpec
from callcue.calls.runner import run_call
from callcue.calls.session import CallSession, Outlet
from callcue.engine.events import Cue, Summary
from callcue.settings import Settings
from callcue.store import SessionStore


def test_the_demo_played_in_the_overlay_is_saved_with_its_summary(tmp_path, monkeypatch):
    monkeypatch.setenv("CALLCUE_DATA_DIR", str(tmp_path))
    shown, phases = [], []
    out = Outlet(shown.extend, lambda tick: None, phases.append)
    run_call(CallSession(out), CallSpec.from_settings(Settings(), "demo", speed=0, use_model=False, save=True))
    assert phases[-1].name == "ended", phases[-1]
    (saved,) = SessionStore(tmp_path / "sessions.db").list()
    assert saved.kind == "demo" and saved.state == "finished"
    stored = SessionStore(tmp_path / "sessions.db").load(saved.id)
    assert [e.id for e in stored.events if isinstance(e, Cue)] == [e.id for e in shown if isinstance(e, Cue)]
    assert isinstance(stored.events[-1], Summary)


def test_a_demo_is_not_kept_among_the_calls_unless_asked(tmp_path, monkeypatch):
    monkeypatch.setenv("CALLCUE_DATA_DIR", str(tmp_path))
    run_call(CallSession(Outlet(lambda e: None, lambda t: None, lambda p: None)),
             CallSpec.from_settings(Settings(), "demo", speed=0, use_model=False))
    assert not (tmp_path / "sessions.db").exists()


def test_save_false_keeps_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("CALLCUE_DATA_DIR", str(tmp_path))
    run_call(CallSession(Outlet(lambda e: None, lambda t: None, lambda p: None)),
             CallSpec.from_settings(Settings(), "live", use_model=False, save=False, capture=demo_capture()))
    assert not (tmp_path / "sessions.db").exists()


def demo_capture():  # noqa: ANN201
    """The demo recording as if it were captured, as fast as the pipeline takes it."""
    from callcue.audio.capture import FileCapture
    from callcue.audio.recording import read_recording
    from callcue.calls.recipe import demo_files

    return FileCapture(read_recording(demo_files()[0]).channels, realtime=False)


def test_a_live_call_is_saved_with_who_took_it(tmp_path, monkeypatch):
    monkeypatch.setenv("CALLCUE_DATA_DIR", str(tmp_path))
    phases = []
    run_call(CallSession(Outlet(lambda e: None, lambda t: None, phases.append)),
             CallSpec.from_settings(Settings(review_user="kim"), "live", use_model=False, capture=demo_capture()))
    assert phases[-1].name == "ended", phases[-1]
    (saved,) = SessionStore(tmp_path / "sessions.db").list()
    assert (saved.kind, saved.agent, saved.state) == ("live", "kim", "finished")
