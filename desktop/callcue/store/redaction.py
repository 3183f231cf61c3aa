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
              an IBAN (mod-97 checked), and any other run of seven or more digits (so a
              16-digit number that fails the Luhn check is still hidden);
- `[code]`    a security code or PIN: after "security code", "cvv", or said right after a card;
- `[expiry]`  an expiry date ("09/26", "oh nine twenty six", "September 26") after "expires"
              or right after a card;
- `[digits]`  a number held back by `callredact.CallRedactor` until its speaker's next words
              say whether it goes on (only in a stored call, and only for a moment).

Digits count however they are written or said: "4521883", "45-21-883",
"four five two one eight eight three", "oh" for zero, "double five", "forty five",
and mixes of them ("4521 eight eight three"). Amounts ($1,250.00), decimals, dates,
times and percentages are left alone, and so are short numbers ("three to five
business days", "twenty percent"). Bracketed groups ("[4111] [1111]", the Korean model's
way of writing numbers) are one number. This module judges one line; `callredact.py`
carries what a speaker is reading out from one utterance to the next.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from callcue.engine.events import Event, Utterance, Word

CARD, SSN, PHONE, EMAIL, ACCOUNT = "[card]", "[ssn]", "[phone]", "[email]", "[account]"
CODE, EXPIRY = "[code]", "[expiry]"  # a card's security code (or a PIN) and its expiry date
HELD = "[digits]"  # digits held back until the caller's next words say what they are (callredact.py)
TAGS = (CARD, SSN, PHONE, EMAIL, ACCOUNT, CODE, EXPIRY, HELD)

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
    "sort": "account", "bic": "account", "swift": "account",
    "cvv": "code", "cvc": "code", "csc": "code", "cvv2": "code", "pin": "code", "passcode": "code",
    "expiry": "expiry", "expiration": "expiry", "expires": "expiry", "expire": "expiry",
    "exp": "expiry", "valid": "expiry", "thru": "expiry",
}
# "code" alone is a zip code, a promo code or an error code; after one of these it is a card's.
_CODE_BEFORE = {"security", "verification", "card", "cvv", "pin", "access", "three", "digit", "back"}
# A number followed by one of these is an amount or a quantity, never a security code or expiry.
_UNIT_AFTER = {
    "dollars", "dollar", "bucks", "euros", "euro", "pounds", "pound", "cents", "percent", "minutes",
    "minute", "hours", "hour", "days", "day", "weeks", "months", "years", "times", "items", "pieces",
    "packs", "pack", "boxes", "o'clock", "am", "pm", "gb", "mb", "units", "people", "calls", "seconds",
}
# Between the pieces of a number read out slowly, besides hesitations.
_GAP_WORDS = {"slash"}
_CONTEXT_SKIP = {
    "number", "numbers", "no", "num", "nr", "id", "is", "it", "it's", "its", "was", "my", "the",
    "your", "our", "me", "us", "him", "her", "them", "at", "on", "back", "to", "ends", "ending",
    "in", "with", "that's", "that", "and", "of", "last", "four", "digits", "security", "s",
    "sure", "yes", "yeah", "ok", "okay", "so", "right", "please", "here", "goes", "be", "would",
    "could", "can", "you", "i", "a", "an", "again", "are", "were", "'s", "this",
} | _FILLERS
_CONTEXT_WINDOW = 8

