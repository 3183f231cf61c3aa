import json
from pathlib import Path

import pytest

from callcue.errors import CallcueError
from callcue.speech.transcript import past_the_end, read_transcript, spread_words
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


# ---- every malformed transcript is one line, exit 2 (issue 19 items 5 and 10, issue 15 item 5) ----

W = '"word": "x", "start": 1.0, "end": 1.5'


@pytest.mark.parametrize("body, words", [
    # the four that gave tracebacks: a "results" that is not a list, times that are not numbers,
    # text that is not text, times that are not finite
    ('{"results": 5}', '"results" must be a list of Vosk results, not a number'),
    ('{"results": null}', '"results" must be a list'),
    ('[{"who": "agent", "text": "hi", "start": "a", "end": 1}]',
     'result 1: "start" must be a number of seconds, not text'),
    ('[{"who": "agent", "text": "hi", "start": null, "end": 1}]', '"start" must be a number of seconds, not null'),
    ('[{"who": "agent", "text": 5, "start": 0, "end": 1}]', 'result 1: "text" must be text, not a number'),
    ('[{"who": "agent", "text": ["a"], "start": 0, "end": 1}]', '"text" must be text, not a list'),
    ('[{"who": "agent", "result": [{"word": "x", "start": 1e999, "end": 1}]}]', "word 1: \"start\" must be seconds"),
    ('[{"who": "agent", "result": [{"word": "x", "start": NaN, "end": 1}]}]', "not nan"),
    # and their neighbours
    ('[{"who": "agent", "result": 5}]', '"result" must be a list of words, not a number'),
    ('[{"who": "agent", "result": [1, 2]}]',
     'result 1, word 1: each word needs "word", "start" and "end"; got a number'),
    ('[{"who": "agent", "result": [{"word": "x"}]}]', "word 1: each word needs"),
    (f'[{{"who": "agent", "result": [{{{W}}}, {{"word": "y", "start": 2, "end": 1}}]}}]', "word 2 ends (1 s) before"),
    (f'[{{"who": "agent", "result": [{{{W}, "conf": "high"}}]}}]', '"conf" must be a number from 0 to 1, not text'),
    ('[{"who": "agent", "result": [{"word": "x", "start": -1, "end": 1}]}]', "(0 or more), not -1"),
    ('[{"who": ["agent"], "text": "hi", "start": 0, "end": 1}]', '"who" must be "agent" or "customer", not a list'),
    ('[{"who": "agent", "text": "hi", "start": 2, "end": 1}]', "result 1 ends (1 s) before it starts (2 s)"),
    ('[[]]', "result 1 is a list, not a JSON object"),
    ('5', "result 1 is a number, not a JSON object"),
    ('[' * 100000 + ']' * 100000, "cannot read the JSON (nested too deeply)"),
    ('[{"who": "agent", "text": "x", "start": ' + "9" * 5000 + ', "end": 1}]', "cannot read the JSON (Exceeds"),
    ('[{"who": "agent", "text": "x", "start": ' + "9" * 400 + ', "end": 1}]', "(0 or more), not 99999999"),
    (f'[{{"who": "agent", "result": [{{{W}, "conf": 5}}]}}]', '"conf" must be a number from 0 to 1, not 5'),
    (f'[{{"who": "agent", "result": [{{{W}, "conf": NaN}}]}}]', '"conf" must be a number from 0 to 1, not nan'),
    ('{"who": "agent", "text": "a"}\n{"who": "agent", "text": nope}\n', "t.json:2: not JSON"),
])
def test_malformed_vosk_json_is_one_line(tmp_path, body, words):
    p = tmp_path / "t.json"
    p.write_text(body)
    with pytest.raises(CallcueError) as err:
        read_transcript(p)
    msg = str(err.value)
    assert msg.startswith(str(p)) and words in msg and "\n" not in msg and len(msg) < 400


DEMO_SCRIPT = Path(__file__).resolve().parents[2] / "resources" / "demo" / "demo-call.json"


