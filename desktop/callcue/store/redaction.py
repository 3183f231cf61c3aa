"""Redaction of card numbers and other identifiers, before anything is stored or exported.

Plain regular expressions and a Luhn check, no model: the rules must be easy to
audit. What is found is replaced by a tag:

- `[card]`    13-19 digits that pass the Luhn check;
- `[ssn]`     a US social security number (123-45-6789, or nine digits after
              "social security" / "SSN", or the last four after them);
- `[phone]`   a phone number (10 digits, 11 starting with 1, +country..., 7 digits
              written 555-1234 or said after "phone", "call me at", "my number is");
- `[email]`   an email address, written (a@b.com) or said ("jo dot lee at mail dot com");
- `[account]` six or more digits after "account", "policy", "member", "customer" ...,
              and any other run of seven or more digits (so a 16-digit number that
              fails the Luhn check is still hidden).

Digits count however they are written or said: "4521883", "45-21-883",
"four five two one eight eight three", "oh" for zero, "double five", "forty five",
and mixes of them ("4521 eight eight three"). Amounts ($1,250.00), decimals, dates,
times and percentages are left alone, and so are short numbers ("three to five
business days", "twenty percent").
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from callcue.engine.events import Event, Utterance, Word

CARD, SSN, PHONE, EMAIL, ACCOUNT = "[card]", "[ssn]", "[phone]", "[email]", "[account]"
TAGS = (CARD, SSN, PHONE, EMAIL, ACCOUNT)

_UNITS = {
    "zero": "0", "oh": "0", "nought": "0", "nil": "0",
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9", "niner": "9",
}
_TEENS = {
    "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14",
    "fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19",
}
_TENS = {
    "twenty": "2", "thirty": "3", "forty": "4", "fourty": "4", "fifty": "5",
    "sixty": "6", "seventy": "7", "eighty": "8", "ninety": "9",
}
_REPEAT = {"double": 2, "triple": 3}
# What a recognizer may write for a digit read out in a row of digits ("four five to one");
# taken as digits only between two spoken digits, so "one to five days" stays a range.
_HOMOPHONES = {"to": "2", "too": "2", "for": "4", "won": "1", "ate": "8"}
# Hesitations a caller says in the middle of reading out a number.
_FILLERS = {"uh", "um", "umm", "er", "erm", "ah", "hmm"}

# Words that, just before a number, say what it is. Up to a few _CONTEXT_SKIP words may sit
# between ("account number is", "call me back at").
_CONTEXT = {
    "account": "account", "accounts": "account", "acct": "account", "policy": "account",
    "member": "account", "membership": "account", "customer": "account", "routing": "account",
    "iban": "account", "subscriber": "account", "client": "account", "reference": "account",
    "card": "card", "visa": "card", "mastercard": "card", "amex": "card", "credit": "card",
    "debit": "card",
    "social": "ssn", "ssn": "ssn",
    "phone": "phone", "telephone": "phone", "cell": "phone", "mobile": "phone", "call": "phone",
    "reach": "phone", "text": "phone", "fax": "phone", "landline": "phone", "callback": "phone",
    "dial": "phone", "extension": "phone",
}
_CONTEXT_SKIP = {
    "number", "numbers", "no", "num", "nr", "id", "is", "it", "it's", "its", "was", "my", "the",
    "your", "our", "me", "us", "him", "her", "them", "at", "on", "back", "to", "ends", "ending",
    "in", "with", "that's", "that", "and", "of", "last", "four", "digits", "security", "s",
    "sure", "yes", "yeah", "ok", "okay", "so", "right", "please", "here", "goes", "be", "would",
    "could", "can", "you", "i", "a", "an", "again", "are", "were", "'s", "this",
} | _FILLERS
_CONTEXT_WINDOW = 8

_EMAIL_WRITTEN = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
_EMAIL_SPOKEN = (
    r"\b[a-z0-9]+(?:\s+(?:dot|underscore|dash|hyphen)\s+[a-z0-9]+)*"
    r"\s+(?:at|@)\s+[a-z0-9]+(?:\s+(?:dot|dash|hyphen)\s+[a-z0-9]+)*"
    r"\s+dot\s+(?:com|net|org|edu|gov|io|co|us|uk|ca|de|fr|au|info|biz|me)\b"
)
_EMAIL = re.compile(f"{_EMAIL_WRITTEN}|{_EMAIL_SPOKEN}", re.IGNORECASE)

# Numbers that are not identifiers: money, thousands, dates, times, decimals, percentages.
_PROTECTED = (
    r"[$€£]\s?\d[\d,]*(?:\.\d+)?"
    r"|\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d)"
    r"|\d{4}-\d{2}-\d{2}(?!\d)"
    r"|\d{1,2}/\d{1,2}/\d{2,4}(?!\d)"
    r"|\d{1,2}:\d{2}(?::\d{2})?(?!\d)"
    r"|\d+(?:\.\d+)?\s?%"
    r"|\d+\.\d{1,2}(?![.\d])"
)
_TOKEN = re.compile(
    rf"(?P<protected>{_PROTECTED})|(?P<num>\d+)|(?P<word>[A-Za-z]+(?:'[A-Za-z]+)?)|(?P<space>\s+)|(?P<other>.)",
    re.DOTALL,
)
_SSN_WRITTEN = re.compile(r"\d{3}[- ]\d{2}[- ]\d{4}")
_PHONE7_WRITTEN = re.compile(r"\d{3}[-. ]\d{4}")
_CONTEXT_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?|#")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    tag: str


@dataclass
class _Token:
    kind: str  # protected, num, word, space, other
    text: str
    start: int
    end: int


@dataclass
class _Item:
    """One piece of a spoken or written number: "4521", "eight", "double five", "forty five"."""

    digits: str
    start: int
    end: int
    first: int  # token index range, inclusive
    last: int
    numeric: bool


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _tokens(text: str) -> list[_Token]:
    return [_Token(m.lastgroup or "other", m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _next_word(tokens: list[_Token], i: int, joiners: str = "") -> int | None:
    """Index of the word right after token i, across one space (or one of `joiners`)."""
    j = i + 1
    if j < len(tokens) and (tokens[j].kind == "space" or (joiners and tokens[j].text in joiners)):
        j += 1
    if j < len(tokens) and tokens[j].kind == "word":
        return j
    return None


def _items(tokens: list[_Token]) -> list[_Item]:
    items: list[_Item] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        low = tok.text.lower()
        item: _Item | None = None
        if tok.kind == "num":
            item = _Item(tok.text, tok.start, tok.end, i, i, True)
        elif tok.kind == "word":
            if low in _UNITS:
                item = _Item(_UNITS[low], tok.start, tok.end, i, i, False)
            elif low in _TEENS:
                item = _Item(_TEENS[low], tok.start, tok.end, i, i, False)
            elif low in _TENS:
                j = _next_word(tokens, i, "-")
                unit = _UNITS.get(tokens[j].text.lower()) if j is not None else None
                if j is not None and unit and unit != "0" and tokens[j].text.lower() != "oh":
                    item = _Item(_TENS[low] + unit, tok.start, tokens[j].end, i, j, False)
                else:
                    item = _Item(_TENS[low] + "0", tok.start, tok.end, i, i, False)
            elif low in _REPEAT:
                j = _next_word(tokens, i)
                if j is not None and tokens[j].text.lower() in _UNITS:
                    digit = _UNITS[tokens[j].text.lower()]
                    item = _Item(digit * _REPEAT[low], tok.start, tokens[j].end, i, j, False)
            elif (
                low in _HOMOPHONES
                and items and items[-1].last == i - 2 and not items[-1].numeric
                and tokens[i - 1].kind == "space" and tokens[items[-1].last].text.lower() in _UNITS
                and (j := _next_word(tokens, i)) is not None and tokens[j].text.lower() in _UNITS
            ):
                item = _Item(_HOMOPHONES[low], tok.start, tok.end, i, i, False)
            elif low == "hundred" and items and items[-1].last == i - 2 and len(items[-1].digits) == 1:
                # "eight hundred" in a phone number; only right after a single digit
                item = _Item("00", tok.start, tok.end, i, i, False)
        if item is not None:
            items.append(item)
            i = item.last + 1
        else:
            i += 1
    return items


def _with_homophone(tokens: list[_Token], run: list[_Item]) -> list[_Item] | None:
    """The run with a "for" or "to" just before it taken as a digit: the recognizer's spelling
    of a digit ("for five two one eight eight three"). None when there is no such word."""
    first = run[0]
    i = first.first
    if first.numeric or i < 2 or tokens[i - 1].kind != "space":
        return None
    word = tokens[i - 2].text.lower()
    if tokens[i - 2].kind != "word" or word not in _HOMOPHONES:
        return None
    return [_Item(_HOMOPHONES[word], tokens[i - 2].start, tokens[i - 2].end, i - 2, i - 2, False), *run]


def _joinable(tokens: list[_Token], a: _Item, b: _Item) -> bool:
    """May two number pieces be read as one number? Only spaces, dashes, brackets,
    commas and hesitations between them; a dot only inside a written number (555.123.4567)."""
    gap = tokens[a.last + 1:b.first]
    if not gap:
        return True
    if len(gap) == 1 and gap[0].text == "." and a.numeric and b.numeric:
        return True
    for tok in gap:
        if tok.kind == "space":
            continue
        if tok.kind == "other" and tok.text in ("-", ",", "(", ")"):
            continue
        if tok.kind == "word" and tok.text.lower() in _FILLERS:
            continue
        return False
    return len(gap) <= 7


def _context(text: str, start: int) -> str | None:
    words = _CONTEXT_WORD.findall(text[:start].lower())
    for word in reversed(words[-_CONTEXT_WINDOW:]):
        if word in _CONTEXT:
            return _CONTEXT[word]
        if word not in _CONTEXT_SKIP:
            return None
    # "my number is 555 1234": a number of a person, with nothing else said, is a phone
    if "number" in words[-4:]:
        return "phone-weak"
    return None


def _classify(digits: str, raw: str, context: str | None) -> str | None:
    n = len(digits)
    if 13 <= n <= 19 and luhn_ok(digits):
        return CARD
    if n == 9 and _SSN_WRITTEN.fullmatch(raw):
        return SSN
    if context == "ssn" and n >= 4:
        return SSN
    if context in ("account", "card") and n >= 6:
        return ACCOUNT
    if context in ("phone", "phone-weak") and 7 <= n <= 15:
        return PHONE
    if raw.startswith("+") and 8 <= n <= 15:
        return PHONE
    if n == 10 or (n == 11 and digits[0] == "1"):
        return PHONE
    if n == 7 and _PHONE7_WRITTEN.fullmatch(raw):
        return PHONE
    if n >= 7:
        return ACCOUNT
    return None


def _run_span(masked: str, tokens: list[_Token], run: list[_Item]) -> Span | None:
    start, end = run[0].start, run[-1].end
    # A leading "+" or "(" belongs to a phone number: "+44 20 7946 0958", "(555) 123-4567".
    first = run[0].first
    while first > 0 and tokens[first - 1].text in "+(" and tokens[first - 1].kind == "other":
        first -= 1
        start = tokens[first].start
    if run[-1].last + 1 < len(tokens) and tokens[run[-1].last + 1].text == ")" and "(" in masked[start:end]:
        end = tokens[run[-1].last + 1].end
    digits = "".join(item.digits for item in run)
    tag = _classify(digits, masked[start:end].strip("()"), _context(masked, start))
    return Span(start, end, tag) if tag else None


def find_spans(text: str) -> list[Span]:
    """Where the identifiers are in `text`, in order, without overlaps."""
    spans = [Span(m.start(), m.end(), EMAIL) for m in _EMAIL.finditer(text)]
    # Blank out emails so a number never runs into or out of one.
    masked = text
    for s in spans:
        masked = masked[:s.start] + "\0" * (s.end - s.start) + masked[s.end:]
    tokens = _tokens(masked)
    items = _items(tokens)
    runs: list[list[_Item]] = []
    for item in items:
        if runs and _joinable(tokens, runs[-1][-1], item):
            runs[-1].append(item)
        else:
            runs.append([item])
    for run in runs:
        span = _run_span(masked, tokens, run)
        if span is None and sum(len(item.digits) for item in run) >= 5:
            # Only when it decides the matter, so "... one two for the refund" keeps its "for".
            longer = _with_homophone(tokens, run)
            span = _run_span(masked, tokens, longer) if longer else None
        if span:
            spans.append(span)
    return sorted(spans, key=lambda s: s.start)


def redact(text: str) -> str:
    """`text` with card numbers, SSNs, phone numbers, emails and account numbers replaced by tags."""
    if not text:
        return text
    out: list[str] = []
    pos = 0
    for span in find_spans(text):
        out.append(text[pos:span.start])
        out.append(span.tag)
        pos = span.end
    out.append(text[pos:])
    return "".join(out)


def redact_words(words: list[Word]) -> list[Word]:
    """Redact a timed word list: the words of one identifier become one word, the tag,
    spanning their times, so a transcript view never shows the digits one by one."""
    if not words:
        return list(words)
    offsets: list[tuple[int, int]] = []
    pos = 0
    for w in words:
        offsets.append((pos, pos + len(w.word)))
        pos += len(w.word) + 1
    joined = " ".join(w.word for w in words)
    spans = find_spans(joined)
    if not spans:
        return [dataclasses.replace(w) for w in words]
    out: list[Word] = []
    i = 0
    for span in spans:
        while i < len(words) and offsets[i][1] <= span.start:
            out.append(dataclasses.replace(words[i]))
            i += 1
        j = i
        while j < len(words) and offsets[j][0] < span.end:
            j += 1
        if j == i:  # a span inside the spaces between words cannot happen; be safe
            continue
        group = words[i:j]
        text = joined[offsets[i][0]:span.start] + span.tag + joined[span.end:offsets[j - 1][1]]
        out.append(Word(text, group[0].start, group[-1].end, min(w.conf for w in group)))
        i = j
    out.extend(dataclasses.replace(w) for w in words[i:])
    return out


# Fields that name things rather than carry what people said: never rewritten.
_KEEP_FIELDS = {
    "who", "id", "skill", "severity", "trend", "action", "cue", "kind", "channels", "model",
    "transcript", "by", "over", "cues", "scores",
}


def redact_value(value: Any) -> Any:
    """Redact every string inside a JSON-like value (dict keys are names and are kept)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_value(v) for v in value]
    if isinstance(value, tuple):
        return tuple(redact_value(v) for v in value)
    return value


def redact_event(event: Event) -> Event:
    """A copy of `event` with its free text redacted: utterance text and words, partial text,
    cue text and evidence, status messages, summary notes and commitments, and any string
    field added later. Names and ids (who, skill, cue ids) are kept."""
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(event):
        if f.name in _KEEP_FIELDS:
            continue
        value = getattr(event, f.name)
        if isinstance(event, Utterance) and f.name == "words":
            changes["words"] = redact_words(value)
        elif isinstance(value, (str, dict, list, tuple)):
            changes[f.name] = redact_value(value)
    return dataclasses.replace(event, **changes)
