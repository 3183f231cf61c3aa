"""`callcue analyze` as a user runs it, and its accuracy on the test calls (scored by ../shared's scorer)."""

import json
import re
import subprocess
import sys

import pytest

from callcue.calls.offline import analyze_recording
from tests.conftest import CALL_NAMES, CALLS, SHARED, USES_CALLS, make_bad_recordings, needs_shared

pytestmark = USES_CALLS


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "callcue", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def score(events_dir):
    out = subprocess.run([sys.executable, str(SHARED / "tools" / "score_calls.py"), "--dir", str(CALLS),
                          "--events-dir", str(events_dir)], capture_output=True, text=True, check=True).stdout
    total = out.strip().splitlines()[-1]
    m = re.search(r"interruptions P ([\d.]+) R ([\d.]+).*silences P ([\d.]+) R ([\d.]+).*frustration AUC ([\d.]+)",
                  total)
    assert m, out
    return tuple(float(x) for x in m.groups())


@needs_shared("tools/score_calls.py (the scorer)")
@pytest.mark.parametrize("with_transcript", [True, False])
def test_accuracy_on_the_test_calls(tmp_path, with_transcript):
    assert len(CALL_NAMES) >= 6
    for name in CALL_NAMES:
        events = analyze_recording(str(CALLS / f"{name}.wav"), str(CALLS / f"{name}.vtt") if with_transcript else None)
        (tmp_path / f"{name}.jsonl").write_text("".join(e.to_json() + "\n" for e in events))
    ip, ir, sp, sr, auc = score(tmp_path)
    assert ip >= 0.9 and ir >= 0.9
    assert sp == 1.0 and sr == 1.0
    if with_transcript:
        assert auc >= 0.85


def test_json_stream_follows_events_md(tmp_path):
    r = cli("analyze", CALLS / "refund-negotiation.wav", "--transcript", CALLS / "refund-negotiation.vtt", "--json")
    assert r.returncode == 0, r.stderr
    events = [json.loads(line) for line in r.stdout.splitlines()]
    assert events[0]["type"] == "call" and events[0]["transcript"] == "file"
    assert events[0]["channels"] == ["agent", "customer"]
    assert events[-1]["type"] == "summary"
    body = events[1:-1]
    times = [e.get("at", e.get("start")) for e in body]
    assert times == sorted(times)
    for e in body:
        if e["type"] == "cue":
            assert {"at", "id", "skill", "severity", "text"} <= set(e)
        if e["type"] == "utterance":
            assert {"who", "start", "end", "text", "words", "sentiment", "frustration"} <= set(e)
    assert any(e["type"] == "cue" and e["id"] == "negotiate" for e in events)
    assert set(events[-1]) >= {"talk_ratio", "interruptions", "longest_silence_s", "frustration_peak", "cues", "scores"}


def test_same_file_twice_gives_identical_bytes():
    args = ("analyze", CALLS / "billing-dispute.wav", "--transcript", CALLS / "billing-dispute.vtt", "--json")
    a, b = cli(*args), cli(*args)
    assert a.returncode == 0 and a.stdout and a.stdout == b.stdout


def test_without_transcript_says_words_are_absent():
    r = cli("analyze", CALLS / "dead-air-hold.wav")
    assert r.returncode == 0, r.stderr
    assert "no words" in r.stdout and "words-based signals" in r.stdout
    assert "silence" in r.stdout


def test_readable_timeline_shows_cues_and_why():
    r = cli("analyze", CALLS / "billing-dispute.wav", "--transcript", CALLS / "billing-dispute.vtt",
            "--profile", "strict")
    assert r.returncode == 0, r.stderr
    assert "CUE [alert]" in r.stdout and "why:" in r.stdout and "talk-over: agent over customer" in r.stdout


def bad(tmp_path):
    cases = {name: ((path,), words) for name, (path, words) in make_bad_recordings(tmp_path).items()}
    book = tmp_path / "book.toml"
    book.write_text("[cues.slow-down]\nsyllables_per_s = = 5\n")
    vtt = tmp_path / "broken.vtt"
    vtt.write_text("WEBVTT\n\n00:00:01.000 --> banana\n<v agent>hi\n")
    good = CALLS / "password-reset.wav"
    return cases | {
        "malformed playbook": ((good, "--playbook", book), f"{book}:2:"),
        "bad transcript": ((good, "--transcript", vtt), f"{vtt}:3:"),
    }


@pytest.mark.parametrize("case", ["missing file", "text named wav", "truncated wav", "empty wav", "three channels",
                                  "malformed playbook", "bad transcript"])
def test_bad_input_one_line_exit_2_no_traceback(tmp_path, case):
    args, words = bad(tmp_path)[case]
    r = cli("analyze", *args)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and str(args[-1]) in lines[0], r.stderr
    assert r.stdout == ""


def test_a_transcript_longer_than_its_recording_is_warned_about(tmp_path, capsys):
    from callcue.calls.recipe import demo_files
    from callcue.cli import main

    audio, _ = demo_files()
    vtt = tmp_path / "other.vtt"
    vtt.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v agent>Hello there.\n\n"
                   "00:01:10.000 --> 00:01:12.000\n<v customer>This line is after the audio.\n")
    assert main(["analyze", str(audio), "--transcript", str(vtt), "--json"]) == 0
    err = capsys.readouterr().err
    assert f"callcue: warning: {vtt}: the transcript runs to 72.000 s" in err and "1 of its 2 lines" in err
