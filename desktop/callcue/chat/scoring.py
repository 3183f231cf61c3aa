"""The customer's frustration in a chat: written signals, message by message, with the chat's context.

A call is heard; a chat is read, and customers write differently from how they
speak: they report what failed and what they already tried, they press for an
answer, they switch to capitals. So the chat scorer adds those signals to the
engine's own text signals (VADER and the phrase lists of language.py), and reads
each message in its context: the messages of the same burst (sent with no reply
between them) and the chat before. The call engine's scoring is left untouched.

The weights live in the playbook ([chat.frustration]); they were tuned on the
train and validation splits of MAIA-DQE only (bench/bench_chat.py --tune), and
nothing else is derived from that data: every phrase list is hand-written.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from callcue.engine.frustration import distinct
from callcue.engine.language import (
    NEGATORS,
    Hit,
    Phrase,
    TextAnalyzer,
    TextSignals,
    load_phrases,
    match_phrase,
)

CHAT_KINDS = ("chat_effort", "chat_pressure", "chat_escalation", "chat_failure", "chat_billing",
              "reply_cold", "reply_blame", "reply_contempt")
# Placeholders of redacted or masked text ("#NAME#", "[email]") are not words the customer wrote.
PLACEHOLDER = re.compile(r"#[A-Z_]+#|\[(?:card|ssn|phone|email|account|name|redacted)\]", re.I)
# Capitals that are names of things, not shouting.
ACRONYMS = frozenset({"OK", "ID", "PC", "TV", "PDF", "USB", "GPS", "SMS", "PIN", "FAQ", "URL", "VAT", "IBAN",
                      "EU", "UK", "US", "USA", "IT", "CD", "DVD", "HD", "SD", "AM", "PM", "WIFI", "APP", "IOS",
                      "MB", "GB", "KB", "CEO", "VIP", "ATM", "NFC", "QR", "HTML", "EPUB", "DNS", "VPN", "IP"})
NEGATION_WORDS = NEGATORS | {"none", "neither", "nor", "nobody"}
_NOT_A_COMPLAINT = frozenset({"problem", "problems", "worries", "worry", "thanks", "doubt", "rush", "hurry"})
APOLOGY = re.compile(r"\b(sorry|apologi[sz]e|apologies)\b", re.I)
THANKS = re.compile(r"\b(thank|thanks|thx|ty|great|perfect|awesome|excellent|wonderful|ok|okay|cheers|"
                    r"appreciate)\b", re.I)


class PhraseLists:
    """Phrase lists of the chat (same syntax as resources/lexicons/README.md), matched on tokens."""

    def __init__(self, folder: Path, kinds: tuple[str, ...] = CHAT_KINDS):
        self.phrases: dict[str, list[Phrase]] = {k: load_phrases(folder / f"{k}.txt") for k in kinds}

    def find(self, tokens: list[str], kinds: tuple[str, ...] | None = None) -> list[Hit]:
        hits: list[Hit] = []
        for kind, phrases in self.phrases.items():
            if kinds is not None and kind not in kinds:
                continue
            for i in range(len(tokens)):
                best: Hit | None = None  # the longest phrase that starts here
                for ph in phrases:
                    end = match_phrase(ph, tokens, i)
                    if end is None or (best is not None and end <= best.end):
                        continue
                    first = ph.tokens[0]
                    negated = first is not None and not (first & NEGATORS) and any(
                        t in NEGATORS for t in tokens[max(0, i - 2):i])
                    if negated and kind in ("chat_pressure", "reply_cold", "reply_blame", "reply_contempt"):
                        continue  # "not urgent", "no need to hurry", "not your fault", "not a stupid question"
                    best = Hit(kind=kind, phrase=ph.text, start=i, end=end)
                if best is not None:
                    hits.append(best)
        return hits


@lru_cache(maxsize=4)
def chat_phrases(folder: str | None = None) -> PhraseLists:
    from callcue.paths import resources_dir

    return PhraseLists(Path(folder) if folder else resources_dir() / "lexicons")


def clean(text: str) -> str:
    return PLACEHOLDER.sub(" ", text)


# What the customer quotes (an error message, a title) or a code spelled with underscores
# ("E_LIC_ALREADY_FULFILLED") is in capitals because the screen wrote it so, not the customer.
# A quote left open runs to the end of the message.
QUOTED = re.compile(r'"[^"]*(?:"|$)|\u201c[^\u201d]*(?:\u201d|$)|\u00ab[^\u00bb]*(?:\u00bb|$)|\w+(?:\s*_\s*\w+)+')


def caps_words(text: str) -> list[str]:
    """Words in capitals that read as shouting (not acronyms, not single letters, not quoted)."""
    # whole words only: "LS1 4AB" and "AB12CD" are codes, not shouting
    own = QUOTED.sub(" ", text)
    return [w for w in re.findall(r"\b[^\W\d_]{2,}\b", own) if w.isupper() and w not in ACRONYMS]


def negations(tokens: list[str]) -> int:
    """Negations that say something is wrong: not the bare answer "No." nor "no problem"."""
    n = 0
    for i, tok in enumerate(tokens):
        if tok not in NEGATION_WORDS:
            continue
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if tok == "no" and (i == 0 or tokens[i - 1] in "?!") and (nxt == "" or nxt in "?!"):
            continue
        if tok == "no" and i == 0 and nxt in ("thanks", "thank"):
            continue
        if nxt in _NOT_A_COMPLAINT:
            continue
        n += 1
    return n


@dataclass
class MessageFeatures:
    """What one message says, before any context."""

    words: int
    sentiment: float  # VADER compound, -1..1
    frustration: list[str] = field(default_factory=list)  # phrases of frustration.txt
    escalation: list[str] = field(default_factory=list)  # escalation.txt and chat_escalation.txt
    repeat_contact: list[str] = field(default_factory=list)
    sarcasm: list[str] = field(default_factory=list)
    negotiation: list[str] = field(default_factory=list)
    effort: list[str] = field(default_factory=list)
    pressure: list[str] = field(default_factory=list)
    failure: list[str] = field(default_factory=list)  # reports of a fault (chat_failure.txt)
    billing: list[str] = field(default_factory=list)  # a dispute about money (chat_billing.txt)
    negations: int = 0
    capitals: list[str] = field(default_factory=list)
    exclamations: int = 0
    marks_burst: bool = False  # "??", "?!", "!!!"
    question: bool = False
    thanks: bool = False
    yes_no: bool = False  # starts with "yes" or "no": an answer, when the agent has just asked

    def reasons(self) -> list[str]:
        why: list[str] = []
        said = self.frustration + self.pressure + self.effort + self.billing
        if said:
            why.append("said: " + ", ".join(f'"{p}"' for p in said[:3]))
        if self.escalation:
            why.append("asked to escalate")
        if self.repeat_contact:
            why.append("repeat contact")
        if self.sarcasm:
            why.append("sarcasm")
        if len(self.capitals) >= 2 or self.marks_burst:
            why.append("capitals or exclamations")
        if self.failure:
            why.append("reports a fault")
        if self.negations and not said:
            why.append("something is not right (negations)")
        if self.sentiment <= -0.3:
            why.append(f"negative words ({self.sentiment:+.2f})")
        return why


def _said(tokens: list[str], hits: list[Hit]) -> list[str]:
    return list(dict.fromkeys(" ".join(tokens[h.start:h.end]) for h in distinct(hits)))


def message_features(text: str, analyzer: TextAnalyzer, phrases: PhraseLists) -> tuple[MessageFeatures, TextSignals]:
    plain = clean(text)
    sig = analyzer.analyze(plain)
    toks = sig.tokens
    extra = phrases.find(toks, ("chat_effort", "chat_pressure", "chat_escalation", "chat_failure",
                                 "chat_billing"))
    words = [t for t in toks if t not in "?!"]
    failure = [h for h in extra if h.kind == "chat_failure"]
    # A fault reported is weighed as a fault, not also as the call's "frustration" phrase.
    felt = [h for h in sig.kinds("frustration")
            if not any(f.start <= h.start and h.end <= f.end for f in failure)]
    feats = MessageFeatures(
        words=len(words),
        sentiment=sig.sentiment,
        frustration=_said(toks, felt),
        escalation=_said(toks, sig.kinds("escalation") + [h for h in extra if h.kind == "chat_escalation"]),
        repeat_contact=_said(toks, sig.kinds("repeat_contact")),
        sarcasm=_said(toks, sig.kinds("sarcasm")),
        negotiation=_said(toks, sig.kinds("negotiation")),
        effort=_said(toks, [h for h in extra if h.kind == "chat_effort"]),
        pressure=_said(toks, [h for h in extra if h.kind == "chat_pressure"]),
        failure=_said(toks, failure),
        billing=_said(toks, [h for h in extra if h.kind == "chat_billing"]),
        negations=negations(toks),
        capitals=caps_words(plain),
        exclamations=plain.count("!"),
        marks_burst=bool(re.search(r"\?\?|\?!|!\?|!!!", plain)),
        question="?" in plain,
        thanks=bool(THANKS.search(plain)),
        yes_no=bool(words) and words[0] in ("yes", "no", "yeah", "yep", "nope"),
    )
    return feats, sig


def apologised(text: str, sig: TextSignals) -> bool:
    """Did the agent's message apologise or acknowledge the customer's feelings?"""
    return sig.has("empathy") or bool(APOLOGY.search(text))


def evidence(f: MessageFeatures, w: dict[str, Any]) -> float:
    """How strongly one message, alone, says "frustrated" (a weighted sum, about -0.5..2)."""
    return (w["sentiment"] * max(0.0, -f.sentiment)
            + w.get("very_negative", 0.0) * (f.sentiment <= -0.5)  # VADER's strongly negative words
            + w["phrases"] * min(len(f.frustration), 2)
            + w["escalation"] * bool(f.escalation)
            + w["repeat_contact"] * bool(f.repeat_contact)
            + w["sarcasm"] * bool(f.sarcasm)
            + w["effort"] * min(len(f.effort), 2)
            + w["pressure"] * min(len(f.pressure), 2)
            + w.get("failure", 0.0) * min(len(f.failure), 2)
            + w.get("billing", 0.0) * bool(f.billing)
            + w.get("negotiation", 0.0) * bool(f.negotiation)
            + w["negation"] * min(f.negations, 2)
            + w["capitals"] * min(len(f.capitals), 4) / 4
            + w["marks"] * f.marks_burst
            + w["question"] * f.question
            + w["thanks"] * (f.thanks and not f.sarcasm)  # "thanks for nothing" is no thanks
            + w["short"] * (f.words <= 3)
            + w["positive"] * max(0.0, f.sentiment))


@dataclass
class ChatFrustration:
    """Frustration message by message, with the context of the burst and of the chat before it."""

    weights: dict[str, Any]
    burst: float = 0.0  # the strongest evidence in the customer's current burst of messages
    earlier: float = 0.0  # what the chat before this burst said
    apology: bool = False  # the agent's last reply apologised or acknowledged
    asked: bool = False  # the agent's last reply asked a question
    _customer_last: bool = False

    def agent(self, apologised: bool, asked: bool = False) -> None:
        if self._customer_last:
            self.earlier = max(self.earlier * self.weights["earlier_decay"], self.burst)
            self.burst = 0.0
            self.apology = False
            self.asked = False
        self.apology = self.apology or apologised
        self.asked = self.asked or asked
        self._customer_last = False

    def customer(self, feats: MessageFeatures) -> tuple[float, float]:
        """(score, frustration 0..1) of a customer message, and the state moves on."""
        w = self.weights
        ev = evidence(feats, w)
        # "No, I don't." after "Have you tried ...?" answers a question; its "no" is not a complaint.
        ev += w.get("answer", 0.0) * (feats.yes_no and self.asked and not self._customer_last)
        score = ev + w["burst"] * self.burst + w["earlier"] * self.earlier + w["after_apology"] * self.apology
        self.burst = max(self.burst, ev)
        self._customer_last = True
        return score, to_probability(score, w)


def to_probability(score: float, w: dict[str, Any]) -> float:
    """The score on a 0..1 scale where `center` (the tuned "frustrated" line) is 0.5."""
    z = float(w["steepness"]) * (score - float(w["center"]))
    return round(1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z)))), 3)
