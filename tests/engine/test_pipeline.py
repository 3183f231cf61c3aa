"""The engine on the test calls (tests/data/calls), fed the way a live call feeds it."""

import numpy as np
import pytest

from callcue.audio.recording import read_recording
from callcue.engine.events import Cue, Interruption, Silence, Speech, Summary, Utterance
from callcue.engine.pipeline import Engine
from callcue.speech.transcript import read_transcript
from tests.conftest import CALLS, USES_CALLS, replay, truth

pytestmark = USES_CALLS


def run(playbook, name, transcript=True, chunk_s=0.1):
    rec = read_recording(CALLS / f"{name}.wav")
    segs = read_transcript(CALLS / f"{name}.vtt") if transcript else None
    engine = Engine(playbook, channels=tuple(rec.channels), words="file" if segs else None)
    return list(replay(engine, rec.channels, segs, chunk_s=chunk_s))


def test_speech_matches_truth_utterances(playbook):
    events = run(playbook, "password-reset")
    t = truth("password-reset")
    speech = [e for e in events if isinstance(e, Speech)]
    for u in t["utterances"]:
        near = [s for s in speech if s.who == u["who"] and abs(s.start - u["start"]) < 0.3]
        assert near, f"no speech starts near {u['who']} {u['start']}"
        assert abs(near[0].end - u["end"]) < 0.3 or near[0].end > u["end"]


def test_interruptions_and_silences_match_truth(playbook):
    events = run(playbook, "billing-dispute")
    t = truth("billing-dispute")
    found = [(e.by, e.at) for e in events if isinstance(e, Interruption)]
    assert len(found) == len(t["interruptions"])
    for i in t["interruptions"]:
        assert any(by == i["by"] and abs(at - i["at"]) < 0.3 for by, at in found)
    sil = [e for e in events if isinstance(e, Silence)]
    assert [round(s.start) for s in sil] == [round(s["start"]) for s in t["silences"] if s["duration_s"] >= 5]


def test_backchannels_are_not_interruptions(playbook):
    # dead-air-hold has an "Okay." over the customer, outage-deescalation a "Mm-hmm."
    for name in ("dead-air-hold", "outage-deescalation"):
        assert not [e for e in run(playbook, name) if isinstance(e, Interruption)]


def test_chunk_size_does_not_change_events(playbook):
    a = [e.to_json() for e in run(playbook, "jargon-fast-talker", chunk_s=0.1)]
    b = [e.to_json() for e in run(playbook, "jargon-fast-talker", chunk_s=0.037)]
    assert a == b


def test_frustration_is_for_customers_only(playbook):
    events = run(playbook, "billing-dispute")
    utts = [e for e in events if isinstance(e, Utterance)]
    assert all(u.frustration is None for u in utts if u.who == "agent")
    assert all(u.frustration is not None for u in utts if u.who == "customer")


def test_without_words_the_voice_still_gives_utterances(playbook):
    events = run(playbook, "billing-dispute", transcript=False)
    utts = [e for e in events if isinstance(e, Utterance)]
    assert utts and all(u.text == "" for u in utts)
    assert not [e for e in events if isinstance(e, Cue) and e.id in ("escalation-request", "negotiate")]
    assert isinstance(events[-1], Summary)


@pytest.mark.parametrize("name, expected", [
    ("billing-dispute", {"escalation-request", "let-them-finish", "check-in-silence", "acknowledge-frustration"}),
    ("jargon-fast-talker", {"plain-words"}),
    ("refund-negotiation", {"negotiate"}),
])
def test_expected_cues(playbook, name, expected):
    cues = {e.id for e in run(playbook, name) if isinstance(e, Cue)}
    assert expected <= cues


def test_calm_call_has_no_warnings(playbook):
    cues = [e for e in run(playbook, "password-reset") if isinstance(e, Cue)]
    assert not [c for c in cues if c.severity in ("warn", "alert")]


def test_only_one_cue_on_screen_at_a_time(playbook):
    cues = [e for e in run(playbook, "billing-dispute") if isinstance(e, Cue)]
    for a, b in zip(cues, cues[1:], strict=False):
        assert b.at >= a.at
        if b.at < a.until:  # replaced early: only by something more urgent
            order = ["info", "warn", "alert"]
            assert order.index(b.severity) > order.index(a.severity)