# An IBAN, written (GB29 NWBK 6016 1331 9268 19): its mod-97 check decides.
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?[A-Z0-9]{1,3})?\b", re.IGNORECASE)
# Words that may stand before or after a number that goes on in the next breath ("and then 1111").
_LEAD = {
    "and", "then", "next", "is", "it's", "its", "it", "the", "yes", "yeah", "ok", "okay", "so", "after",
    "that", "are", "group", "right", "sure", "continuing", "followed", "by", "plus", "also",
} | _FILLERS
_TRAIL = {"and", "then", "okay", "ok", "right", "so", "yeah", "next", "got", "that"} | _FILLERS
_EDGE_WORDS = 3
_MONTHS = {
    m: f"{i:02d}" for i, names in enumerate((
        ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
        ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
        ("october", "oct"), ("november", "nov"), ("december", "dec")), start=1) for m in names
}

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
        # Brackets: the Korean model writes a number as bracketed groups, "[4111] [1111]".
        if tok.kind == "other" and tok.text in ("-", ",", "(", ")", "[", "]"):
            continue
        # "09/26", said "oh nine slash twenty six": short pieces only, so a fraction stays two numbers
        if tok.text == "/" or tok.text.lower() in _GAP_WORDS:
            if len(a.digits) <= 4 and len(b.digits) <= 4:
                continue
            return False
        if tok.kind == "word" and tok.text.lower() in _FILLERS:
            continue
        return False
    return len(gap) <= 7


def _context(text: str, start: int) -> str | None:
    words = _CONTEXT_WORD.findall(text[:start].lower())
    recent = words[-_CONTEXT_WINDOW:]
    for k in range(len(recent) - 1, -1, -1):
        word = recent[k]
        if word == "code":
            if k and recent[k - 1] == "sort":
                return "account"  # a UK bank's sort code
            return "code" if k and recent[k - 1] in _CODE_BEFORE else "code-weak"
        if word in _CONTEXT:
            return _CONTEXT[word]
        if word not in _CONTEXT_SKIP:
            return None
    # "my number is 555 1234": a number of a person, with nothing else said, is a phone
    if "number" in words[-4:]:
        return "phone-weak"
    return None


def expiry_like(digits: str) -> bool:
    """Could these digits be a card's expiry: M YY, MM YY or MM YYYY (month 1-12)?"""
    n = len(digits)
    if n == 3:
        return digits[0] != "0"
    if n in (4, 6):
        month = int(digits[:2])
        return 1 <= month <= 12 and (n == 4 or digits[2:4] == "20")
    return False


def card_detail(digits: str, context: str | None, after_card: bool | frozenset[str] = False) -> str | None:
    """A security code or an expiry date: said after "security code" / "expires", or after a card.

    `after_card`: True, or the tags still expected after the card said before (a card has one
    code and one expiry date: once both were heard, a short number is a short number again)."""
    n = len(digits)
    if context == "expiry" and expiry_like(digits):
        return EXPIRY
    if context == "code" and 3 <= n <= 6:
        return CODE
    wants = {CODE, EXPIRY} if after_card is True else set(after_card or ())
    if wants and context in (None, "code-weak", "card"):
        if n == 4 and digits[0] in "01" and expiry_like(digits) and EXPIRY in wants:
            return EXPIRY
        if n in (3, 4) and CODE in wants:
            return CODE
        if n in (3, 4, 6) and expiry_like(digits) and EXPIRY in wants:
            return EXPIRY
    return None


def _classify(digits: str, raw: str, context: str | None, after_card: bool | frozenset[str] = False) -> str | None:
    n = len(digits)
    if 13 <= n <= 19 and luhn_ok(digits):
        return CARD
    if (detail := card_detail(digits, context, after_card)) is not None:
        return detail
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


@dataclass
class Run:
    """A number in a line, however said, and what the line alone makes of it."""

    start: int  # character span, brackets and a leading "+" included
    end: int
    digits: str
    tag: str | None  # the tag this line alone gives it, or None: an ordinary number
    context: str | None  # what the words before it say it is ("card", "phone", ...)
    head: bool = False  # only a few linking words ("and then", "uh") before it in the line
    tail: bool = False  # only a few linking words after it: the number may go on in the next line
    unit: bool = False  # followed by "dollars", "minutes", ...: an amount, not an identifier
    month: int | None = None  # start of a month name just before it ("September twenty six")
    first_token: int = 0  # token range in the line, for joining groups said with "and" between
    last_token: int = 0


