import json

import pytest

from callcue.errors import CallcueError
from callcue.speech.transcript import read_transcript, spread_words
from tests.conftest import CALLS, USES_CALLS, truth


@USES_CALLS
def test_vtt_voice_tags_match_truth():
    segs = read_transcript(CALLS / "billing-dispute.vtt")
    t = truth("billing-dispute")
    assert len(segs) == len(t["utterances"])
    by_start = sorted(segs, key=lambda s: s.start)
    for s, u in zip(by_start, sorted(t["utterances"], key=lambda u: u["start"]), strict=True):
        assert (s.who, s.text) == (u["who"], u["text"])
        assert abs(s.start - u["start"]) < 0.002
        assert s.words[0].start == s.start and abs(s.words[-1].end - s.end) < 0.002


def test_srt_with_prefixes(tmp_path):
    p = tmp_path / "call.srt"
    p.write_text("1\n00:00:01,000 --> 00:00:03,500\nAgent: Hello there.\n\n"
                 "2\n00:00:04,000 --> 00:00:06,000\nCustomer: I want a refund\nnow please.\n")
    segs = read_transcript(p)
    assert [(s.who, s.text) for s in segs] == [("agent", "Hello there."), ("customer", "I want a refund now please.")]
    assert segs[1].start == 4.0 and len(segs[1].words) == 6


def test_vosk_json(tmp_path):
    p = tmp_path / "v.json"
    p.write_text(json.dumps([
        {"who": "customer", "text": "fed up", "result": [
            {"word": "fed", "start": 1.0, "end": 1.2, "conf": 0.9},
            {"word": "up", "start": 1.2, "end": 1.5, "conf": 1}]},
        {"text": ""},
        {"speaker": "agent", "text": "sorry", "start": 2.0, "end": 2.5},
    ]))
    segs = read_transcript(p)
    assert [s.who for s in segs] == ["customer", "agent"]
    assert segs[0].words[1].conf == 1.0 and segs[0].end == 1.5
    assert segs[1].words[0].start == 2.0


def test_spread_words_covers_the_span():
    words = spread_words("a bb ccc", 1.0, 2.0)
    assert words[0].start == 1.0 and abs(words[-1].end - 2.0) < 1e-6
    assert words[2].end - words[2].start > words[0].end - words[0].start


@pytest.mark.parametrize("body, where", [
    ("WEBVTT\n\n00:00:01.000 -> 00:00:02.000\n<v agent>hi\n", ":3:"),
    ("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v boss>hi\n", ":4:"),
    ("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nno speaker here\n", ":3:"),
    ("just some words\n", ":1:"),
    ('[{"who": "agent", "result": [{"word": "x"}]}]', "result 1"),
])
def test_transcripts_that_do_not_parse(tmp_path, body, where):
    p = tmp_path / "t.vtt"
    p.write_text(body)
    with pytest.raises(CallcueError) as err:
        read_transcript(p)
    assert str(p) in str(err.value) and where in str(err.value)
