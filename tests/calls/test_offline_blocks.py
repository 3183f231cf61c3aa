"""The offline path reads a recording in blocks (audio.recording.RecordingReader): the engine and Vosk
see the chunks they would see in the whole arrays, so the events and the words are the same."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from callcue.audio.recording import RATE, open_recording, read_recording
from callcue.calls.feed import feed_blocks, feed_recording, transcript_heard
from callcue.calls.offline import recognize_recording
from callcue.engine.pipeline import Engine
from callcue.speech.transcript import read_transcript
from tests.conftest import CALLS, USES_CALLS

pytestmark = USES_CALLS  # the calls this run makes (tests/data/calls)


def events_of(stream) -> list[str]:  # noqa: ANN001
    return [e.to_json() for e in stream]


@pytest.mark.parametrize("block", [10 * RATE, 1600, 3 * 1600])
def test_the_engine_fed_in_blocks_gives_the_events_of_the_whole_recording(playbook, block):
    path = CALLS / "billing-dispute.wav"
    segments = read_transcript(CALLS / "billing-dispute.vtt")
    whole = read_recording(path)
    a = Engine(playbook, channels=tuple(whole.channels), words="file")
    want = events_of(feed_recording(a, whole.channels, transcript_heard(segments, whole.channels)))
    reader = open_recording(path)
    b = Engine(playbook, channels=reader.channels, words="file")
    got = events_of(b.start(duration_s=reader.duration_s))
    got += events_of(feed_blocks(b, reader.blocks(block), transcript_heard(segments, reader.channels)))
    assert got == want and len(got) > 20


def test_a_block_that_is_not_whole_chunks_before_the_last_is_refused(playbook):
    engine = Engine(playbook, channels=("mixed",))
    list(engine.start(duration_s=1.0))
    blocks = [{"mixed": np.zeros(1000, np.int16)}, {"mixed": np.zeros(1600, np.int16)}]
    with pytest.raises(ValueError, match="whole number of chunks"):
        list(feed_blocks(engine, blocks))


def test_vosk_hears_the_same_words_in_blocks(korean_model, tmp_path):
    """12.5 s of a call (a 10 s block and a short one, the boundary in the middle of speech), decoded from
    the arrays and from the reader. Short, because Vosk decodes it four times (two channels, two ways)."""
    data, rate = sf.read(CALLS / "password-reset.wav", dtype="int16")
    path = tmp_path / "excerpt.wav"
    sf.write(path, data[: int(12.5 * rate)], rate)
    whole = recognize_recording(korean_model, read_recording(path).channels)
    blocks = recognize_recording(korean_model, open_recording(path))
    assert [(h.ready, h.who, repr(h.output)) for h in blocks] == [(h.ready, h.who, repr(h.output)) for h in whole]
    assert any(getattr(h.output, "text", "") for h in whole)  # words were heard
