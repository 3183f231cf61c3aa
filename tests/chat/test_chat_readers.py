"""Chat transcripts in: JSON Lines, CSV, plain text; and bad input named by file and line."""

import subprocess
import sys
from pathlib import Path

import pytest

from callcue.chat.readers import fill_times, read_chat
from callcue.cli import main
from callcue.errors import CallcueError

DATA = Path(__file__).parent / "data"


def write(tmp_path, name, text, encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return p


def test_jsonl_with_seconds():
    msgs = read_chat(DATA / "calm.jsonl")
    assert [(m.who, m.t) for m in msgs] == [("customer", 0), ("agent", 25), ("customer", 60), ("agent", 90),
                                           ("customer", 100)]
    assert msgs[1].text == "Hi! Happy to help. What is the new address?" and msgs[1].line == 2


def test_jsonl_with_iso_times_across_midnight():
    msgs = read_chat(DATA / "iso.jsonl")
    assert [m.t for m in msgs] == [0.0, 270.0, 300.0]


def test_csv_with_quoted_commas():
    msgs = read_chat(DATA / "waiting.csv")
    assert msgs[0].text == "Hi, where is my parcel? It was due on Monday."
    assert [m.t for m in msgs] == [0, 30, 40, 200, 215] and msgs[0].line == 2


def test_plain_with_clock_times_and_a_continuation_line():
    msgs = read_chat(DATA / "angry.txt")
    assert msgs[0].t == 0 and msgs[1].t == 30 and msgs[-1].t == 500
    assert msgs[6].who == "agent" and msgs[6].text.endswith("I can see an outage in your area.")


def test_plain_without_times_and_a_clock_past_midnight(tmp_path):
    p = write(tmp_path, "chat.txt", "Customer: hello\nagent: Hi! How can I help?\nCUSTOMER: My bill\n")
    msgs = read_chat(p)
    assert [m.who for m in msgs] == ["customer", "agent", "customer"] and all(m.t is None for m in msgs)
    assert fill_times(msgs, 20.0) == ([0.0, 20.0, 40.0], False)
    p = write(tmp_path, "night.txt", "[23:59:30] Customer: hello\n[00:00:10] Agent: hi\n")
    assert [m.t for m in read_chat(p)] == [0.0, 40.0]


def test_some_lines_timed(tmp_path):
    p = write(tmp_path, "c.jsonl", '{"t": 5, "who": "customer", "text": "a"}\n{"who": "agent", "text": "b"}\n'
                                   '{"t": "12.5", "who": "customer", "text": "c"}\n')
    msgs = read_chat(p)
    assert [m.t for m in msgs] == [0.0, None, 7.5]
    assert fill_times(msgs) == ([0.0, 0.0, 7.5], True)


BAD = [
    ("bad.jsonl", '{"t": 0, "who": "customer", "text": "hi"}\n{"t": 1, "who": "agent", "text": \n', 2,
     "malformed JSON"),
    ("bad.jsonl", '{"t": 0, "who": "customer"}\n', 1, 'missing "text"'),
    ("bad.jsonl", '["customer", "hi"]\n', 1, "expected a JSON object"),
    ("bad.jsonl", '{"t": 0, "who": "customer", "text": 5}\n', 1, '"text" must be a string'),
    ("bad.jsonl", '{"t": 0, "who": "bot", "text": "hi"}\n', 1, "unknown speaker 'bot'"),
    ("bad.jsonl", '{"t": "yesterday", "who": "agent", "text": "hi"}\n', 1, "is not seconds"),
    ("bad.jsonl", '{"t": -3, "who": "agent", "text": "hi"}\n', 1, "0 or more"),
    ("bad.jsonl", '{"t": 10, "who": "agent", "text": "a"}\n{"t": 4, "who": "agent", "text": "b"}\n', 2,
     "time goes backwards"),
    ("bad.csv", "time,speaker,message\n1,agent,hi\n", 1, "needs columns t, who and text"),
    ("bad.csv", "t,who,text\n0,customer,hi\n1,agent,hello,extra\n", 3, "fields where the header has"),
    ("bad.csv", "t,who,text\n0,Supervisor,hi\n", 2, "unknown speaker 'Supervisor'"),
    ("bad.txt", "Customer: hi\nBob: hello there\n", 2, "unknown speaker 'Bob'"),
    ("bad.txt", "[00:00:01] Customer: hi\n[00:00:02] Support bot: hello\n", 2, "unknown speaker 'Support bot'"),
    ("bad.txt", "hello, is this thing on?\n", 1, 'expected "Agent: ..."'),
    ("bad.txt", "[00:00:01] Customer: hi\n[00:00:xx] Agent: hello\n", 2, "is not seconds"),
]


@pytest.mark.parametrize("name, body, line, words", BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_malformed_files_name_the_file_and_line(tmp_path, name, body, line, words):
    p = write(tmp_path, name, body)
    with pytest.raises(CallcueError) as err:
        read_chat(p)
    assert f"{p}:{line}:" in str(err.value) and words in str(err.value), str(err.value)


@pytest.mark.parametrize("name, body", [("empty.jsonl", ""), ("blank.txt", "\n\n  \n"),
                                        ("header.csv", "t,who,text\n"), ("hollow.jsonl",
                                                                         '{"who": "agent", "text": "  "}\n')])
def test_empty_chats(tmp_path, name, body):
    p = write(tmp_path, name, body)
    with pytest.raises(CallcueError, match="no messages"):
        read_chat(p)


def test_not_utf8_names_the_line(tmp_path):
    p = write(tmp_path, "latin.txt", "Customer: hello\nAgent: ça va très bien\n", encoding="latin-1")
    with pytest.raises(CallcueError, match=r"latin\.txt:2: not UTF-8 text.*save the chat as UTF-8"):
        read_chat(p)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(CallcueError, match="no such file"):
        read_chat(tmp_path / "nope.jsonl")
    with pytest.raises(CallcueError, match="is a folder"):
        read_chat(tmp_path)


def test_bad_input_on_the_command_line_is_one_line_and_exit_2(tmp_path, capsys):
    cases = [write(tmp_path, "a.jsonl", '{"who": "agent", "text": }\n'),
             write(tmp_path, "b.txt", "Customer: hi\nRobot: beep\n"),
             write(tmp_path, "c.csv", "t,who,text\n"),
             write(tmp_path, "d.txt", "Customer: caf\xe9\n".encode("latin-1"))]
    for p in cases:
        assert main(["chat", "analyze", str(p)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"callcue: {p}") and err.count("\n") == 1 and "Traceback" not in err


def test_no_traceback_through_the_real_command(tmp_path):
    p = write(tmp_path, "bad.jsonl", b'{"t": 0, "who": "customer", "text": "\xff\xfe"}\n')
    r = subprocess.run([sys.executable, "-m", "callcue", "chat", "analyze", str(p)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip() == f"callcue: {p}:1: not UTF-8 text (byte 0xff); save the chat as UTF-8 and try again"
