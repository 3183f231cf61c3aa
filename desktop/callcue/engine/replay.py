"""Replaying a recording through the engine exactly as a live call would feed it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from callcue.engine.activity import RATE
from callcue.engine.events import Event, TextSegment
from callcue.engine.pipeline import Engine

CHUNK_S = 0.1  # what a capture callback delivers at a time


def replay(engine: Engine, channels: dict[str, np.ndarray], segments: list[TextSegment] | None = None,
           chunk_s: float = CHUNK_S, on_chunk: Callable[[float], None] | None = None) -> Iterator[Event]:
    """Feed `channels` chunk by chunk; transcript lines become known when the audio reaches their end.

    The engine holds each line until its frame clock passes the line's end, so the events do not
    depend on how the audio is chunked.

    `on_chunk(t)` is called before each chunk with its start time, so a caller can pace the
    replay in real time (the demo) or inject controls; the engine never sees the wall clock.
    """
    chunk = int(chunk_s * RATE)
    total = max(len(a) for a in channels.values())
    mono = list(channels) == ["mixed"]
    if not engine.started:
        yield from engine.start(duration_s=total / RATE)
    for seg in sorted(segments or [], key=lambda s: (s.end, s.start)):
        yield from engine.add_result("mixed" if mono else seg.who, seg)
    for pos in range(0, total, chunk):
        if on_chunk is not None:
            on_chunk(pos / RATE)
        for name, pcm in channels.items():
            part = pcm[pos:pos + chunk]
            if len(part):
                yield from engine.feed(name, part)
    yield from engine.finish()
