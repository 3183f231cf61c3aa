"""The tone check of the agent's draft reply: flags, with warmer wording from the playbook.

It reads the draft and returns what it found. It never sends, stores or changes
anything: the agent decides. It coaches words, never the agent's feelings.

Flags:
  cold                 bureaucratic or overly formal wording ("please be advised", "as per")
  curt                 a bare reply of a few words with nothing warm in it ("No.")
  jargon               technical terms the customer may not know
  no-acknowledgement   the customer is frustrated and the draft does not acknowledge it (needs context)
  long-sentence        a sentence too long to read on a phone
  shouting             words in capitals, or a burst of exclamation marks
  blame                blames the customer ("you should have", "as I already said")
  contempt             dismissive or talks down to the customer ("stupid question", "calm down", "you people")
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from callcue.chat.scoring import PhraseLists, caps_words, chat_phrases
from callcue.engine.frustration import distinct
from callcue.engine.language import TextAnalyzer, tokens_of
from callcue.engine.playbook import Playbook, load_playbook

FLAGS = ("cold", "curt", "jargon", "no-acknowledgement", "long-sentence", "shouting", "blame", "contempt")
WARM = re.compile(r"\b(thanks?|thank you|happy|glad|sure|of course|please|sorry|great|welcome|hi|hello|hey|"
                  r"let me|i'll|i will|i can|i've|you're welcome|no problem|my pleasure|absolutely|done for you)\b",
                  re.I)
ACK = re.compile(r"\b(sorry|apologi[sz]e|apologies|understand|frustrat\w*|i hear you|i see why|"
                 r"that must|that sounds|annoying|inconvenient|i know how|thank you for your patience|"
                 r"thanks for your patience|appreciate your patience)\b", re.I)


@dataclass
class Flag:
    id: str  # one of FLAGS
    message: str  # what the agent should know, in a few words
    found: list[str] = field(default_factory=list)  # the words or sentences that raised it
    suggestion: str = ""  # warmer wording from the playbook's templates


@dataclass
class ReplyCheck:
    draft: str
    flags: list[Flag]
    frustration: float | None = None  # the chat's level the check was made against

    @property
    def ok(self) -> bool:
        return not self.flags

    @property
    def ids(self) -> list[str]:
        return [f.id for f in self.flags]

    def to_dict(self) -> dict[str, Any]:
        return {"draft": self.draft, "ok": self.ok, "flags": [asdict(f) for f in self.flags],
                "frustration": self.frustration}


def sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+|\n+", text.strip())
    return [p.strip() for p in parts if p.strip()]


def _templates(playbook: Playbook) -> list[dict[str, str]]:
    return list(playbook.section("chat")["reply"]["templates"])


def _advice(templates: list[dict[str, str]], flag: str, phrases: list[str]) -> str:
    """The general advice for a flag, plus the specific rewording of each phrase found."""
    specific = []
    for p in phrases:
        for t in templates:
            if t.get("flag") == flag and t.get("phrase") and _same(t["phrase"], p):
                specific.append(f'"{p}" → "{t["say"]}"')
                break
    general = next((t["say"] for t in templates if t.get("flag") == flag and not t.get("phrase")), "")
    return "; ".join(specific + ([general] if general else []))


def _same(a: str, b: str) -> bool:
    return tokens_of(a) == tokens_of(b)


def check_reply(draft: str, playbook: Playbook | None = None, frustration: float | None = None,
                last_customer: float | None = None, analyzer: TextAnalyzer | None = None,
                phrases: PhraseLists | None = None) -> ReplyCheck:
    """Flags for a draft reply. `frustration` is the chat's current level (None: no context)."""
    pb = playbook or load_playbook()
    conf = pb.section("chat")["reply"]
    templates = _templates(pb)
    if analyzer is None:
        from callcue.chat.engine import shared_analyzer

        analyzer = shared_analyzer()
    phrases = phrases or chat_phrases()
    sig = analyzer.analyze(draft)
    toks = sig.tokens
    hits = phrases.find(toks, ("reply_cold", "reply_blame", "reply_contempt"))
    words = [t for t in toks if t not in "?!"]
    flags: list[Flag] = []

    def said(kind: str) -> list[str]:
        return list(dict.fromkeys(" ".join(toks[h.start:h.end]) for h in distinct([h for h in hits
                                                                                  if h.kind == kind])))

    cold = said("reply_cold")
    if cold:
        flags.append(Flag("cold", "Sounds cold or overly formal", cold, _advice(templates, "cold", cold)))
    elif 0 < len(words) <= conf["curt_words"] and not WARM.search(draft):
        flags.append(Flag("curt", "A bare reply reads as curt", [draft.strip()], _advice(templates, "curt", [])))

    jargon = sorted({" ".join(toks[h.start:h.end]) for h in sig.kinds("jargon")})
    if len(jargon) >= conf["jargon_terms"]:
        flags.append(Flag("jargon", "Technical terms the customer may not know", jargon,
                          _advice(templates, "jargon", jargon)))

    # the chat's level, or their last message's if higher, decides; only the chat's level is ever printed
    context = [x for x in (frustration, last_customer) if x is not None]
    level = max(context) if context else None
    if level is not None and level >= conf["acknowledge_level"] and not (sig.has("empathy") or ACK.search(draft)):
        flags.append(Flag("no-acknowledgement", "The customer is frustrated and the reply does not acknowledge it",
                          [], _advice(templates, "no-acknowledgement", [])))

    long = [s for s in sentences(draft) if len(re.findall(r"[\w'-]+", s)) > conf["max_sentence_words"]]
    if long:
        flags.append(Flag("long-sentence", f"Sentences over {conf['max_sentence_words']} words are hard to read "
                          "on a phone", long, _advice(templates, "long-sentence", [])))

    caps = caps_words(draft)
    bangs = re.findall(r"!{2,}|\?!|!\?", draft)
    if len(caps) >= conf["capitals"] or bangs or draft.count("!") >= 3:
        found = caps[:5] + bangs[:2]
        flags.append(Flag("shouting", "Reads as shouting", found or ["!"], _advice(templates, "shouting", [])))

    blame = said("reply_blame")
    if blame:
        flags.append(Flag("blame", "Blames or talks down to the customer", blame,
                          _advice(templates, "blame", blame)))

    contempt = said("reply_contempt")
    if contempt:
        flags.append(Flag("contempt", "Sounds dismissive or talks down to the customer", contempt,
                          _advice(templates, "contempt", contempt)))

    return ReplyCheck(draft=draft, flags=flags, frustration=None if frustration is None else round(frustration, 3))