def _edge(tokens: list[_Token], indices: range, words: set[str]) -> bool:
    """Are the tokens at `indices` only punctuation and at most a few of `words`?"""
    count = 0
    for i in indices:
        tok = tokens[i]
        if tok.kind in ("space", "other") and tok.text not in "\0":
            continue
        if tok.kind == "word" and tok.text.lower() in words:
            count += 1
            if count > _EDGE_WORDS:
                return False
            continue
        return False
    return True


def _month_before(tokens: list[_Token], first: int) -> int | None:
    """Where a month name ends just before token `first` ("September 26", "sept of 26")."""
    j = first - 1
    for _ in range(2):
        while j >= 0 and tokens[j].kind == "space":
            j -= 1
        if j >= 0 and tokens[j].kind == "word" and tokens[j].text.lower() == "of":
            j -= 1
            continue
        break
    if j >= 0 and tokens[j].kind == "word" and tokens[j].text.lower() in _MONTHS:
        return j
    return None


def _make_run(masked: str, tokens: list[_Token], run: list[_Item], after_card: bool | frozenset[str],
              prev_last: int = -1, prev_tagged: bool = False) -> Run:
    start, end = run[0].start, run[-1].end
    # A leading "+", "(" or "[" belongs to the number: "+44 20 7946 0958", "(555) 123-4567", "[4111]".
    first = run[0].first
    while first > 0 and tokens[first - 1].text in "+([" and tokens[first - 1].kind == "other":
        first -= 1
        start = tokens[first].start
    last = run[-1].last
    while last + 1 < len(tokens) and tokens[last + 1].text in ")]" and tokens[last + 1].kind == "other" \
            and ("(" if tokens[last + 1].text == ")" else "[") in masked[start:tokens[last + 1].end]:
        last += 1
        end = tokens[last].end
    digits = "".join(item.digits for item in run)
    context = _context(masked, start)
    nxt = _next_word(tokens, last)
    unit = nxt is not None and tokens[nxt].text.lower() in _UNIT_AFTER
    # After a card, a short number is its code or expiry only when said as an answer: nothing but
    # linking words since the line's start or its last number ("737", "and 09 26"), not "in 2019".
    near = _edge(tokens, range(prev_last + 1, first), _LEAD) if prev_last < 0 or prev_tagged else False
    tag = _classify(digits, masked[start:end].strip("()[]"), context, after_card if near and not unit else False)
    month = _month_before(tokens, first)
    wants_expiry = after_card is True or (not isinstance(after_card, bool) and EXPIRY in after_card)
    if month is not None and (wants_expiry or context == "expiry" or _context(masked, tokens[month].start) == "expiry"):
        tag, start = EXPIRY, tokens[month].start
    return Run(
        start, end, digits, tag, context,
        head=_edge(tokens, range(0, first), _LEAD),
        tail=_edge(tokens, range(last + 1, len(tokens)), _TRAIL),
        unit=unit, month=month, first_token=first, last_token=last,
    )


