"""Redaction across a call: a number read out over several breaths is one number.

`redaction.py` judges one line. A caller reading a card in groups of four, with pauses, makes
four utterances ("4111" / "1111" / "1111" / "1111", or "[4111]" from the Korean model, or
"four one one one"), none long enough to be caught on its own; the security code and expiry
date that follow are three or four digits each. `CallRedactor` keeps, per session and per
speaker, the number that may still be going on, and decides when the speaker has finished it.

Held, then settled. A number that ends a line (only "and", "uh", "okay"... after it) may go on
in that speaker's next line, so it is *held*: the line is stored at once, but with the number
replaced by `[digits]`; the clear digits stay only in memory. The next line of the same speaker
settles it:
- it starts with a number (only linking words before it: "and then 1111"), within `gap_s` of
  call time: the pieces form one number, still held while it may go on;
- otherwise (other words first, `gap_s` of call time passed, or the call ended) the number is
  complete, and its pieces together are classified: a card (13-19 digits passing Luhn, or 12+
  asked for as a card), an SSN, a phone, an account or IBAN number, a security code or expiry
  (said after a card, or after "security code" / "expires", by the caller or asked by the
  agent), or three or more pieces making 10+ digits. A number of one piece is judged as the
  line alone would judge it (with the card context).
Then every line that held a piece is rewritten: with the tag (`[card]` for each group of the
card) or, for an ordinary number ("I'll take two", "at ten thirty", "2019"), back in clear, as
said. A held number is therefore in the database as `[digits]` until the speaker's next line
that does not go on with it (or `gap_s` of call time), never in clear; a crash in that moment leaves `[digits]`
(safe, and the rest of the line kept). Numbers inside a line (prices, times, "two three-packs",
"$45.99", "10:30") are never held: other words follow them, so they cannot go on.

Another speaker asking for another detail in between ("and the expiry?") ends the number; a
backchannel ("mm-hm") or "go on with the card number" does not, nor does an "um" on its own.

After a card (tagged by the line or by the chain), for `after_card_s` of call time a 3-4 digit
number said as an answer (only linking words before it: "737", "and 09 26"; not "in 2019") by
either speaker is its security code or expiry date, not when followed by "dollars", "minutes"...
A card has one of each: once a code and an expiry date were heard, short numbers are ordinary
again. A number that was hidden once is hidden wherever it is said again (the agent reading the
code back), and a line repeating a number still held is held with it and settled with it.

Other events that quote what was said (cue evidence, status messages, the
summary's notes) are redacted by line, and any number in them that is a held or redacted piece
is masked too. Partial captions, when stored at all, have every number of two or more digits
masked: they are superseded by the utterance anyway.

The store calls `add(seq, event)` for each event (it returns the form to write now),
`advance(t)` when audio time passes, `close()` when the session finishes, and writes what
`take_updates()` returns (seq -> the new form of an event already written).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from callcue.engine import events as ev
from callcue.store.redaction import (
    _CONTEXT,
    _FILLERS,
    ACCOUNT,
    CARD,
    CODE,
    EXPIRY,
    HELD,
    PHONE,
    SSN,
    Run,
    Span,
    analyse,
    apply_spans,
    card_detail,
    luhn_ok,
    redact_event,
    redact_words,
)

DEFAULT_GAP_S = 10.0  # longest pause, in call time, between two groups of one number
DEFAULT_AFTER_CARD_S = 90.0  # how long after a card a short number is its code or expiry
DEFAULT_ASKED_S = 20.0  # how long "what's the card number?" of one speaker frames the other's answer


@dataclass
class _Piece:
    seq: int
    edge: str  # "first" or "last": which number of its line
    digits: str


@dataclass
class _Chain:
    pieces: list[_Piece]
    context: str | None
    after_card: frozenset[str]  # the card details still expected when it began
    end: float  # call time the last piece was said
    quoted: set[int] = field(default_factory=set)  # other speakers' lines that repeat a held piece


@dataclass
class _Line:
    """An utterance whose stored form may still change: the original stays in memory only."""

    event: ev.Utterance
    after_card: frozenset[str]  # the card details still expected when it was said
    overrides: dict[str, tuple[str, str]] = field(default_factory=dict)  # edge -> (digits, tag)


def _chain_tag(chain: _Chain) -> str | None:
    """What a number said in several pieces is; None: an ordinary number, or (one piece) as its line says."""
    digits = "".join(p.digits for p in chain.pieces)
    n, ctx, several = len(digits), chain.context, len(chain.pieces) > 1
    if 13 <= n <= 19 and luhn_ok(digits):
        return CARD
    if ctx == "card" and n >= 12:
        return CARD
    if (detail := card_detail(digits, ctx, chain.after_card)) is not None:
        return detail
    if ctx == "ssn" and (n == 9 or n == 4):
        return SSN
    if ctx in ("phone", "phone-weak") and 7 <= n <= 15:
        return PHONE
    if ctx in ("account", "card") and n >= 6:
        return ACCOUNT
    if not several:
        return None
    sizes = [len(p.digits) for p in chain.pieces]
    if n == 9 and sizes == [3, 2, 4]:
        return SSN
    if n == 10 or (n == 11 and digits[0] == "1"):
        return PHONE
    if n >= 12 or (len(sizes) >= 3 and n >= 10):
        return CARD if 13 <= n <= 19 else ACCOUNT
    return None


def _card_complete(digits: str) -> bool:
    """A card number that cannot go on: 16 digits (15 for Amex) passing Luhn, or 19 digits."""
    n = len(digits)
    if n >= 19:
        return True
    if n == 16 or (n == 15 and digits[:2] in ("34", "37")):
        return luhn_ok(digits)
    return False


def _edge_runs(runs: list[Run]) -> dict[str, Run]:
    out: dict[str, Run] = {}
    if runs and runs[0].head:
        out["first"] = runs[0]
    if runs and runs[-1].tail:
        out["last"] = runs[-1]
    return out


def _spans(text: str, after_card: frozenset[str], overrides: dict[str, tuple[str, str]],
           secret: dict[str, str]) -> list[Span]:
    """The spans to hide in `text`: its line's own, with the call's decisions on its edge numbers,
    and any number that was redacted before in the call (a read-back) hidden again."""
    found, runs = analyse(text, after_card)
    edges = _edge_runs(runs)
    decided: dict[int, str] = {}
    for edge, (digits, tag) in overrides.items():
        run = edges.get(edge)
        if run is None or run.digits != digits:
            # The words may be split or punctuated unlike the text: find the same digits anyway.
            run = next((r for r in (reversed(runs) if edge == "last" else runs) if r.digits == digits), None)
        if run is not None:
            decided[id(run)] = tag
    spans = list(found)
    for run in runs:
        run_tag = decided.get(id(run)) or run.tag or secret.get(run.digits)
        if run_tag:
            spans.append(Span(run.start, run.end, run_tag))
    return sorted(spans, key=lambda s: s.start)


class CallRedactor:
    """The redaction of one session, with memory of what each speaker is reading out."""

    def __init__(self, gap_s: float = DEFAULT_GAP_S, after_card_s: float = DEFAULT_AFTER_CARD_S,
                 asked_s: float = DEFAULT_ASKED_S) -> None:
        self.gap_s = gap_s
        self.after_card_s = after_card_s
        self.asked_s = asked_s
        self._chains: dict[str, _Chain] = {}
        self._lines: dict[int, _Line] = {}
        self._updates: dict[int, ev.Event] = {}
        self._card_until = float("-inf")
        self._wants: frozenset[str] = frozenset()  # card details still expected after the last card
        self._asked: dict[str, tuple[str, float]] = {}  # who -> (context their last line ended on, time)
        self._secret: dict[str, str] = {}  # digits (3+) of pieces that were redacted -> tag: masked wherever said again
        self.now = 0.0

    # -- the store's side ------------------------------------------------------------------

    def add(self, seq: int, event: ev.Event) -> ev.Event:
        """The form of `event` to store now (seq: its place in the session's stream)."""
        t = event.start if isinstance(event, ev.Utterance) else event.known_at
        self.advance(t)
        if isinstance(event, ev.Utterance):
            out: ev.Event = self._utterance(seq, event)
        elif isinstance(event, ev.Partial):
            out = dataclasses.replace(_redacted_partial(event), text=self._mask_all(event.text))
        else:
            out = self._scrub_event(redact_event(event))
        self._updates.pop(seq, None)  # what is returned now is its latest form
        return out

    def advance(self, t: float) -> None:
        """Call time reached `t`: a number not continued within `gap_s` is complete."""
        self.now = max(self.now, t)
        for who in [w for w, c in self._chains.items() if self.now - c.end > self.gap_s]:
            self._settle(who)

    def close(self) -> None:
        """The call is over: every held number is settled."""
        for who in list(self._chains):
            self._settle(who)

    def progress(self, event: ev.Event) -> ev.Event:
        """The stored form of an in-progress event (a partial caption: every number hidden)."""
        if isinstance(event, ev.Partial):
            return dataclasses.replace(_redacted_partial(event), text=self._mask_all(event.text))
        return self._scrub_event(redact_event(event))

    def take_updates(self) -> dict[int, ev.Event]:
        """Events already handed out whose stored form changed: seq -> new form."""
        out, self._updates = self._updates, {}
        return out

    def held(self) -> int:
        """How many numbers are held back waiting for their speaker's next words."""
        return sum(len(c.pieces) for c in self._chains.values())

    # -- utterances ------------------------------------------------------------------------

    def _after_card(self, t: float) -> frozenset[str]:
        return self._wants if t <= self._card_until else frozenset()

    def _redacted(self, digits: str, tag: str) -> None:
        """A number was hidden: remember it (to hide it when read back) and what a card still needs."""
        if len(digits) >= 3:
            self._secret.setdefault(digits, tag)
        if tag == CARD:
            self._wants = frozenset((CODE, EXPIRY))
        elif tag in (CODE, EXPIRY):
            self._wants = self._wants - {tag}

    def _utterance(self, seq: int, u: ev.Utterance) -> ev.Utterance:
        after_card = self._after_card(u.start)
        _, runs = analyse(u.text, after_card)
        line = _Line(u, after_card)
        if not runs and all(w.strip(".,!?-").lower() in _FILLERS for w in u.text.split()):
            return self._render(line)  # "um" between two groups: the number may still go on
        edges = _edge_runs(runs)
        who = u.who
        chain = self._chains.get(who)
        first, last = edges.get("first"), edges.get("last")
        continued = False
        # Another speaker asking for another detail ("and the expiry?") ends the number; "go on,
        # the card number" between the groups does not.
        asked_since = chain is not None and any(
            other != who and at > chain.end and ctx in ("code", "expiry", "ssn", "phone") and ctx != chain.context
            for other, (ctx, at) in self._asked.items())
        if chain is not None and first is not None and u.start - chain.end <= self.gap_s and not asked_since:
            chain.pieces.append(_Piece(seq, "first", first.digits))
            chain.end = u.end
            line.overrides["first"] = (first.digits, HELD)
            self._lines[seq] = line
            continued = True
            whole = last is first
            digits = "".join(p.digits for p in chain.pieces)
            if not whole or _card_complete(digits):
                self._settle(who)
        elif chain is not None:
            self._settle(who)
        if self._after_card(u.start) != after_card:  # the number just settled was a card
            after_card = line.after_card = self._after_card(u.start)
            _, runs = analyse(u.text, after_card)
            edges = _edge_runs(runs)
            last = edges.get("last")
        if last is not None and not (continued and first is not None
                                     and (last.digits, last.start) == (first.digits, first.start)) \
                and not (last.tag == CARD and _card_complete(last.digits)):
            context = last.context
            if context is None and last.head:
                context = self._asked_context(who, u.start)
            answer = last.head or last.context is not None  # "737", not "I bought it in 2019"
            wants = after_card - {r.tag for r in runs[:-1]}  # a code said earlier in the line is had
            self._chains[who] = _Chain([_Piece(seq, "last", last.digits)], context,
                                       wants if answer else frozenset(), u.end)
            # Held while it may go on; a number the line alone tags keeps its tag meanwhile.
            line.overrides["last"] = (last.digits, last.tag or HELD)
            self._lines[seq] = line
        # Another speaker repeating a number still held ("737, noted"): held too, settled with it.
        for other, chain in self._chains.items():
            if other != who and any(p.digits in {r.digits for r in runs} for p in chain.pieces
                                    if len(p.digits) >= 3):
                chain.quoted.add(seq)
                self._lines[seq] = line
        pieces = {digits for digits, _ in line.overrides.values()}  # judged with their chain, not here
        for run in runs:
            if run.digits in pieces:
                continue
            if run.tag == CARD:
                self._card_until = max(self._card_until, u.end + self.after_card_s)
            if run.tag:
                self._redacted(run.digits, run.tag)
        self._remember_context(u)
        return self._render(line)

    def _asked_context(self, who: str, t: float) -> str | None:
        """What another speaker just asked for ("can I have the card number?"), if recent."""
        best: tuple[str, float] | None = None
        for other, (context, at) in self._asked.items():
            if other != who and t - at <= self.asked_s and (best is None or at > best[1]):
                best = (context, at)
        return best[0] if best else None

    def _remember_context(self, u: ev.Utterance) -> None:
        words = [w.strip(".,?!:;").lower() for w in u.text.split()]
        found = None
        for k, word in enumerate(words):
            if word == "code":
                found = "code" if k and words[k - 1] in ("security", "verification", "cvv", "pin", "back") \
                    else found
            elif word in _CONTEXT:
                found = _CONTEXT[word]
        if found is not None:
            self._asked[u.who] = (found, u.end)

    def _settle(self, who: str) -> None:
        chain = self._chains.pop(who, None)
        if chain is None:
            return
        tag = _chain_tag(chain)
        for piece in chain.pieces:
            line = self._lines.get(piece.seq)
            if line is None:
                continue
            if tag is None:
                line.overrides.pop(piece.edge, None)  # as the line alone says: clear, unless it is an identifier
            else:
                line.overrides[piece.edge] = (piece.digits, tag)
            self._updates[piece.seq] = self._render(line)
        if tag == CARD:
            self._card_until = max(self._card_until, chain.end + self.after_card_s)
        for piece in chain.pieces:
            final = tag or self._line_tag(piece)
            if final:
                self._redacted(piece.digits, final)
        for seq in chain.quoted:
            if seq in self._lines:
                self._updates[seq] = self._render(self._lines[seq])
        pending = {p.seq for c in self._chains.values() for p in c.pieces} | {
            q for c in self._chains.values() for q in c.quoted}
        for seq in [p.seq for p in chain.pieces] + list(chain.quoted):
            if seq not in pending:
                self._lines.pop(seq, None)

    def _line_tag(self, piece: _Piece) -> str | None:
        """The tag its line alone gives a piece (an identifier said in one breath), if any."""
        line = self._lines.get(piece.seq)
        if line is None:
            return None
        _, runs = analyse(line.event.text, line.after_card)
        return next((r.tag for r in runs if r.digits == piece.digits and r.tag), None)

    def _render(self, line: _Line) -> ev.Utterance:
        u = line.event
        secret = {**{d: HELD for d in self._held_digits()}, **self._secret}
        base = redact_event(u)
        assert isinstance(base, ev.Utterance)
        text = apply_spans(u.text, _spans(u.text, line.after_card, line.overrides, secret)) if u.text else u.text
        words = u.words
        if words:
            joined = " ".join(w.word for w in words)
            words = redact_words(words, _spans(joined, line.after_card, line.overrides, secret))
        signals = [self._scrub_text(s) for s in base.signals]
        return dataclasses.replace(base, text=text, words=words, signals=signals)

    # -- everything else -------------------------------------------------------------------

    def _held_digits(self) -> set[str]:
        return {p.digits for c in self._chains.values() for p in c.pieces if len(p.digits) >= 3}

    def _scrub_text(self, text: str) -> str:
        """Mask, in a quote of what was said, the numbers that are held or were redacted."""
        if not text:
            return text
        held, secret = self._held_digits(), self._secret
        if not held and not secret:
            return text
        spans, runs = analyse(text)
        for run in runs:
            if run.digits in secret:
                spans.append(Span(run.start, run.end, secret[run.digits]))
            elif run.tag:
                spans.append(Span(run.start, run.end, run.tag))
            elif run.digits in held:
                spans.append(Span(run.start, run.end, HELD))
        return apply_spans(text, sorted(spans, key=lambda s: s.start))

    def _scrub_value(self, value: object) -> object:
        if isinstance(value, str):
            return self._scrub_text(value)
        if isinstance(value, dict):
            return {k: self._scrub_value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._scrub_value(v) for v in value]
        return value

    def _scrub_event(self, event: ev.Event) -> ev.Event:
        if not self._secret and not self._held_digits():
            return event
        changes = {}
        for f in dataclasses.fields(event):
            if f.name in ("who", "id", "skill", "severity", "trend", "action", "cue", "kind", "by", "over",
                          "channels", "model", "transcript", "cues", "scores"):
                continue
            value = getattr(event, f.name)
            if isinstance(value, (str, dict, list)):
                changes[f.name] = self._scrub_value(value)
        return dataclasses.replace(event, **changes)

    def _mask_all(self, text: str) -> str:
        """A partial caption: every number of two or more digits hidden, identifiers tagged."""
        spans, runs = analyse(text, self._after_card(self.now))
        for run in runs:
            if run.tag or len(run.digits) >= 2:
                spans.append(Span(run.start, run.end, run.tag or HELD))
        return apply_spans(text, sorted(spans, key=lambda s: s.start))


def redact_stream(events: list[ev.Event]) -> list[ev.Event]:
    """A finished stream redacted across the call, as the store does it while the call runs
    (for exports of sessions stored before this redaction, or by a store that missed it)."""
    redactor = CallRedactor()
    out: list[ev.Event] = []
    for i, event in enumerate(events):
        out.append(redactor.add(i, event))
        for seq, updated in redactor.take_updates().items():
            out[seq] = updated
    redactor.close()
    for seq, updated in redactor.take_updates().items():
        out[seq] = updated
    return out



__all__ = ["CallRedactor", "redact_stream"]


def _redacted_partial(event: ev.Partial) -> ev.Partial:
    red = redact_event(event)
    assert isinstance(red, ev.Partial)  # redaction keeps an event's type
    return red
