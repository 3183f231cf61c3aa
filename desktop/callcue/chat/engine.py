"""The chat engine: messages in, the event stream of docs/events.md out, on the chat's own clock.

A ChatSession is the chat's counterpart of the call engine: a plain object, no
threads, no wall clock. Each message carries its time (seconds from the chat's
start, from the chat's own timestamps); `tick(t)` moves the clock on between
messages, so a replayed chat gives exactly the events the live chat gave. It
shares the call engine's parts: TextAnalyzer (words), FrustrationLevel (the
smoothed level), CueBoard (one cue at a time, cooldowns, caps) and the playbook.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from callcue.chat.readers import SPEAKERS, ChatMessage, fill_times
from callcue.chat.scoring import (
    ChatFrustration,
    MessageFeatures,
    PhraseLists,
    apologised,
    chat_phrases,
    message_features,
)
from callcue.engine.cues import CueBoard
from callcue.engine.events import CallStart, Cue, Event, Frustration, Summary, Utterance
from callcue.engine.frustration import FrustrationLevel
from callcue.engine.language import TextAnalyzer, TextSignals, default_lexicons
from callcue.engine.playbook import Playbook, load_playbook
from callcue.engine.summary import Commitment, commitment_due, cue_outcomes
from callcue.errors import CallcueError

# Words that do not tell one question from another ("when will my refund arrive" vs "... my parcel ...").
_STOP = frozenset("a an the to of and or is are was were be been it this that in on at for with do does did "
                  "can could would will i me my you your we our they them please not no any so just".split())


@lru_cache(maxsize=1)
def shared_analyzer() -> TextAnalyzer:
    """One VADER and one set of phrase lists for every chat in this process."""
    return TextAnalyzer(default_lexicons())


def chat_playbook(playbook: Playbook) -> Playbook:
    """The playbook as the cue board of a chat reads it: the [chat] budget instead of the call's."""
    data = copy.deepcopy(playbook.data)
    chat = data["chat"]
    data["playbook"] = {**data["playbook"], "show_s": chat["show_s"], "wait_s": chat["wait_s"],
                        "max_cues_per_call": chat["max_cues_per_chat"]}
    return Playbook(path=playbook.path, profile=playbook.profile, data=data)


def content_words(tokens: list[str]) -> set[str]:
    return {t for t in tokens if t not in _STOP and t not in "?!" and len(t) > 2}


@dataclass
class _Question:
    at: float
    text: str
    words: set[str]


