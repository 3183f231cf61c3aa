"""Fuzzing the transcript readers (issue 19): whatever the file holds, read_transcript gives segments a
caller can use, or one CallcueError line, never another exception. A few seconds each (hypothesis,
no example database: nothing is left behind)."""

from __future__ import annotations

import os
from pathlib import Path

# hypothesis keeps a cache of its own: in pytest's cache folder of the project, not a new .hypothesis/
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY",
                      str(Path(__file__).resolve().parents[2] / ".pytest_cache" / "hypothesis"))

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callcue.errors import CallcueError
from callcue.speech.transcript import read_transcript


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz-transcripts")


def check(path) -> None:
    """The property: a valid result, or one line of CallcueError naming the file."""
    try:
        segments = read_transcript(path)
    except CallcueError as err:
        msg = str(err)
        assert msg and "\n" not in msg and "\r" not in msg, repr(msg)
        assert msg.startswith(str(path)), msg
        assert len(msg) < 600, msg
        return
    assert segments, "an empty transcript must be an error"
    for s in segments:
        assert s.who in ("agent", "customer")
        assert isinstance(s.text, str)
        assert math.isfinite(s.start) and math.isfinite(s.end) and 0 <= s.start <= s.end
        for w in s.words:
            assert isinstance(w.word, str) and math.isfinite(w.start) and math.isfinite(w.end)
            assert math.isfinite(w.conf)


# ---- JSON: Vosk results, near and far -----------------------------------------------------------

KEYS = ["who", "speaker", "channel", "text", "result", "results", "start", "end", "word", "conf", "partial",
        "alternatives", "title"]
scalars = (st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.integers() | st.floats()
           | st.integers(10**300, 10**320)  # no float holds them
           | st.sampled_from(["agent", "customer", "Caller", "rep", "boss", "", " ", "1.5", "nan"])
           | st.text(max_size=8))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), inner, max_size=5),
                           max_leaves=25)
huge = st.sampled_from([10**400, -(10**400), 2**64, 1e308, -0.0, 5e-324])  # past what a float holds, and edges
times = st.floats(allow_nan=True, allow_infinity=True) | st.integers(-5, 10**20) | huge | scalars
word = st.fixed_dictionaries({"word": st.text(max_size=6) | scalars, "start": times, "end": times},
                             optional={"conf": huge | scalars | st.floats(0, 1)})
result = st.fixed_dictionaries({}, optional={
    "who": st.sampled_from(["agent", "customer", "boss", 0, None, True]) | scalars,
    "text": st.text(max_size=12) | scalars, "result": st.lists(word | json_values, max_size=4) | json_values,
    "start": times, "end": times})
# who speaks said right, so that the times and words behind it are read
spoken = st.fixed_dictionaries({"who": st.sampled_from(["agent", "customer"]), "text": st.text(min_size=1, max_size=9)},
                               optional={"result": st.lists(word, max_size=3), "start": times, "end": times})
documents = (st.lists(spoken, min_size=1, max_size=4) | st.lists(spoken | result, max_size=5) | result
             | st.fixed_dictionaries({"results": st.lists(result) | json_values})
             | json_values)


@fuzz(150)
@given(doc=documents, lines=st.booleans())
def test_fuzz_vosk_json(folder, doc, lines):
    path = folder / "t.json"
    if lines and isinstance(doc, list):  # JSON Lines: one result a line
        text = "\n".join(json.dumps(item) for item in doc) or "\n"
    else:
        text = json.dumps(doc)
    path.write_text(text, encoding="utf-8")
    check(path)


# ---- WebVTT and SRT: cue blocks from parts, some of them broken -----------------------------------

def clock(sep: str):
    return st.builds(lambda h, m, s, ms, hours: (f"{h:02d}:" if hours else "") + f"{m:02d}:{s:02d}{sep}{ms:03d}",
                     st.integers(0, 10**6), st.integers(0, 99), st.integers(0, 99), st.integers(0, 999),
                     st.booleans())


def cue_block(sep: str, vtt: bool):
    time_line = (st.builds(lambda a, b, extra: f"{a} --> {b}{extra}", clock(sep), clock(sep),
                           st.sampled_from(["", " align:start", " position:10%"]))
                 | st.sampled_from(["00:00:01.000 -> 00:00:02.000", "-->", "1 --> 2"]) | st.text(max_size=20))
    voice = st.sampled_from(["agent", "customer", "Agent", "caller", "boss", "", "agent.loud"])
    body = (st.builds(lambda v, t: f"<v {v}>{t}", voice, st.text(max_size=20)) if vtt else st.nothing()) | \
        st.builds(lambda v, t: f"{v}: {t}", voice, st.text(max_size=20)) | st.text(max_size=30)
    return st.builds(lambda ident, tl, lines: "\n".join([*ident, tl, *lines]),
                     st.lists(st.sampled_from(["1", "42", "cue-1"]), max_size=1), time_line,
                     st.lists(body, max_size=3))


def timed_document(vtt: bool):
    sep = "." if vtt else ","
    heads = ["WEBVTT", "WEBVTT - title", "WEBVTT\n\nNOTE a note", "\ufeffWEBVTT"]
    head = st.sampled_from(heads) if vtt else st.just("")
    return st.builds(lambda h, blocks, gap: h + gap + gap.join(blocks) + "\n", head,
                     st.lists(cue_block(sep, vtt), max_size=5), st.sampled_from(["\n\n", "\r\n\r\n", "\n \n"]))


@fuzz(120)
@given(text=timed_document(vtt=True))
def test_fuzz_webvtt(folder, text):
    path = folder / "t.vtt"
    path.write_text(text, encoding="utf-8")
    check(path)


@fuzz(120)
@given(text=timed_document(vtt=False))
def test_fuzz_srt(folder, text):
    path = folder / "t.srt"
    path.write_text(text, encoding="utf-8")
    check(path)


# ---- anything at all --------------------------------------------------------------------------------

@fuzz(150)
@given(data=st.binary(max_size=300) | st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
       suffix=st.sampled_from([".vtt", ".srt", ".json", ".txt", ""]))
def test_fuzz_any_bytes(folder, data, suffix):
    path = folder / f"any{suffix}"
    path.write_bytes(data)
    check(path)
