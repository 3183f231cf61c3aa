"""Redaction: the case set (tests/store/redaction_cases.json), timed words, whole events."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callcue.engine.events import Cue, Partial, Status, Summary, Utterance, Word
from callcue.store.redaction import TAGS, luhn_ok, redact, redact_event, redact_words

CASES = json.loads((Path(__file__).parent / "redaction_cases.json").read_text(encoding="utf-8"))


def test_case_set_is_big_and_balanced():
    assert len(CASES) >= 50
    kinds = {c["kind"] for c in CASES}
    assert {"card", "ssn", "phone", "email", "account", "none"} <= kinds
    assert sum(c["kind"] == "none" for c in CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=[f"{i:02d}-{c['kind']}" for i, c in enumerate(CASES)])
def test_redaction_case(case):
    out = redact(case["text"])
    assert out == case["expected"]
    assert redact(out) == out  # redacting twice changes nothing


def test_luhn():
    assert luhn_ok("4111111111111111")
    assert luhn_ok("378282246310005")
    assert not luhn_ok("4111111111111112")
    assert not luhn_ok("1234567890123456")


def _words(text: str, step: float = 0.5) -> list[Word]:
    return [Word(w, round(i * step, 3), round(i * step + 0.4, 3), 0.9 if i % 3 else 1.0)
            for i, w in enumerate(text.split())]


def test_spoken_digits_in_words_become_one_tagged_word():
    words = _words("my card is four one one one one one one one one one one one one one one one thanks")
    out = redact_words(words)
    assert [w.word for w in out] == ["my", "card", "is", "[card]", "thanks"]
    tag = out[3]
    assert (tag.start, tag.end) == (words[3].start, words[18].end)
    assert tag.conf == min(w.conf for w in words[3:19])
    assert [w.start for w in out[:3]] == [w.start for w in words[:3]]
    assert out[4].start == words[19].start


def test_words_keep_punctuation_around_a_tag():
    out = redact_words(_words("mail jo@x.com, or call 555-123-4567."))
    assert [w.word for w in out] == ["mail", "[email],", "or", "call", "[phone]."]


def test_words_without_identifiers_are_unchanged_copies():
    words = _words("three to five business days")
    out = redact_words(words)
    assert out == words and all(a is not b for a, b in zip(out, words, strict=True))


def test_utterance_event_text_and_words():
    text = "my account number is four five two one eight eight three okay"
    u = Utterance("customer", 10.0, 14.0, text, _words(text), sentiment=-0.2, frustration=0.4,
                  signals=["repeat: 4521883"])
    out = redact_event(u)
    assert out.text == "my account number is [account] okay"
    assert [w.word for w in out.words] == ["my", "account", "number", "is", "[account]", "okay"]
    assert out.signals == ["repeat: [account]"]
    assert (out.who, out.start, out.end, out.frustration) == ("customer", 10.0, 14.0, 0.4)
    assert u.text == text  # the original is not changed


def test_partial_cue_status_and_summary_text():
    assert redact_event(Partial("customer", 3.0, "it's 4111 1111 1111 1111")).text == "it's [card]"
    cue = Cue(5.0, "escalation-request", "conflict-management", "alert", "Follow policy",
              why="said 555 123 4567", evidence={"quote": "call me at 555 123 4567", "level": 0.8,
                                                 "hits": ["acct 12345678"]})
    out = redact_event(cue)
    assert out.id == "escalation-request" and out.skill == "conflict-management"
    assert out.why == "said [phone]"
    assert out.evidence == {"quote": "call me at [phone]", "level": 0.8, "hits": ["acct [account]"]}
    assert redact_event(Status(1.0, "device-lost", "lost USB 12345678", "agent")).message == "lost USB [account]"
    summary = Summary(0.5, 1, 2.0, 0.7, ["escalation-request"], {"empathy": 3},
                      commitments=[{"text": "I will call you at 555 123 4567", "due": "2024-05-01"}],
                      notes=["They read out their card 4111111111111111"])
    s = redact_event(summary)
    assert s.commitments == [{"text": "I will call you at [phone]", "due": "2024-05-01"}]
    assert s.notes == ["They read out their card [card]"]
    assert s.cues == ["escalation-request"]


def test_tags_are_the_documented_ones():
    assert TAGS == ("[card]", "[ssn]", "[phone]", "[email]", "[account]", "[code]", "[expiry]", "[digits]")
