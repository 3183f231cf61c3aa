"""The one live-call recipe: which model a call uses, and what it says before the call."""

from __future__ import annotations

from callcue.audio.capture import FileCapture
from callcue.audio.recording import read_recording
from callcue.calls.recipe import CallSpec, demo_files, open_call
from tests.speech.conftest import korean_model_dir


def demo_capture() -> FileCapture:
    return FileCapture(read_recording(demo_files()[0]).channels, realtime=False)


def test_a_model_for_another_language_is_a_warning_before_the_call():
    said: list[str] = []
    call = open_call(CallSpec(model=str(korean_model_dir()), capture=demo_capture(), save=False), warn=said.append)
    assert call.model_name is not None and call.engine.words == "vosk"  # asked for: used, whatever its language
    assert len(said) == 1 and "is for 'ko'" in said[0] and said[0].startswith("callcue: warning:")
    assert not call.pipeline.finished.is_set()  # said while setting up: nothing has been captured yet


def test_the_demo_takes_its_transcript_over_a_model_for_another_language():
    said: list[str] = []
    call = open_call(CallSpec(kind="demo", model=str(korean_model_dir()), speed=0, save=False), warn=said.append)
    assert call.model_name is None and call.engine.words == "file" and said == []


def test_without_an_english_model_a_live_call_goes_by_the_voice():
    call = open_call(CallSpec(capture=demo_capture(), save=False))
    assert call.model_name is None and call.engine.words is None and "no speech model" in call.words_from
