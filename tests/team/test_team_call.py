"""A live call made by the one recipe (listen, the overlay) is sent to the team store while it runs."""

from __future__ import annotations

import threading

from callcue.audio.capture import FileCapture
from callcue.audio.recording import read_recording
from callcue.calls.recipe import CallSpec, demo_files, open_call
from callcue.store import default_path
from tests.team.helpers import local_ids, same_events
from tests.team.test_team_sync import until


def test_a_live_call_reaches_the_team_store_and_the_pc_keeps_it_first(team):
    audio, _transcript = demo_files()
    capture = FileCapture(read_recording(audio).channels, realtime=False)
    warned: list[str] = []
    spec = CallSpec(kind="live", capture=capture, use_model=False, agent_name="alice", team_dsn=team.dsn("alice"))
    call = open_call(spec, warn=warned.append)
    assert call.team_sync is not None
    call.run(threading.Event())
    until(lambda: not call.team_sync.running, "the worker's last round")  # stop() waits 5 s at most
    path = default_path()
    (sid,) = local_ids(path)
    assert same_events(team, path, sid)
    assert team.query("SELECT state, agent, login FROM callcue.sessions") == [("finished", "alice", "alice")]
    assert not [w for w in warned if "team" in w]


def test_without_a_team_store_a_call_starts_no_sync():
    audio, _transcript = demo_files()
    capture = FileCapture(read_recording(audio).channels, realtime=False)
    call = open_call(CallSpec(kind="live", capture=capture, use_model=False, save=True))
    assert call.team_sync is None
    call.run(threading.Event())