def test_hold_announcement_makes_the_silence_cue_wait_longer(playbook):
    events = run(playbook, "billing-dispute")
    (cue,) = [e for e in events if isinstance(e, Cue) and e.id == "check-in-silence"]
    (sil,) = [e for e in events if isinstance(e, Silence)]
    wait = cue.at - sil.start
    assert sil.hold
    after = playbook.cue("check-in-silence")["after_hold_s"]
    assert after <= wait <= after + 0.15


def test_summary(playbook):
    s = run(playbook, "billing-dispute")[-1]
    assert isinstance(s, Summary)
    assert s.interruptions == 3 and s.interruptions_by == {"agent": 2, "customer": 1}
    assert 0.4 < s.talk_ratio < 0.8
    assert 7.0 < s.longest_silence_s < 8.0
    assert s.frustration_peak > 0.5
    assert any(c["due"] == "tomorrow before noon" for c in s.commitments)
    assert "active-listening" in s.scores and s.scorecard["active-listening"]["basis"]
    assert all(0 <= v <= 100 for v in s.scores.values())


def test_mono_has_no_interruptions(playbook):
    rec = read_recording(CALLS / "billing-dispute.wav")
    mixed = (rec.channels["agent"].astype(np.int32) + rec.channels["customer"]) // 2
    engine = Engine(playbook, channels=("mixed",), words=None)
    events = list(replay(engine, {"mixed": mixed.astype(np.int16)}))
    assert not [e for e in events if isinstance(e, Interruption)]
    assert [e for e in events if isinstance(e, Silence)]
    assert events[-1].talk_ratio is None


def test_controls_are_recorded_in_the_stream(playbook):
    rec = read_recording(CALLS / "billing-dispute.wav")
    segs = read_transcript(CALLS / "billing-dispute.vtt")
    engine = Engine(playbook, words="file")
    actions = []

    def control(t):
        if engine.board.active is not None and not actions:
            actions.extend(engine.act("dismiss"))

    events = list(replay(engine, rec.channels, segs, on_chunk=control))
    assert actions and actions[0].action == "dismiss"
    assert actions[0] in engine.events
    assert events[-1].cues


def test_a_warmed_up_engine_has_praat_loaded_and_still_starts_clean():
    import sys

    from callcue.engine.playbook import load_playbook

    engine = Engine(load_playbook(), channels=("agent", "customer"))
    engine.warm_up()
    assert "parselmouth" in sys.modules
    assert not engine.started and engine.now == 0.0  # the warm-up is not part of any call
    events = list(engine.start(duration_s=1.0))
    assert events and events[0].to_dict()["type"] == "call"


def test_the_escalation_cue_says_the_brands_policy():
    from callcue.calls.offline import analyze_recording
    from callcue.calls.recipe import demo_files
    from callcue.engine.events import Cue
    from callcue.engine.playbook import load_playbook

    audio, transcript = demo_files()
    for profile in (None, "telco"):
        policy = load_playbook(None, profile).cue("escalation-request")["policy"]
        events = analyze_recording(str(audio), str(transcript), profile=profile)
        (cue,) = [e for e in events if isinstance(e, Cue) and e.id == "escalation-request"]
        assert cue.why.startswith('They said "') and cue.why.endswith(f"Policy: {policy}")
    assert load_playbook().cue("escalation-request")["policy"] != load_playbook(None, "telco").cue(
        "escalation-request")["policy"]


def test_the_why_of_frustration_is_in_plain_words():
    from callcue.calls.offline import analyze_recording
    from callcue.calls.recipe import demo_files
    from callcue.engine.events import Cue
    from callcue.engine.pipeline import plain_why

    assert plain_why("It is late again", ["louder", "higher", "louder"]) == \
        'They said "It is late again", and they sound louder and higher than earlier in the call.'
    assert plain_why(" ".join(["word"] * 20), [], words=3) == 'They said "word word word\u2026".'
    assert plain_why("", ["tenser"]) == "They sound tenser than earlier in the call."
    import re

    audio, transcript = demo_files()
    events = analyze_recording(str(audio), str(transcript))
    whys = [e.why for e in events if isinstance(e, Cue) and e.id == "acknowledge-frustration"]
    assert whys
    for why in whys:  # the customer's words and how they sound: no phrase lists, units or scores
        assert why.startswith('They said "Hello? Are you still there?'), why
        assert "louder" in why and not re.search(r"[|~]|\d+(\.\d+)? ?(st|dB)\b|Frustration \d", why), why
