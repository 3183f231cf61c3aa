"""Calls made here with tools/make_call.py, for cases the test calls (tests/data/calls) don't hold."""

import json
import subprocess
import sys

import pytest

from callcue.audio.recording import read_recording
from callcue.engine.events import Interruption, Silence
from callcue.engine.pipeline import Engine
from callcue.speech.transcript import read_transcript
from tests.conftest import MAKE_CALL, replay

SCRIPT = {
    "title": "Backchannels, talk-over and a hold",
    "voices": {"agent": "en-us+m2", "customer": "en-gb+f4"},
    "turns": [
        {"who": "agent", "text": "Hello, this is Sam from Contoso, how can I help you?", "mood": "warm"},
        {"who": "customer", "text": "Hi Sam, my order arrived damaged and the box was completely soaked through.",
         "mood": "calm", "gap": 0.6},
        {"who": "agent", "text": "Right, okay.", "mood": "calm", "during": 1, "offset": 1.2},
        {"who": "agent", "text": "I am sorry. Let me check the order.", "mood": "calm", "gap": 0.5},
        {"who": "customer", "text": "Thank you.", "mood": "calm", "gap": 6.5},
        {"who": "agent", "text": "I can see it now, the courier marked it as delivered in good condition.",
         "mood": "calm", "gap": 0.6},
        {"who": "customer", "text": "That is simply not true, I have photos of the box.", "mood": "annoyed",
         "gap": -1.2},
    ],
}


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    d = tmp_path_factory.mktemp("made")
    (d / "gen.json").write_text(json.dumps(SCRIPT))
    subprocess.run([sys.executable, str(MAKE_CALL), str(d / "gen.json"), str(d)],
                   check=True, capture_output=True)
    return d


def run(playbook, d, transcript):
    rec = read_recording(d / "gen.wav")
    segs = read_transcript(d / "gen.vtt") if transcript else None
    engine = Engine(playbook, words="file" if segs else None)
    return list(replay(engine, rec.channels, segs))


def test_against_truth_with_words(playbook, made):
    truth = json.loads((made / "gen.truth.json").read_text())
    events = run(playbook, made, transcript=True)
    found = [(e.by, e.at) for e in events if isinstance(e, Interruption)]
    assert len(found) == len(truth["interruptions"]) == 1  # the slow "Right, okay." is not one
    assert found[0][0] == truth["interruptions"][0]["by"] and abs(found[0][1] - truth["interruptions"][0]["at"]) < 0.3
    sil = [e for e in events if isinstance(e, Silence)]
    want = [s["start"] for s in truth["silences"] if s["duration_s"] >= 5]
    assert len(sil) == len(want) == 1 and abs(sil[0].start - want[0]) < 0.3


def test_a_pause_the_customer_asked_for_is_not_dead_air(playbook, tmp_path):
    from callcue.engine.events import Cue

    script = {"title": "Customer looks for a card", "voices": {"agent": "en-us+m2", "customer": "en-gb+f4"},
              "turns": [
                  {"who": "agent", "text": "Can I have the card number, please?", "mood": "calm"},
                  {"who": "customer", "text": "Hold on, let me find my wallet.", "mood": "calm", "gap": 0.6},
                  {"who": "customer", "text": "Okay, I have it here.", "mood": "calm", "gap": 9.0},
                  {"who": "agent", "text": "Thank you.", "mood": "calm", "gap": 0.6}]}
    (tmp_path / "pause.json").write_text(json.dumps(script))
    subprocess.run([sys.executable, str(MAKE_CALL), str(tmp_path / "pause.json"),
                    str(tmp_path)], check=True, capture_output=True)
    rec = read_recording(tmp_path / "pause.wav")
    segs = read_transcript(tmp_path / "pause.vtt")
    events = list(replay(Engine(playbook, words="file"), rec.channels, segs))
    assert [e for e in events if isinstance(e, Silence)]  # the silence is there ...
    assert not [e for e in events if isinstance(e, Cue) and e.id == "check-in-silence"]  # ... but no nagging
    events = list(replay(Engine(playbook, words=None), rec.channels, None))
    assert [e for e in events if isinstance(e, Cue) and e.id == "check-in-silence"]  # without words: can't know
