"""A recording analysed as fast as the machine goes: `callcue analyze`, `analyze --save`, the self-test and
the benchmarks. The same engine and feed loop as a live call, so the events are the ones a live call
with the same audio and words would give; with Vosk, each channel is decoded on its own first, so
the words are the same every time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any

import numpy as np

from callcue.audio.recording import RecordingReader
from callcue.calls.feed import CHUNK, Heard, feed_blocks, transcript_heard
from callcue.engine.events import Event, Partial, sort_stream
from callcue.engine.pipeline import Engine

NO_WORDS_NOTE = "no transcript: words-based signals (sentiment, phrases, commitments) are absent"


def analyze_recording(path: str, transcript: str | None = None, playbook: str | None = None,
                      profile: str | None = None, channels: str | None = None,
                      on_event: Callable[[Event], None] | None = None,
                      on_chunk: Callable[[float], None] | None = None, model: Any = None,
                      warn: Callable[[str], None] = lambda line: None) -> list[Event]:
    """The sorted event stream of a recording. `on_event(event)` sees each event as the engine makes it
    and `on_chunk(t)` each 0.1 s of audio (`analyze --save` writes the session during the analysis).
    `model` (a models.ModelRef or folder), without a transcript: Vosk gives the words. `warn(line)`
    hears what the user should know and the stream does not say (a transcript longer than its audio)."""
    from callcue.audio.recording import open_recording, parse_channel_order
    from callcue.engine.playbook import load_playbook
    from callcue.speech.transcript import past_the_end, read_transcript

    pb = load_playbook(playbook, profile)
    segments = read_transcript(transcript) if transcript else None
    rec = open_recording(path, parse_channel_order(channels))  # read in blocks, each time it is gone through
    if segments and transcript and (late := past_the_end(segments, rec.duration_s, transcript)):
        warn(f"callcue: warning: {late}")
    seen = on_event or (lambda event: None)
    if model is not None and not segments:
        from callcue.speech.models import load_model

        loaded = load_model(model)
        engine = Engine(pb, channels=rec.channels, words="vosk", model=os.path.abspath(loaded.path))
        heard = recognize_recording(loaded, rec)
        for event in engine.start(duration_s=rec.duration_s):
            seen(event)
        for event in feed_blocks(engine, rec.blocks(), heard, captions=True, on_chunk=on_chunk):
            if not isinstance(event, Partial):
                seen(event)
        return drop_partials(sort_stream(engine.events))
    engine = Engine(pb, channels=rec.channels, words="file" if segments else None)
    for event in engine.start(duration_s=rec.duration_s, note=None if segments else NO_WORDS_NOTE):
        seen(event)
    for event in feed_blocks(engine, rec.blocks(), transcript_heard(segments or [], rec.channels),
                             on_chunk=on_chunk):
        seen(event)
    return sort_stream(engine.events)


def _reset_dither() -> None:
    """Kaldi dithers its features with libc's rand(): reseed it so a decode is repeatable.

    Each recognizer made from a model draws from the process-wide rand() as it decodes, so the
    same audio decoded twice in one process, or two channels decoded side by side, give
    different words. Reseeding before each channel, and decoding channels one after the other,
    makes `callcue analyze` give the same bytes every time.
    """
    try:
        import ctypes

        ctypes.CDLL(None).srand(1)
    except (OSError, AttributeError, TypeError):  # no C library symbols (Windows): best effort
        pass


def recognize_recording(model: Any, channels: Mapping[str, np.ndarray] | RecordingReader, chunk: int = CHUNK,
                        partials: bool = True) -> list[Heard]:
    """Decode each channel of a recording on its own, in `chunk`s; outputs in the order they became known.
    `channels`: the arrays, or a RecordingReader, read again for each channel (in blocks that are whole
    numbers of chunks: the same chunks as the arrays)."""
    from callcue.speech.live import ThriftyRecognizer
    from callcue.speech.recognizer import StreamingRecognizer

    names = channels.channels if isinstance(channels, RecordingReader) else tuple(channels)
    found: list[Heard] = []
    for who in names:
        _reset_dither()
        rec = ThriftyRecognizer(partial(StreamingRecognizer, model, who=who, partials=partials))
        i = 0
        for block in _blocks_of(channels, who):
            pcm = np.asarray(block, dtype=np.int16)
            for j in range(0, pcm.size, chunk):
                piece = pcm[j:j + chunk]
                found += [Heard(i + piece.size, who, o) for o in rec.accept(piece, i)]
                i += piece.size
        found += [Heard(i, who, o) for o in rec.flush()]
    order = {who: k for k, who in enumerate(names)}
    found.sort(key=lambda r: (r.ready, order[r.who]))  # stable: each channel keeps its own order
    return found


def _blocks_of(channels: Mapping[str, np.ndarray] | RecordingReader, who: str) -> Iterator[np.ndarray]:
    if isinstance(channels, RecordingReader):
        for block in channels.blocks():
            yield block[who]
    else:
        yield channels[who]


def drop_partials(events: list[Event]) -> list[Event]:
    """A finished call's stream without live captions (they are replaced by the utterances)."""
    return [e for e in events if not isinstance(e, Partial)]
