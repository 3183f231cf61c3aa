"""Redaction across a call: numbers read out over several utterances, stored through the real
recorder and SQLite, then read back from the database file itself.

call_redaction_cases.json: spoken variants of cards (digits, words, bracketed groups, mixed, with
pauses), security codes and expiry dates after a card, SSNs, phones, IBANs, accounts, e-mails; every
one must be hidden. ordinary_numbers.json: prices, dates, times, quantities; none may be hidden."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from callcue.engine import events as ev
from callcue.sessions_io import Recorder
from callcue.store import SessionStore, SessionWriter
from callcue.store.redaction import HELD, TAGS, analyse

HERE = Path(__file__).parent
CASES = json.loads((HERE / "call_redaction_cases.json").read_text(encoding="utf-8"))
ORDINARY = json.loads((HERE / "ordinary_numbers.json").read_text(encoding="utf-8"))


def utterances(lines: list[list]) -> list[ev.Utterance]:
    """Timed utterances: 0.4 s a word, 1.5 s between lines unless a line gives its pause."""
    out, t = [], 1.0
    for who, text, *rest in lines:
        t += rest[0] if rest else 1.5
        words = [ev.Word(w, round(t + i * 0.4, 3), round(t + i * 0.4 + 0.3, 3)) for i, w in enumerate(text.split())]
        end = words[-1].end if words else t + 0.3
        out.append(ev.Utterance(who, round(t, 3), end, text, words))
        t = end
    return out


def save_call(path: Path, lines: list[list]) -> list[dict]:
    """Save a call as `listen` does (Recorder, batches, the clock advanced), return the stored utterances."""
    store = SessionStore(path)
    rec = Recorder(store, {"kind": "live"})
    rec.write(ev.CallStart(None, ["agent", "customer"]))
    said = utterances(lines)
    for u in said:
        rec.write([u])
        rec.advance(u.end)
    rec.finish()
    store.close()
    return stored(path)


def stored(path: Path) -> list[dict]:
    conn = sqlite3.connect(path)
    try:
        return [json.loads(r[0]) for r in conn.execute(
            "SELECT json FROM events WHERE type = 'utterance' ORDER BY seq")]
    finally:
        conn.close()


def numbers_left(text: str) -> list[str]:
    _, runs = analyse(text)
    return [r.digits for r in runs]


def test_case_sets_are_big_enough():
    assert len(CASES) >= 60 and len(ORDINARY) >= 30
    assert len({c["name"] for c in CASES}) == len(CASES)
    assert sum("bracket" in c["name"] for c in CASES) >= 5
    assert sum("words" in c["name"] for c in CASES) >= 8


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_spoken_identifier_is_hidden_in_the_database(case, tmp_path):
    db = tmp_path / "s.db"
    rows = save_call(db, case["lines"])
    assert len(rows) == len(case["lines"])
    for (_who, said, *_), row in zip(case["lines"], rows, strict=True):
        for form in (row["text"], " ".join(w["word"] for w in row["words"])):
            left = [d for d in numbers_left(form) if d not in case["keep"]]
            only_numbers = not [w for w in said.split() if not numbers_left(w) and w.strip(".,-") not in
                                ("uh", "um", "and", "then", "it's", "yes", "it", "is", "네", "입니다")]
            # No number of two digits or more is left, and a line that was only a number keeps none.
            assert not [d for d in left if len(d) >= 2 or only_numbers], (said, form)
            assert HELD not in form, (said, form)  # everything was settled when the call finished
    # Every event and the summary as stored (not the raw file: session ids and pids are random hex).
    conn = sqlite3.connect(db)
    blob = " ".join(r[0] or "" for r in conn.execute("SELECT json FROM events UNION ALL SELECT summary FROM sessions"))
    conn.close()
    for u in utterances(case["lines"]):
        for digits in numbers_left(u.text):
            if len(digits) >= 3 and digits not in case["keep"]:
                assert digits not in blob, (u.text, digits)


@pytest.mark.parametrize("case", ORDINARY, ids=[c["name"] for c in ORDINARY])
def test_ordinary_number_is_kept(case, tmp_path):
    rows = save_call(tmp_path / "s.db", case["lines"])
    assert [r["text"] for r in rows] == [line[1] for line in case["lines"]]
    assert [" ".join(w["word"] for w in r["words"]) for r in rows] == [line[1] for line in case["lines"]]


def test_first_group_is_never_in_clear_while_the_call_goes_on(tmp_path):
    """A call is saved as it runs: the first group is stored held, then as [card]; a year at the end of
    a line is held for one line of its speaker, then stored back in clear."""
    db = tmp_path / "s.db"
    store = SessionStore(db)
    sid = store.begin({"kind": "live"})
    writer = SessionWriter(store, sid, every_s=0.0)  # commit at every event: the worst case for a leak
    said = utterances([["customer", "it's 4111"], ["customer", "1111"], ["customer", "1111"],
                       ["customer", "1111"], ["customer", "I bought it in 2019"], ["customer", "and it broke"]])
    seen: list[list[str]] = []
    for u in said:
        writer.write(u)
        writer.flush()
        seen.append([r["text"] for r in stored(db)])
        assert "4111" not in json.dumps(stored(db))
    assert seen[0] == [f"it's {HELD}"]
    assert seen[2] == [f"it's {HELD}", HELD, HELD]
    assert seen[3] == ["it's [card]", "[card]", "[card]", "[card]"]
    assert seen[4][-1] == f"I bought it in {HELD}"
    assert seen[5][-2:] == ["I bought it in 2019", "and it broke"]
    writer.finish()
    store.close()


def test_a_held_number_is_settled_by_the_clock_in_a_silence(tmp_path):
    db = tmp_path / "s.db"
    store = SessionStore(db, redaction={"gap_s": 5.0})
    sid = store.begin({"kind": "live"})
    writer = SessionWriter(store, sid)
    writer.write(ev.Utterance("customer", 1.0, 2.0, "let's say ten thirty", []))
    writer.advance(3.0)
    assert [r["text"] for r in stored(db)] == [f"let's say {HELD}"]
    writer.advance(8.0)  # 6 s of silence: nobody continued the number
    assert [r["text"] for r in stored(db)] == ["let's say ten thirty"]
    store.close()


def test_quotes_in_cues_and_summary_are_masked(tmp_path):
    db = tmp_path / "s.db"
    store = SessionStore(db)
    sid = store.begin({"kind": "live"})
    writer = SessionWriter(store, sid)
    for u in utterances([["customer", "4111"], ["customer", "1111"], ["customer", "1111"], ["customer", "1111"]]):
        writer.write(u)
    writer.write(ev.Cue(20.0, "x", "empathy", "warn", "Own it", evidence={"quote": "the 1111 and 4111"}))
    writer.finish(ev.Summary(None, 0, 0.0, None, [], {}, notes=["customer read 4111 1111"]))
    loaded = store.load(sid)
    cue = next(e for e in loaded.events if isinstance(e, ev.Cue))
    assert cue.evidence["quote"] == "the [card] and [card]"
    assert loaded.summary["notes"] == ["customer read [account]"]  # one run of 8 digits: hidden by the line
    assert set(TAGS) >= {"[card]", "[code]", "[expiry]"}
    store.close()


def test_an_export_of_an_old_session_is_redacted_across_the_call(tmp_path):
    """A session stored before this redaction (line by line, the groups in clear): the report hides them."""
    from callcue.report.data import build_report

    db = tmp_path / "s.db"
    with SessionStore(db) as store:
        sid = store.begin({"kind": "live"})
    conn = sqlite3.connect(db)
    for seq, u in enumerate(utterances([["customer", "4111"], ["customer", "1111"], ["customer", "1111"],
                                        ["customer", "1111"], ["customer", "I bought it in 2019"]])):
        conn.execute("INSERT INTO events VALUES (?, ?, 'utterance', ?, ?)", (sid, seq, u.start, u.to_json()))
    conn.commit()
    conn.close()
    with SessionStore(db) as store:
        report = build_report(store.load(sid))
    text = json.dumps([getattr(line, "text", str(line)) for line in report.transcript], default=str)
    assert "4111" not in text and "1111" not in text and "2019" in text
