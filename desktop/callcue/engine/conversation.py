"""Conversation: interruptions, silences, talk time and monologues from both channels' speech."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from callcue.engine.activity import Segment
from callcue.engine.events import Event, Interruption, Silence


@dataclass
class Hold:
    """A pause announced in words: its silence is expected, for a while."""

    kind: str  # "short" or "long" (announced by the agent), or "customer"
    at: float


@dataclass
class _Candidate:
    by: Segment  # the stretch that started over the other
    over: Segment  # the other's stretch that was going on


@dataclass
class Conversation:
    channels: tuple[str, ...]
    overlap_min_s: float = 0.5
    backchannel_max_s: float = 0.8
    backchannel_max_words: int = 2
    # words_heard(who, since, now): how many words `who` has said since `since`, when words are
    # known (transcript or recognizer), else None. With words, a backchannel is told by its words
    # ("right, okay" is two, however slowly said); without, by its length.
    words_heard: Callable[[str, float, float], int | None] | None = None
    silence_s: float = 5.0
    talk_s: dict[str, float] = field(default_factory=dict)
    segments: list[Segment] = field(default_factory=list)
    interruptions: list[Interruption] = field(default_factory=list)
    silences: list[Silence] = field(default_factory=list)
    last_end: float = 0.0  # end of anyone's last voiced frame
    longest_gap_s: float = 0.0
    longest_monologue_s: float = 0.0
    hold: Hold | None = None  # the pause announced before the current silence, if any
    _open: dict[str, Segment] = field(default_factory=dict)
    _candidates: list[_Candidate] = field(default_factory=list)
    _mono_start: float | None = None

    def __post_init__(self) -> None:
        self.talk_s = {c: 0.0 for c in self.channels}

    @property
    def two_party(self) -> bool:
        return set(self.channels) == {"agent", "customer"}

    def opened(self, seg: Segment) -> list[Event]:
        out: list[Event] = []
        gap = seg.start - self.last_end
        if not self._open:
            self.longest_gap_s = max(self.longest_gap_s, gap)
            if gap >= self.silence_s:
                s = Silence(start=round(self.last_end, 3), end=round(seg.start, 3), duration_s=round(gap, 3),
                            hold=self.hold is not None)
                self.silences.append(s)
                out.append(s)
            if gap >= 2.0 or (seg.who == "customer" and self._mono_start is not None and gap >= 1.0):
                self._mono_start = None
        if self.two_party:
            for who, other in self._open.items():
                # the other must really be speaking when this one starts, not pausing in a hangover
                if who != seg.who and other.start < seg.start < other.end:
                    self._candidates.append(_Candidate(by=seg, over=other))
        if seg.who == "agent" and self._mono_start is None:
            self._mono_start = seg.start
        self._open[seg.who] = seg
        return out

    def closed(self, seg: Segment) -> None:
        self._open.pop(seg.who, None)
        self.talk_s[seg.who] = self.talk_s.get(seg.who, 0.0) + seg.duration
        self.segments.append(seg)
        self._candidates = [c for c in self._candidates if c.by is not seg]
        if seg.who == "customer" and seg.duration >= self.backchannel_max_s:
            self._mono_start = None  # a real reply ends the agent's monologue

    def _not_a_backchannel(self, seg: Segment, now: float) -> bool:
        heard = self.words_heard(seg.who, seg.start, now) if self.words_heard else None
        if heard is None:
            return seg.duration >= self.backchannel_max_s
        return heard > self.backchannel_max_words

    def advance(self, now: float | None = None) -> list[Interruption]:
        """After a frame: update the time of the last voice and decide pending talk-over."""
        for seg in self._open.values():
            self.last_end = max(self.last_end, seg.end)
        out: list[Interruption] = []
        keep = []
        for c in self._candidates:
            overlap = min(c.by.end, c.over.end) - c.by.start
            if overlap >= self.overlap_min_s and self._not_a_backchannel(c.by, c.by.end if now is None else now):
                ev = Interruption(at=round(c.by.start, 3), by=c.by.who, over=c.over.who,
                                  overlap_s=round(overlap, 3))
                self.interruptions.append(ev)
                out.append(ev)
            else:
                keep.append(c)
        self._candidates = keep
        agent = self._open.get("agent")
        if agent is not None and self._mono_start is not None:
            self.longest_monologue_s = max(self.longest_monologue_s, agent.end - self._mono_start)
        return out

    @property
    def anyone_spoke(self) -> bool:
        return bool(self.segments or self._open)

    def talk_so_far(self) -> dict[str, float]:
        """Talk time per channel, counting the turns still going on (for a live view)."""
        talk = dict(self.talk_s)
        for seg in self._open.values():
            talk[seg.who] = talk.get(seg.who, 0.0) + max(0.0, seg.end - seg.start)
        return talk

    def silence_so_far(self, now: float) -> float:
        return 0.0 if self._open else max(0.0, now - self.last_end)

    def monologue_s(self) -> float:
        agent = self._open.get("agent")
        if agent is None or self._mono_start is None:
            return 0.0
        return agent.end - self._mono_start

    def window_ratio(self, now: float, window_s: float) -> float | None:
        lo = now - window_s
        talk = {c: 0.0 for c in self.channels}
        for seg in self.segments + list(self._open.values()):
            talk[seg.who] = talk.get(seg.who, 0.0) + max(0.0, seg.end - max(seg.start, lo))
        total = talk.get("agent", 0.0) + talk.get("customer", 0.0)
        return talk.get("agent", 0.0) / total if total > 0 and self.two_party else None

    def finish(self, end: float) -> list[Event]:
        out: list[Event] = []
        gap = end - self.last_end
        if not self._open and gap > 0:
            self.longest_gap_s = max(self.longest_gap_s, gap)
            if gap >= self.silence_s:
                s = Silence(start=round(self.last_end, 3), end=round(end, 3), duration_s=round(gap, 3),
                            hold=self.hold is not None)
                self.silences.append(s)
                out.append(s)
        return out
