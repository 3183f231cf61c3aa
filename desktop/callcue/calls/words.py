"""A transcript as a live call's source of words: the demo without a speech model.

The live pipeline gives the engine every line at the start, in the order calls.feed gives them to
`analyze`; the engine holds each until the audio has reached its end, and counts only the words
said by then (talk-over), so the events are exactly analyze's. Captions (the words said so far of
each line in progress) are for the view only and never reach the engine.
"""

from __future__ import annotations

from collections.abc import Iterable

from callcue.calls.feed import transcript_heard
from callcue.engine.events import Event, Partial, TextSegment


class TranscriptWords:
    def __init__(self, segments: Iterable[TextSegment], channels: Iterable[str]) -> None:
        self.segments = list(segments)
        self._lines = [(h.who, h.output) for h in transcript_heard(self.segments, channels)
                       if isinstance(h.output, TextSegment)]
        self._shown: dict[str, str] = {}

    def lines(self) -> list[tuple[str, TextSegment]]:
        """Every line, as (channel, line), in the order the engine takes them."""
        return [(who, seg) for who, seg in self._lines]

    def captions(self, t: float) -> list[Event]:
        """The words said by time `t` of each line in progress, when they have changed."""
        out: list[Event] = []
        for seg in self.segments:
            if not seg.start <= t < seg.end:
                continue
            said = " ".join(w.word for w in seg.words if w.end <= t) if seg.words else ""
            if said and self._shown.get(seg.who) != said:
                self._shown[seg.who] = said
                out.append(Partial(who=seg.who, at=round(t, 3), text=said))
        return out