@pytest.mark.parametrize("name, body, words", [
    ("t.json", "{}", "result 1 is not a Vosk result (it has no keys); expected Vosk results"),
    ("t.json", "[]", "a Vosk JSON file with no lines of speech; expected Vosk results"),
    ("t.json", '[{"text": ""}, {"partial": "hel"}]', "a Vosk JSON file with no lines of speech"),
    ("t.vtt", "WEBVTT\n", "a WebVTT file with no lines of speech; expected WebVTT cues: a time line like"),
    ("t.vtt", "WEBVTT - a header\n\nNOTE only a note\n", "a WebVTT file with no lines of speech"),
    ("t.srt", "1\n", "an SRT file with no lines of speech; expected SRT cues"),
    ("script.json", DEMO_SCRIPT.read_text(), 'result 1 is not a Vosk result (it has "title", "voices", "turns")'),
])
def test_a_transcript_with_no_lines_is_an_error(tmp_path, name, body, words):
    p = tmp_path / name
    p.write_text(body)
    with pytest.raises(CallcueError) as err:
        read_transcript(p)
    assert str(err.value).startswith(f"{p}: ") and words in str(err.value)


@pytest.mark.parametrize("name, body, words", [
    ("t.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v agent>hi\n\nstray text\n",
     "t.vtt:6: expected a cue time line like '00:00:01.000 --> 00:00:02.500'; is this a WebVTT file?"),
    ("t.srt", "1\n00:00:01,000 --> 00:00:02,000\nAgent: hi\n\nstray text\n",
     "t.srt:5: expected a cue time line like '00:00:01,000 --> 00:00:02,500'; is this an SRT file?"),
    ("t.vtt", "WEBVTT\n\n" + "9" * 5000 + ":00:01.000 --> 00:00:02.000\n<v agent>hi\n",
     "cannot read the cue times in '999"),
    ("t.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v " + "boss" * 1000 + ">hi\n", "unknown speaker 'bossboss"),
])
def test_timed_transcript_messages_name_their_format(tmp_path, name, body, words):
    p = tmp_path / name
    p.write_text(body)
    with pytest.raises(CallcueError) as err:
        read_transcript(p)
    msg = str(err.value)
    assert words in msg and "{kind" not in msg and len(msg) < 300


def test_past_the_end_warns_only_for_lines_after_the_audio(tmp_path):
    p = tmp_path / "t.vtt"
    p.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v agent>hi\n\n"
                 "00:00:09.000 --> 00:00:12.500\n<v customer>too late\n")
    segs = read_transcript(p)
    assert past_the_end(segs, 12.5, p) is None
    assert past_the_end(segs, 12.4995, p) is None  # the millisecond a transcript's times are written to
    warning = past_the_end(segs, 10.0, p)
    assert warning.startswith(f"{p}: the transcript runs to 12.500 s but the recording ends at 10.000 s")
    assert "1 of its 2 lines" in warning


def test_analyze_warns_when_the_transcript_runs_past_the_recording(tmp_path, capsys):
    import numpy as np
    import soundfile as sf

    from callcue.cli import main

    wav = tmp_path / "call.wav"
    sf.write(wav, np.zeros((16000 * 3, 2), np.int16), 16000)
    vtt = tmp_path / "other.vtt"
    vtt.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v agent>hi\n\n"
                   "00:01:00.000 --> 00:01:02.000\n<v customer>from another call\n")
    assert main(["analyze", str(wav), "--transcript", str(vtt), "--json"]) == 0
    out = capsys.readouterr()
    warnings = [ln for ln in out.err.splitlines() if "runs to" in ln]
    assert warnings == [f"callcue: warning: {vtt}: the transcript runs to 62.000 s but the recording ends at "
                        "3.000 s; 1 of its 2 lines end after the audio (no voice is measured for them); check "
                        "that the transcript belongs to this recording"]
    assert '"from another call"' in out.out  # the line is still used


def test_analyze_with_a_header_only_vtt_exits_2(tmp_path, capsys):
    import numpy as np
    import soundfile as sf

    from callcue.cli import main

    wav = tmp_path / "call.wav"
    sf.write(wav, np.zeros((16000, 2), np.int16), 16000)
    vtt = tmp_path / "empty.vtt"
    vtt.write_text("WEBVTT\n")
    assert main(["analyze", str(wav), "--transcript", str(vtt), "--json"]) == 2
    out = capsys.readouterr()
    assert out.out == "" and out.err.count("\n") == 1 and "no lines of speech" in out.err
    assert "no transcript" not in out.err