@dataclass
class ChatSession:
    """One chat. Feed it messages in time order; it returns the events each one produced.

    `t` is seconds on the chat's own clock (its timestamps), from its first message.
    """

    chat_id: str = "chat"
    playbook: Playbook | None = None
    analyzer: TextAnalyzer | None = None
    phrases: PhraseLists | None = None
    transcript: str | None = None  # "file" when read from a transcript file, None when live
    events: list[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.playbook = self.playbook or load_playbook()
        self.chat = self.playbook.section("chat")
        self.analyzer = self.analyzer or shared_analyzer()
        self.phrases = self.phrases or chat_phrases()
        self.board = CueBoard(chat_playbook(self.playbook))
        fr = self.playbook.section("frustration")
        self.level = FrustrationLevel(alpha=fr["alpha"], alpha_down=fr["alpha_down"], trend_step=fr["trend_step"])
        self.scorer = ChatFrustration(dict(self.chat["frustration"]))
        self.now = 0.0
        self.timed = True  # False for a transcript with no times: waiting cannot be measured
        self.utterances: list[Utterance] = []
        self.commitments: list[Commitment] = []
        self.empathy_at: list[float] = []
        self.waiting_since: float | None = None  # the customer's first message with no reply yet
        self.hold_announced = False  # the agent's last message was "let me check" or "one moment"
        self._wait_cued = False
        self.waits: list[tuple[float, float]] = []  # each answered wait: how long, and the limit then
        self.questions: list[_Question] = []
        self.streak = 0
        self._frustrated_since: float | None = None
        self._started = False
        self._finished = False

    # ---- the clock ---------------------------------------------------------------------------

    def start(self, note: str | None = None, duration_s: float | None = None) -> list[Event]:
        return self._emit(self._start(note, duration_s))

    def _start(self, note: str | None = None, duration_s: float | None = None) -> list[Event]:
        if self._started:
            return []
        self._started = True
        return [CallStart(duration_s=duration_s, channels=list(SPEAKERS), model=None, transcript=self.transcript,
                          words=True, note=note or "chat")]

    def _emit(self, events: list[Event]) -> list[Event]:
        self.events.extend(events)
        return events

    def _due(self) -> list[float]:
        """Times at which something happens with no new message: a cue leaves the screen, a wait runs out."""
        due = []
        if self.waiting_since is not None and not self._wait_cued and self.timed:
            due.append(self.waiting_since + self._wait_limit())
        if self.board.active is not None and self.board.active.until is not None:
            due.append(self.board.active.until)
        return due

    def tick(self, t: float) -> list[Event]:
        """Move the chat's clock on to `t` and return what happened on the way (in time order)."""
        return self._emit(self._start() + self._tick(t))

    def _tick(self, t: float) -> list[Event]:
        out: list[Event] = []
        t = max(t, self.now)
        # Each pass settles one due item (a wait is checked once; a shown cue is retired), so this ends.
        while pending := [d for d in self._due() if d <= t]:
            self.now = max(self.now, min(pending))
            out += self._check_wait(self.now) + self.board.tick(self.now)
        self.now = t
        return out + self.board.tick(t)

    def _wait_limit(self) -> float:
        """How long the customer may wait: longer after the agent said "let me check"."""
        spec = self.playbook.cue("reply-waiting")
        return float(spec["after_hold_s"] if self.hold_announced else spec["after_s"])

    def _check_wait(self, now: float) -> list[Event]:
        if self.waiting_since is None or self._wait_cued:
            return []
        waited = now - self.waiting_since
        if waited < self._wait_limit():
            return []
        self._wait_cued = True
        held = ' after "let me check"' if self.hold_announced else ""
        return self.board.offer("reply-waiting", now, f"No reply for {_duration(waited)}{held} since their "
                                f"message at {_clock(self.waiting_since)}.",
                                {"since": round(self.waiting_since, 3), "waited_s": round(waited, 3),
                                 "hold": self.hold_announced})

    # ---- messages ----------------------------------------------------------------------------

    def add(self, who: str, text: str, t: float | None = None) -> list[Event]:
        """One message. Without `t` it happens at the chat's current time."""
        if who not in SPEAKERS:
            raise CallcueError(f"unknown speaker {who!r}; a message is from \"agent\" or \"customer\"")
        if self._finished:
            raise CallcueError(f"chat {self.chat_id!r} has ended; start a new one")
        t = self.now if t is None else max(float(t), self.now)  # a late message cannot go back in time
        out = self._start() + self._tick(t)
        if text.strip():
            out += self._customer(text, t) if who == "customer" else self._agent(text, t)
            out += self.board.tick(t)
        return self._emit(out)

    def add_messages(self, messages: Iterable[ChatMessage]) -> list[Event]:
        msgs = list(messages)
        times, timed = fill_times(msgs, float(self.chat["untimed_gap_s"]))
        self.timed = self.timed and timed
        out: list[Event] = []
        for m, t in zip(msgs, times, strict=True):
            out += self.add(m.who, m.text, t)
        return out

    def _customer(self, text: str, t: float) -> list[Event]:
        feats, sig = message_features(text, self.analyzer, self.phrases)
        _score, frustration = self.scorer.customer(feats)
        utt = Utterance(who="customer", start=round(t, 3), end=round(t, 3), text=text, words=[],
                        sentiment=round(sig.sentiment, 3), frustration=frustration, signals=feats.reasons())
        self.utterances.append(utt)
        if self.waiting_since is None:
            self.waiting_since = t
            self._wait_cued = False
        level, trend = self.level.update(t, frustration)
        out: list[Event] = [utt, Frustration(at=round(t, 3), level=level, trend=trend)]
        return out + self._customer_cues(utt, feats, sig, level, t)

    def _agent(self, text: str, t: float) -> list[Event]:
        sig = self.analyzer.analyze(text)
        sorry = apologised(text, sig)
        self.scorer.agent(sorry, asked="?" in text)
        if sorry:
            self.empathy_at.append(t)
        # A cue still waiting for the screen is stale once the agent has done what it asks.
        done = {"reply-waiting"} | ({"acknowledge-frustration", "negative-streak", "customer-shouting"}
                                    if sorry else set())
        self.board.withdraw(done)
        if self.waiting_since is not None:
            self.waits.append((t - self.waiting_since, self._wait_limit()))
        self.waiting_since = None
        self.hold_announced = sig.has("hold") or sig.has("hold_long")
        kinds = ("empathy", "hold", "hold_long", "jargon", "idioms", "commitment")
        utt = Utterance(who="agent", start=round(t, 3), end=round(t, 3), text=text, words=[],
                        sentiment=round(sig.sentiment, 3), frustration=None,
                        signals=[f"{h.kind}: {h.phrase}" for h in sig.hits if h.kind in kinds])
        self.utterances.append(utt)
        return [utt] + self._agent_cues(utt, sig, t)

    # ---- cue rules ---------------------------------------------------------------------------

    def _customer_cues(self, utt: Utterance, feats: MessageFeatures, sig: TextSignals, level: float,
                       t: float) -> list[Event]:
        out: list[Event] = []
        quote = {"utterance": utt.text, "at": utt.start}
        for phrases, cue_id in ((feats.escalation, "escalation-request"), (feats.repeat_contact, "repeat-contact"),
                                (feats.negotiation, "negotiate")):
            if phrases:
                said = ", ".join(phrases[:3])
                out += self.board.offer(cue_id, t, f'They wrote "{said}".', {**quote, "phrases": said})

        shout = self.playbook.cue("customer-shouting")
        if len(feats.capitals) >= shout["capitals"] or feats.exclamations >= shout["exclamations"] or \
                (feats.marks_burst and len(feats.capitals) >= 1):
            what = []
            if feats.capitals:
                what.append(f"{len(feats.capitals)} word(s) in capitals")
            if feats.exclamations:
                what.append(f"{feats.exclamations} exclamation mark(s)")
            out += self.board.offer("customer-shouting", t, "They wrote " + " and ".join(what) + ".",
                                    {**quote, "capitals": feats.capitals[:5], "exclamations": feats.exclamations})

        out += self._repeated_question(utt, sig, t)

        frustrated = (utt.frustration or 0.0) >= 0.5
        self.streak = self.streak + 1 if frustrated else 0
        streak = self.playbook.cue("negative-streak")
        if self.streak >= streak["messages"]:
            out += self.board.offer("negative-streak", t, f"{self.streak} upset messages in a row.",
                                    {**quote, "messages": self.streak})

        spec = self.playbook.cue("acknowledge-frustration")
        high = level >= spec["level"] or (utt.frustration or 0.0) >= spec["utterance"]
        if not high:
            self._frustrated_since = None
            return out
        if self._frustrated_since is None:
            self._frustrated_since = t
        window = float(self.chat["ack_window_s"])
        acked = any(a >= self._frustrated_since and t - a <= window for a in self.empathy_at)
        if not acked:
            reasons = "; ".join(utt.signals) or "their words"
            out += self.board.offer("acknowledge-frustration", t, f"Frustration {level:.2f} ({reasons}).",
                                    {**quote, "level": level, "score": utt.frustration, "signals": utt.signals})
        return out

    def _repeated_question(self, utt: Utterance, sig: TextSignals, t: float) -> list[Event]:
        if "?" not in utt.text:
            return []
        spec = self.playbook.cue("repeated-question")
        words = content_words(sig.tokens)
        if len(words) < spec["min_words"]:
            return []
        out: list[Event] = []
        for q in self.questions:
            overlap = len(words & q.words) / len(words | q.words)
            if overlap >= spec["similarity"]:
                out = self.board.offer("repeated-question", t, f'They asked this at {_clock(q.at)}: "{q.text}".',
                                       {"utterance": utt.text, "at": utt.start, "first_asked": q.at,
                                        "similarity": round(overlap, 3)})
                break
        self.questions.append(_Question(t, utt.text, words))
        return out

    def _agent_cues(self, utt: Utterance, sig: TextSignals, t: float) -> list[Event]:
        out: list[Event] = []
        quote = {"utterance": utt.text, "at": utt.start}
        promises = [h for h in sig.kinds("commitment")]
        if promises:
            clause = utt.text.strip()
            self.commitments.append(Commitment(at=t, text=clause, due=commitment_due(clause)))
            out += self.board.offer("note-commitment", t, f'You promised: "{clause}".',
                                    {**quote, "commitments": [clause]})
        jargon = sorted({" ".join(sig.tokens[h.start:h.end]) for h in sig.kinds("jargon")})
        if len(jargon) >= self.playbook.cue("plain-words")["terms"]:
            out += self.board.offer("plain-words", t, f"You wrote: {', '.join(jargon)}.", {**quote, "terms": jargon})
        idioms = sorted({" ".join(sig.tokens[h.start:h.end]) for h in sig.kinds("idioms")})
        if len(idioms) >= self.playbook.cue("avoid-idioms")["terms"]:
            out += self.board.offer("avoid-idioms", t, f"You wrote: {', '.join(idioms)}.", {**quote, "idioms": idioms})
        return out

    # ---- controls, the reply check, the end ----------------------------------------------------

    def act(self, action: str, t: float | None = None) -> list[Event]:
        out = self._start() + self._tick(self.now if t is None else t)
        return self._emit(out + self.board.act(action, self.now))

    @property
    def frustration(self) -> float | None:
        """The customer's smoothed frustration now (None before they wrote anything)."""
        return None if self.level.level is None else round(self.level.level, 3)

    @property
    def active_cue(self) -> Cue | None:
        return self.board.active

    def check_reply(self, draft: str):  # type: ignore[no-untyped-def]
        """The reply check of a draft in this chat's context (see callcue.chat.replycheck)."""
        from callcue.chat.replycheck import check_reply

        last = next((u for u in reversed(self.utterances) if u.who == "customer"), None)
        return check_reply(draft, self.playbook, frustration=self.frustration,
                           last_customer=last.frustration if last else None, analyzer=self.analyzer)

    def finish(self, t: float | None = None) -> list[Event]:
        """The chat is over: the summary (and nothing after it)."""
        if self._finished:
            return []
        out = self._start() + self._tick(self.now if t is None else t)
        self._finished = True
        return self._emit(out + [self.summary()])

    def summary(self) -> Summary:
        agent_words = sum(len(u.text.split()) for u in self.utterances if u.who == "agent")
        all_words = sum(len(u.text.split()) for u in self.utterances)
        times = [u.start for u in self.utterances]
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        card = self._scorecard()
        waited = [w for w, _ in self.waits] + ([self.now - self.waiting_since] if self.waiting_since is not None
                                                else [])
        longest_wait = max(waited, default=0.0)
        notes = [f"Longest wait for a reply: {_duration(longest_wait)}."] if longest_wait else []
        slow = [w for w, limit in self.waits if w >= limit]
        if slow:
            notes.append(f"{len(slow)} repl{'y' if len(slow) == 1 else 'ies'} came later than the playbook's limit.")
        peak = self.level.peak
        return Summary(
            talk_ratio=round(agent_words / all_words, 3) if all_words else None,
            interruptions=0,
            longest_silence_s=round(max(gaps, default=0.0), 3),
            frustration_peak=None if peak is None else round(peak, 3),
            cues=[c.id for c in self.board.shown],
            scores={k: v["score"] for k, v in card.items()},
            duration_s=round(self.now, 3),
            talk_s={},
            interruptions_by={},
            silences=0,
            commitments=[{"at": c.at, "text": c.text, "due": c.due} for c in self.commitments],
            scorecard=card,
            notes=notes,
            cues_shown=(shown := cue_outcomes(self.events)),
            cues_dismissed=[c["id"] for c in shown if c["outcome"] == "dismissed"],
        )

    def _scorecard(self) -> dict[str, dict[str, Any]]:
        card: dict[str, dict[str, Any]] = {}
        spec = self.playbook.cue("reply-waiting")
        cap, held = float(spec["after_s"]), float(spec["after_hold_s"])
        if self.waits:
            slow = [w for w, limit in self.waits if w >= limit]
            card["time-management"] = {"score": max(0, 100 - 20 * len(slow)),
                                       "basis": f"{len(slow)} of {len(self.waits)} replies later than "
                                                f"{_duration(cap)} ({_duration(held)} after \"let me check\")"
                                                " (-20 each)"}
        peak = self.level.peak
        if peak is not None and peak >= 0.5:
            first = next((t for t, lv in self.level.history if lv >= 0.5), None)
            acked = [a for a in self.empathy_at if first is not None and a >= first]
            card["empathy"] = ({"score": 100 if acked[0] - first <= cap else 60,
                                "basis": f"frustration reached {peak:.2f}; acknowledged "
                                         f"{_duration(acked[0] - first)} later"} if acked and first is not None
                               else {"score": 30, "basis": f"frustration reached {peak:.2f}; "
                                                          "no acknowledgement followed"})
        elif self.empathy_at:
            card["empathy"] = {"score": 100, "basis": f"{len(self.empathy_at)} acknowledgement(s); no frustration"}
        return card


def _clock(t: float) -> str:
    m, s = divmod(int(round(t)), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def _duration(s: float) -> str:
    s = int(round(s))
    return f"{s // 60} min {s % 60:02d} s" if s >= 60 else f"{s} s"


def analyze_messages(messages: list[ChatMessage], playbook: Playbook | None = None,
                     chat_id: str = "chat") -> list[Event]:
    """A whole chat from a transcript: the event stream, `call` first and `summary` last."""
    if not messages:
        raise CallcueError("the chat has no messages")
    session = ChatSession(chat_id=chat_id, playbook=playbook, transcript="file")
    gap = float(session.chat["untimed_gap_s"])
    times, timed = fill_times(messages, gap)
    note = "chat" if timed else (f"chat without times: messages placed {gap:g} s apart; "
                                 "waiting for a reply is not measured")
    session.start(note=note, duration_s=round(times[-1], 3))
    session.add_messages(messages)
    session.finish()
    return session.events


def analyze_chat_file(path: str, playbook: str | None = None, profile: str | None = None) -> list[Event]:
    from callcue.chat.readers import read_chat

    pb = load_playbook(playbook, profile)
    return analyze_messages(read_chat(path), pb)
