"""Words: NLTK tokens, VADER sentiment and the phrase lists of resources/lexicons/."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from callcue.errors import CallcueError

KINDS = ("frustration", "escalation", "repeat_contact", "empathy", "hold", "hold_long", "jargon",
         "idioms", "commitment", "negotiation", "sarcasm", "backchannel")
NEGATORS = frozenset({"not", "no", "never", "nothing", "without", "hardly"})

_CONTRACTIONS = [
    (re.compile(r"\bwon'?t\b"), "will not"),
    (re.compile(r"\bcan'?t\b"), "can not"),
    (re.compile(r"\bcannot\b"), "can not"),
    (re.compile(r"\bain'?t\b"), "is not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"\bi'm\b"), "i am"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"'d\b"), " would"),
    (re.compile(r"\b(it|that|what|there|here|he|she)'s\b"), r"\1 is"),
]
_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*|[?!]")


@dataclass(frozen=True)
class Phrase:
    text: str
    tokens: tuple[frozenset[str] | None, ...]  # None is "*"; "~" is expanded at match time
    gaps: tuple[bool, ...]  # gaps[i]: up to 3 free words may come before tokens[i]


@dataclass
class Hit:
    kind: str
    phrase: str
    start: int  # token index
    end: int


@dataclass
class TextSignals:
    tokens: list[str]
    sentiment: float  # VADER compound, -1..1
    hits: list[Hit] = field(default_factory=list)
    caps_words: int = 0
    exclamations: int = 0
    questions: int = 0

    def kinds(self, kind: str) -> list[Hit]:
        return [h for h in self.hits if h.kind == kind]

    def has(self, kind: str) -> bool:
        return any(h.kind == kind for h in self.hits)


def normalise(text: str) -> str:
    s = text.lower().replace("\u2019", "'")
    for pattern, repl in _CONTRACTIONS:
        s = pattern.sub(repl, s)
    return s


def tokens_of(text: str) -> list[str]:
    """Lower-case word tokens, with ? and ! kept: they carry tone."""
    from nltk.tokenize import TweetTokenizer

    raw = _tokenizer(TweetTokenizer).tokenize(normalise(text))
    out: list[str] = []
    for tok in raw:
        out.extend(_WORD.findall(tok))
    return out


def syllables(tokens: list[str]) -> int:
    """Syllables of the words (NLTK's sonority-based splitter, which needs no data download)."""
    from nltk.tokenize import SyllableTokenizer

    st = _tokenizer(SyllableTokenizer)
    return sum(len(st.tokenize(t)) for t in tokens if t not in "?!" and not t.isdigit()) + sum(
        2 * len(t) for t in tokens if t.isdigit())


@lru_cache(maxsize=2)
def _tokenizer(cls):  # type: ignore[no-untyped-def]
    if cls.__name__ == "TweetTokenizer":
        return cls(preserve_case=False, reduce_len=True)
    return cls()


def _parse_phrase(line: str, path: Path, n: int) -> Phrase:
    toks: list[frozenset[str] | None] = []
    gaps: list[bool] = []
    gap = False
    for part in line.split():
        if part == "~":
            gap = True
            continue
        toks.append(None if part == "*" else frozenset(part.split("|")))
        gaps.append(gap)
        gap = False
    if not toks or gap:
        raise CallcueError(f"{path}:{n}: a phrase cannot be empty or end with '~'")
    return Phrase(text=line, tokens=tuple(toks), gaps=tuple(gaps))


def load_phrases(path: Path) -> list[Phrase]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise CallcueError(f"{path}: phrase list missing; reinstall Callcue or restore the file") from None
    except UnicodeDecodeError:
        raise CallcueError(f"{path}: not UTF-8 text; save the phrase list as UTF-8") from None
    phrases = []
    for n, line in enumerate(lines, 1):
        line = line.split("#", 1)[0].strip().lower()
        parts: list[str] = []
        for part in line.split():
            # "i'll" in a phrase list means "i will", as it does in speech
            parts.extend([part] if part in ("*", "~") or "|" in part else _WORD.findall(normalise(part)))
        if parts:
            phrases.append(_parse_phrase(" ".join(parts), path, n))
    return phrases


def match_phrase(phrase: Phrase, tokens: list[str], i: int) -> int | None:
    """End index of `phrase` matched from tokens[i], or None."""
    pos = i
    for k, (want, gap) in enumerate(zip(phrase.tokens, phrase.gaps, strict=True)):
        tries = range(pos, min(pos + 4, len(tokens))) if gap and k else range(pos, min(pos + 1, len(tokens)))
        for p in tries:
            if want is None or tokens[p] in want:
                pos = p + 1
                break
        else:
            return None
    return pos


class Lexicons:
    """The phrase lists, each matched on token sequences."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.phrases = {kind: load_phrases(folder / f"{kind}.txt") for kind in KINDS}
        # index by first token so a sentence is scanned once per token, not once per phrase
        self._index: dict[str, list[tuple[str, Phrase]]] = {}
        self._wild: list[tuple[str, Phrase]] = []
        for kind, phrases in self.phrases.items():
            for ph in phrases:
                first = ph.tokens[0]
                if first is None:
                    self._wild.append((kind, ph))
                else:
                    for tok in first:
                        self._index.setdefault(tok, []).append((kind, ph))

    def find(self, tokens: list[str]) -> list[Hit]:
        hits: list[Hit] = []
        seen: set[tuple[str, int]] = set()
        for i, tok in enumerate(tokens):
            for kind, ph in self._index.get(tok, []) + self._wild:
                end = match_phrase(ph, tokens, i)
                if end is None or (kind, i) in seen:
                    continue
                negated = ph.tokens[0] is not None and not (ph.tokens[0] & NEGATORS) and any(
                    t in NEGATORS for t in tokens[max(0, i - 2):i])
                if negated and kind in ("frustration", "empathy", "sarcasm"):
                    continue
                seen.add((kind, i))
                hits.append(Hit(kind=kind, phrase=ph.text, start=i, end=end))
        return hits


class Vader:
    """NLTK's VADER with the lexicon that the vaderSentiment package ships (no nltk_data needed)."""

    def __init__(self) -> None:
        import nltk
        import vaderSentiment
        from nltk.sentiment.vader import SentimentIntensityAnalyzer

        folder = Path(vaderSentiment.__file__).parent
        lexicon = folder / "vader_lexicon.txt"
        if str(folder) not in nltk.data.path:
            nltk.data.path.append(str(folder))
        self._sia = SentimentIntensityAnalyzer(lexicon_file="file:" + str(lexicon))

    def compound(self, text: str) -> float:
        return float(self._sia.polarity_scores(text)["compound"])


class TextAnalyzer:
    def __init__(self, lexicons: Lexicons, vader: Vader | None = None):
        self.lexicons = lexicons
        self.vader = vader or Vader()

    def analyze(self, text: str) -> TextSignals:
        tokens = tokens_of(text)
        raw_words = re.findall(r"[A-Za-z]{2,}", text)
        caps = sum(1 for w in raw_words if w.isupper() and len(w) >= 3 and w not in ("OK",))
        # An all-caps transcript (some recognisers write that way) is not shouting.
        if raw_words and caps > 0.8 * len(raw_words) and len(raw_words) > 6:
            caps = 0
        return TextSignals(
            tokens=tokens,
            sentiment=self.vader.compound(text) if text.strip() else 0.0,
            hits=self.lexicons.find(tokens),
            caps_words=caps,
            exclamations=text.count("!"),
            questions=text.count("?"),
        )


@lru_cache(maxsize=4)
def default_lexicons(folder: str | None = None) -> Lexicons:
    from callcue.paths import resources_dir

    return Lexicons(Path(folder) if folder else resources_dir() / "lexicons")
