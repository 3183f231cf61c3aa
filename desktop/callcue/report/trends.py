"""Across calls: trends per agent and per week, and the complaint topics that recur.

Topics are deliberately simple and auditable: the content words and word pairs of frustrated
customer utterances, stopwords removed (a small built-in list: NLTK's needs a download), counted
by how many calls they occur in.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from callcue.engine import events as ev
from callcue.report.data import summary_rules
from callcue.store import StoredSession, redact

METRICS = (
    ("talk_ratio", "Agent talk share", "{:.0%}"),
    ("interruptions", "Talk-over per call", "{:.1f}"),
    ("peak", "Peak frustration", "{:.2f}"),
    ("silences", "Silences per call", "{:.1f}"),
)


@dataclass
class TrendRow:
    agent: str
    week: date  # the Monday the week starts
    calls: int = 0
    talk_ratio: float | None = None
    interruptions: float | None = None
    peak: float | None = None
    silences: float | None = None

    def value(self, metric: str) -> float | None:
        return getattr(self, metric)


def week_of(session: StoredSession) -> date:
    day = session.started().date()
    return day - timedelta(days=day.weekday())


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def weekly_trends(sessions: Iterable[StoredSession]) -> list[TrendRow]:
    """One row per agent and week (Monday), averaged over that week's calls; oldest week first."""
    groups: dict[tuple[str, date], list[StoredSession]] = defaultdict(list)
    for s in sessions:
        groups[(s.agent or "(unknown)", week_of(s))].append(s)
    rows: list[TrendRow] = []
    for (agent, week), calls in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        summaries = [c.summary or {} for c in calls]
        ratio = [x["talk_ratio"] for x in summaries if isinstance(x.get("talk_ratio"), (int, float))]
        inter = [float(x.get("interruptions", 0)) for x in summaries if x]
        sil = [float(x.get("silences", 0)) for x in summaries if x]
        peaks = [c.peak_frustration for c in calls if c.peak_frustration is not None]
        rows.append(TrendRow(agent, week, len(calls), _mean(ratio), _mean(inter), _mean(peaks), _mean(sil)))
    return rows


# A compact English stopword list (function words, fillers, support-call boilerplate).
STOPWORDS = frozenset("""
a about above after again against all am an and any are aren't as at be because been before being below
between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each
few for from further had hadn't has hasn't have haven't having he he'd he'll he's her here here's hers herself
him himself his how how's i i'd i'll i'm i've if in into is isn't it it's its itself let's me more most mustn't
my myself no nor not of off on once only or other ought our ours ourselves out over own same shan't she she'd
she'll she's should shouldn't so some such than that that's the their theirs them themselves then there
there's these they they'd they'll they're they've this those through to too under until up very was wasn't we
we'd we'll we're we've were weren't what what's when when's where where's which while who who's whom why why's
with won't would wouldn't you you'd you'll you're you've your yours yourself yourselves
yes yeah no okay ok oh uh um hmm hello hi hey well just really actually now still already also even get got
going go gonna want wanted need needs say said tell told know think thing things something anything nothing
one two three four five six seven eight nine ten time times day days week weeks like right please thank thanks
sorry look listen mean way back again call called calling someone anyone will shall may might must lot
""".split())

_WORD = re.compile(r"[a-z][a-z'-]*")
_TAG = re.compile(r"\[(card|ssn|phone|email|account)\]")


def _content(word: str) -> bool:
    return len(word) > 2 and word not in STOPWORDS


def content_words(text: str) -> list[str]:
    """The words of a line that carry its topic: lower case, no stopwords, no redaction tags."""
    clean = _TAG.sub(" ", redact(text).lower())
    return [w for w in (m.strip("'-") for m in _WORD.findall(clean)) if _content(w)]


def content_pairs(text: str) -> list[str]:
    """Two content words said one after the other, within a sentence ("late fee", "passed around")."""
    pairs: list[str] = []
    for part in re.split(r"[.!?;:,]+", _TAG.sub(" . ", redact(text).lower())):
        words = [m.strip("'-") for m in _WORD.findall(part)]
        pairs += [f"{a} {b}" for a, b in zip(words, words[1:], strict=False) if _content(a) and _content(b)]
    return pairs


@dataclass
class Topic:
    term: str  # a word or a two-word phrase
    calls: int  # in how many calls it came up
    mentions: int
    sessions: list[str] = field(default_factory=list)
    example: str = ""


def complaint_topics(sessions: Iterable[StoredSession], min_level: float | None = None, min_calls: int = 2,
                     limit: int = 15) -> list[Topic]:
    """Words and word pairs that frustrated customers said in at least `min_calls` calls.

    `sessions` must be loaded with their events. A pair that is as frequent as its words
    replaces them ("late fee" rather than "late" and "fee"). `min_level`: what counts as
    frustrated (default: the playbook's high frustration)."""
    if min_level is None:
        min_level = summary_rules().high_frustration
    calls_of: dict[str, set[str]] = defaultdict(set)
    mentions: Counter[str] = Counter()
    example: dict[str, str] = {}
    for s in sessions:
        for e in s.events:
            if not (isinstance(e, ev.Utterance) and e.who in ("customer", "mixed") and e.text):
                continue
            if e.frustration is None or e.frustration < min_level:
                continue
            terms = content_words(e.text) + content_pairs(e.text)
            for term in terms:
                calls_of[term].add(s.id)
                mentions[term] += 1
                example.setdefault(term, redact(e.text))
    ranked = [t for t in calls_of if len(calls_of[t]) >= min_calls]
    pairs = [t for t in ranked if " " in t]
    covered = {w for p in pairs for w in p.split() if len(calls_of[p]) >= len(calls_of[w])}
    topics = [Topic(t, len(calls_of[t]), mentions[t], sorted(calls_of[t]), example[t])
              for t in ranked if t not in covered]
    topics.sort(key=lambda t: (-t.calls, -t.mentions, t.term))
    return topics[:limit]
