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
    run_call(CallSession(out), CallSpec.from_settings(Settings(), "demo", speed=0, use_model=False))
    assert phases[-1].name == "ended", phases[-1]
    (saved,) = SessionStore(tmp_path / "sessions.db").list()
    assert saved.kind == "demo" and saved.state == "finished"
    stored = SessionStore(tmp_path / "sessions.db").load(saved.id)
    assert [e.id for e in stored.events if isinstance(e, Cue)] == [e.id for e in shown if isinstance(e, Cue)]
    assert isinstance(stored.events[-1], Summary)


def test_save_false_keeps_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("CALLCUE_DATA_DIR", str(tmp_path))
    run_call(CallSession(Outlet(lambda e: None, lambda t: None, lambda p: None)),
             CallSpec.from_settings(Settings(), "demo", speed=0, use_model=False, save=False))
    assert not (tmp_path / "sessions.db").exists()
