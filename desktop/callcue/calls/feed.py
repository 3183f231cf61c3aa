"""The one feed loop: a recording's channels and the words heard in it, into an engine, as a live call
would give them.

Words come as `Heard` items, each with the channel sample after which a live run would know it: a
recognizer's lines and captions when it had decoded their audio, a transcript's lines from the start
(the engine holds each line until its frame clock passes the line's end, so the events do not depend
on how the audio is chunked).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from callcue.engine.clock import RATE
from callcue.engine.events import Event, TextSegment
from callcue.engine.pipeline import Engine
from callcue.speech.recognizer import PartialText

CHUNK_S = 0.1  # what a capture callback delivers at a time
CHUNK = int(CHUNK_S * RATE)


@dataclass
class Heard:
    """Words of one channel: a finished line, or a recognizer's caption of the line in progress."""

    ready: int  # the channel sample after which a live run would know it
    who: str
    output: TextSegment | PartialText


def transcript_heard(segments: Iterable[TextSegment], channels: Iterable[str]) -> list[Heard]:
    """A transcript's lines, known from the start (a mono recording's lines are all the `mixed` channel's)."""
    mono = list(channels) == ["mixed"]
    return [Heard(0, "mixed" if mono else seg.who, seg) for seg in sorted(segments, key=lambda s: (s.end, s.start))]


def feed_recording(engine: Engine, channels: Mapping[str, np.ndarray], heard: Iterable[Heard] = (),
                   captions: bool = False, chunk: int = CHUNK,
                   on_chunk: Callable[[float], None] | None = None) -> Iterator[Event]:
    """Feed `channels` chunk by chunk and each of `heard` once the audio it came from has been fed; the
    engine is finished at the end. `captions`: the words are a recognizer's, whose captions restart
    at each finished line (the engine counts the words of a caption since talk-over began to tell it
    from a backchannel, so it must see the reset). `on_chunk(t)` comes before each chunk, with its start
    time. Same input, same events."""
    if not engine.started:
        yield from engine.start(duration_s=max(len(a) for a in channels.values()) / RATE)
    yield from feed_blocks(engine, [channels], heard, captions, chunk, on_chunk)


def feed_blocks(engine: Engine, blocks: Iterable[Mapping[str, np.ndarray]], heard: Iterable[Heard] = (),
                captions: bool = False, chunk: int = CHUNK,
                on_chunk: Callable[[float], None] | None = None) -> Iterator[Event]:
    """feed_recording of a recording that comes in consecutive blocks (audio.recording.RecordingReader), so
    that a long one is never held whole; the engine must have been started. Every block but the last
    is a whole number of chunks, so the chunks, and the events, are those of the whole recording."""
    pending = deque(heard)
    start = total = 0
    for block in blocks:
        if start % chunk:
            raise ValueError(f"a block of {start % chunk} samples more than a whole number of chunks came "
                             "before the last one")
        length = max(len(a) for a in block.values())
        for local in range(0, length, chunk):
            pos = start + local
            yield from _release(engine, pending, pos, captions)
            if on_chunk is not None:
                on_chunk(pos / RATE)
            for name, pcm in block.items():
                part = pcm[local:local + chunk]
                if len(part):
                    yield from engine.feed(name, part)
        start += length
        total = start
    yield from _release(engine, pending, -(-total // chunk) * chunk, captions)
    for r in pending:  # lines that end after the audio: the engine places them at its end
        if not isinstance(r.output, PartialText):
            yield from engine.add_result(r.who, r.output)
    yield from engine.finish()


def _release(engine: Engine, pending: deque[Heard], upto: int, captions: bool) -> Iterator[Event]:
    while pending and pending[0].ready <= upto:
        r = pending.popleft()
        if isinstance(r.output, PartialText):
            yield from engine.add_partial(r.who, r.output.text)
            continue
        if captions:
            yield from engine.add_partial(r.who, "")  # the line is over: the next caption starts afresh
        yield from engine.add_result(r.who, r.output)