def _iban_ok(text: str) -> bool:
    code = re.sub(r"[ -]", "", text).upper()
    if not 15 <= len(code) <= 34:
        return False
    moved = code[4:] + code[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def analyse(text: str, after_card: bool | frozenset[str] = False) -> tuple[list[Span], list[Run]]:
    """The e-mails and IBANs of `text`, and every number in it with what the line alone makes of it.

    `after_card`: a card number was said just before (earlier in the call), so a short number
    is taken for its security code or expiry date (or, a set: those of CODE, EXPIRY still
    expected). A card inside `text` does the same for the rest of the line."""
    spans = [Span(m.start(), m.end(), EMAIL) for m in _EMAIL.finditer(text)]
    spans += [Span(m.start(), m.end(), ACCOUNT) for m in _IBAN.finditer(text)
              if _iban_ok(m.group()) and not any(s.start < m.end() and m.start() < s.end for s in spans)]
    # Blank out emails and IBANs so a number never runs into or out of one.
    masked = text
    for s in spans:
        masked = masked[:s.start] + "\0" * (s.end - s.start) + masked[s.end:]
    tokens = _tokens(masked)
    items = _items(tokens)
    groups: list[list[_Item]] = []
    for item in items:
        if groups and _joinable(tokens, groups[-1][-1], item):
            groups[-1].append(item)
        else:
            groups.append([item])
    runs: list[Run] = []
    prev_last = -1
    for group in groups:
        prev_tagged = bool(runs and runs[-1].tag)
        run = _make_run(masked, tokens, group, after_card, prev_last, prev_tagged)
        if run.tag is None and len(run.digits) >= 5:
            # Only when it decides the matter, so "... one two for the refund" keeps its "for".
            longer = _with_homophone(tokens, group)
            if longer:
                alt = _make_run(masked, tokens, longer, after_card, prev_last, prev_tagged)
                if alt.tag is not None:
                    run = alt
        if run.tag == CARD:
            after_card = True
        elif run.tag in (CODE, EXPIRY) and not isinstance(after_card, bool):
            after_card = after_card - {run.tag}
        runs.append(run)
        prev_last = group[-1].last
    _join_said_groups(tokens, runs)
    return sorted(spans, key=lambda s: s.start), runs


_JOIN_WORDS = {"and", "then", "next"} | _FILLERS


def _join_said_groups(tokens: list[_Token], runs: list[Run]) -> None:
    """Groups of a card said with "and" or "then" between ("4111 and 1111 and 1111 and 1111"): one card.

    Only a card: 13-19 digits in groups of three or more that pass Luhn, or four groups of four,
    so "between 2019 and 2020" stays two years."""
    i = 0
    while i < len(runs):
        j = i
        while j + 1 < len(runs) and len(runs[j + 1].digits) >= 3 and len(runs[i].digits) >= 3 and _edge(
                tokens, range(runs[j].last_token + 1, runs[j + 1].first_token), _JOIN_WORDS):
            j += 1
        if j > i:
            group = runs[i:j + 1]
            digits = "".join(r.digits for r in group)
            sizes = [len(r.digits) for r in group]
            if (13 <= len(digits) <= 19 and luhn_ok(digits)) or sizes == [4, 4, 4, 4]:
                for r in group:
                    r.tag = CARD
        i = j + 1


def find_spans(text: str, after_card: bool = False) -> list[Span]:
    """Where the identifiers are in `text`, in order, without overlaps."""
    spans, runs = analyse(text, after_card)
    spans += [Span(r.start, r.end, r.tag) for r in runs if r.tag]
    return sorted(spans, key=lambda s: s.start)


def apply_spans(text: str, spans: list[Span]) -> str:
    """`text` with each span replaced by its tag (spans in order, without overlaps)."""
    out: list[str] = []
    pos = 0
    for span in spans:
        out.append(text[pos:span.start])
        out.append(span.tag)
        pos = span.end
    out.append(text[pos:])
    return "".join(out)


def redact(text: str) -> str:
    """`text` with card numbers, SSNs, phone numbers, emails and account numbers replaced by tags."""
    if not text:
        return text
    return apply_spans(text, find_spans(text))


def redact_words(words: list[Word], spans: list[Span] | None = None) -> list[Word]:
    """Redact a timed word list: the words of one identifier become one word, the tag,
    spanning their times, so a transcript view never shows the digits one by one.

    `spans`: where the identifiers are in `" ".join(words)` (found here if None)."""
    if not words:
        return list(words)
    offsets: list[tuple[int, int]] = []
    pos = 0
    for w in words:
        offsets.append((pos, pos + len(w.word)))
        pos += len(w.word) + 1
    joined = " ".join(w.word for w in words)
    if spans is None:
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
