"""`callcue chat` as a user runs it."""

import io
import json
import subprocess
import sys
from pathlib import Path

from callcue.chat.server import token_path
from callcue.cli import main

DATA = Path(__file__).parent / "data"


def test_analyze_json_prints_the_event_stream(capsys):
    assert main(["chat", "analyze", str(DATA / "angry.txt"), "--json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert lines[0]["type"] == "call" and lines[-1]["type"] == "summary"
    assert {x["type"] for x in lines} == {"call", "utterance", "frustration", "cue", "summary"}
    assert [x["id"] for x in lines if x["type"] == "cue"] == ["reply-waiting", "acknowledge-frustration",
                                                            "escalation-request", "repeated-question"]


def test_analyze_prints_a_timeline_unless_json(capsys):
    """As `callcue analyze` does for a call: a person reads the timeline, --json gives the stream."""
    assert main(["chat", "analyze", str(DATA / "angry.txt")]) == 0
    plain = capsys.readouterr().out
    assert "Summary" in plain and "CUE [" in plain and not plain.lstrip().startswith("{")
    assert main(["chat", "analyze", str(DATA / "angry.txt"), "--json"]) == 0
    stream = capsys.readouterr().out
    assert stream != plain and all(json.loads(line)["type"] for line in stream.splitlines())
    assert main(["chat", "analyze", str(DATA / "angry.txt"), "--timeline"]) == 0  # the old spelling still works
    assert capsys.readouterr().out == plain


def test_analyze_timeline_and_profile(capsys):
    assert main(["chat", "analyze", str(DATA / "waiting.csv"), "--timeline", "--profile", "strict"]) == 0
    out = capsys.readouterr().out
    assert "Summary" in out and "Longest wait for a reply" in out


def test_check_with_context(capsys):
    assert main(["chat", "check", "Here is the tracking link.", "--context", str(DATA / "angry.txt")]) == 0
    out = capsys.readouterr().out
    assert "no-acknowledgement" in out and "Nothing was sent" in out
    assert main(["chat", "check", "Thanks for waiting! Here is the tracking link."]) == 0
    assert "No flags" in capsys.readouterr().out


def test_check_json_from_stdin(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("As I already said, kindly READ THE EMAIL."))
    assert main(["chat", "check", "-", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {f["id"] for f in result["flags"]} == {"cold", "shouting", "blame"} and result["ok"] is False


def test_check_bad_input(capsys, tmp_path):
    assert main(["chat", "check", "   "]) == 2
    assert "draft is empty" in capsys.readouterr().err
    assert main(["chat", "check", "hi", "--context", str(tmp_path / "missing.txt")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_token_command(capsys):
    assert main(["chat", "token", "--path"]) == 0
    assert capsys.readouterr().out.strip() == str(token_path())
    assert main(["chat", "token"]) == 0
    assert capsys.readouterr().out.strip() == token_path().read_text().strip()


def test_the_real_command():
    r = subprocess.run([sys.executable, "-m", "callcue", "chat", "check", "You should have restarted it."],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "blame" in r.stdout and "next time, it helps to" in r.stdout
