"""The threaded live pipeline, fed by a recording (FileCapture) or by hand; choosing a model; the
deterministic Vosk decode of `callcue analyze`."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest
import soundfile as sf

from callcue.audio.capture import Chunk, FileCapture
from callcue.audio.recording import read_recording
from callcue.calls.live import LivePipeline
from callcue.engine.events import Partial, Speech, Status, Summary, TextSegment, Utterance, Word, sort_stream
from callcue.engine.pipeline import Engine
from callcue.speech.models import choose_model
from callcue.speech.recognizer import PartialText
from tests.pulse import short_call  # noqa: F401 - a fixture
from tests.speech.conftest import korean_model_dir, make_fake_model


def body(events) -> list[str]:  # noqa: ANN001
    return [e.to_json() for e in events if e.type != "call"]


class Collect:
    def __init__(self) -> None:
        self.events: list = []
        self.lines: list[str] = []
        self.status_seen = threading.Event()  # the worker has got this far

    def __call__(self, events) -> None:  # noqa: ANN001
        self.events.extend(events)
        if any(isinstance(e, Status) and e.kind == "device-lost" for e in events):
            self.status_seen.set()

    def warn(self, line: str) -> None:
        self.lines.append(line)


def run_file(playbook, channels, model=None, **kw):  # noqa: ANN001, ANN003, ANN201
    engine = Engine(playbook, channels=tuple(channels), words="vosk" if model is not None else None)
    got = Collect()
    cap = FileCapture(channels, realtime=False)
    pipe = LivePipeline(engine, cap, model, on_events=got, warn=got.warn, **kw)
    pipe.start()
    assert cap.done.wait(120)
    pipe.stop()
    assert pipe.error is None
    return engine, got, pipe


def test_live_pipeline_gives_exactly_the_events_of_a_replay(playbook, short_call):  # noqa: F811
    from callcue.calls.offline import analyze_recording

    rec = read_recording(short_call.wav)
    engine, got, pipe = run_file(playbook, rec.channels)
    assert body(sort_stream(got.events)) == body(analyze_recording(str(short_call.wav)))
    assert isinstance(got.events[-1], Summary) and got.events[0].type == "call"
    assert pipe.stats.fed == {c: len(x) for c, x in rec.channels.items()}
    assert not any(isinstance(e, Status) for e in got.events) and got.lines == []


class GatedEngine(Engine):
    """An engine whose first feed waits for the test: a worker that cannot keep up, without a sleep."""

    gate: threading.Event
    entered: threading.Event

    def feed(self, channel, pcm):  # noqa: ANN001, ANN201
        if not self.entered.is_set():
            self.entered.set()
            assert self.gate.wait(30)
        return super().feed(channel, pcm)


class HandCapture:
    """A capture the test drives: chunks and statuses go straight to the pipeline's sinks."""

    channels = ("agent", "customer")

    def start(self, on_chunk, on_status) -> None:  # noqa: ANN001
        self.chunk, self.status = on_chunk, on_status

    def stop(self) -> None:
        pass

    def describe(self) -> str:
        return "by hand"


def test_an_overloaded_worker_drops_audio_says_so_and_keeps_the_clock(playbook):
    engine = GatedEngine(playbook)
    engine.gate, engine.entered = threading.Event(), threading.Event()
    got, cap = Collect(), HandCapture()
    pipe = LivePipeline(engine, cap, on_events=got, warn=got.warn, backlog_s=0.5)
    pipe.start()
    voice = (3000 * np.sin(np.arange(1600) / 3)).astype(np.int16)
    cap.chunk(Chunk("agent", voice, 0.0))
    assert engine.entered.wait(30)  # the worker is stuck in its first feed
    accepted = [cap.chunk(Chunk(who, voice, 0.0)) for _ in range(20) for who in ("agent", "customer")]
    assert accepted == [True] * 5 + [False] * 35  # 0.5 s of room: five blocks of 0.1 s
    engine.gate.set()
    pipe.stop()
    # the dropped audio became zeros: every channel is as long as what was captured
    assert pipe.stats.fed == {"agent": 21 * 1600, "customer": 20 * 1600}
    assert pipe.stats.dropped == {"agent": 1.7, "customer": 1.8}
    overloads = [e for e in got.events if isinstance(e, Status) and e.kind == "overload"]
    assert {e.who for e in overloads} == {"agent", "customer"}
    assert any("1.7 s of the agent channel were dropped" in e.message for e in overloads)
    assert any(line.startswith("callcue: overload: the computer cannot keep up") for line in got.lines)
    assert isinstance(got.events[-1], Summary)


class ScriptedRecognizer:
    """Stands in for Vosk: a partial on every chunk, a final line at flush; optionally slow (gated)."""

    def __init__(self, who: str, gate: threading.Event | None = None) -> None:
        self.who, self.gate, self.seen = who, gate, []

    def accept(self, pcm, first_sample):  # noqa: ANN001, ANN201
        if self.gate is not None:
            assert self.gate.wait(30)
        self.seen.append((first_sample, len(pcm)))
        return [PartialText(self.who, (first_sample + len(pcm)) / 16000, f"word{len(self.seen)}")]

    def flush(self):  # noqa: ANN201
        start = self.seen[0][0] / 16000
        return [TextSegment(self.who, start, start + 0.5, "hello there",
                            [Word("hello", start, start + 0.2), Word("there", start + 0.25, start + 0.5)])]


def test_recognizer_outputs_reach_the_engine_and_a_slow_recognizer_is_reported(playbook):
    gate = threading.Event()
    recs = {"agent": ScriptedRecognizer("agent"), "customer": ScriptedRecognizer("customer", gate)}
    engine = Engine(playbook, words="vosk")
    got, cap = Collect(), HandCapture()
    pipe = LivePipeline(engine, cap, on_events=got, warn=got.warn, asr_backlog=5, make_recognizer=recs.get)
    pipe.start()
    pcm = np.zeros(1600, np.int16)
    for k in range(12):  # the agent's recognizer never has more than 4 blocks to do: it cannot overflow
        if k < 4:
            cap.chunk(Chunk("agent", pcm, 0.0))
        cap.chunk(Chunk("customer", pcm, 0.0))
    cap.status("device-lost", "lost the customer device 'x'", "customer")
    assert got.status_seen.wait(30)  # every block has been handed to the recognizers
    gate.set()
    pipe.stop()
    partials = [e for e in got.events if isinstance(e, Partial)]
    assert [p.text for p in partials if p.who == "agent"] == [f"word{i}" for i in range(1, 5)]
    utts = [e for e in got.events if isinstance(e, Utterance)]
    assert sorted(u.who for u in utts) == ["agent", "customer"] and utts[0].text == "hello there"
    assert [w.word for w in utts[0].words] == ["hello", "there"]
    statuses = [(e.kind, e.who) for e in got.events if isinstance(e, Status)]
    assert ("device-lost", "customer") in statuses and ("overload", "customer") in statuses
    assert ("overload", "agent") not in statuses
    assert recs["agent"].seen == [(i * 1600, 1600) for i in range(4)]  # on the sample clock
    assert len(recs["customer"].seen) <= 6 and pipe.stats.asr_dropped["customer"] >= 0.6
    assert "speech recognition cannot keep up" in " ".join(got.lines)
    assert isinstance(got.events[-1], Summary)


def test_a_model_is_chosen_by_language_unless_named(monkeypatch, isolated_dirs):
    app_models, _ = isolated_dirs
    # the Korean model ships as a Python package: lookup sees it, but an English call gets no Korean words
    assert choose_model(None) is None
    monkeypatch.setenv("CALLCUE_MODEL", str(korean_model_dir()))
    assert choose_model(None).path == korean_model_dir()
    monkeypatch.delenv("CALLCUE_MODEL")
    assert choose_model(str(korean_model_dir())).source == "--model"
    make_fake_model(app_models / "vosk-model-small-en-us-0.15")
    make_fake_model(app_models / "my-own-model")
    assert choose_model(None).name == "my-own-model"  # a language we cannot tell is the user's choice


@pytest.mark.slow
def test_live_pipeline_with_the_korean_model(playbook, short_call, korean_model):  # noqa: F811
    rec = read_recording(short_call.wav)
    engine, got, pipe = run_file(playbook, rec.channels, korean_model)
    utts = [e for e in got.events if isinstance(e, Utterance) and e.text]
    assert {u.who for u in utts} == {"agent", "customer"}
    speech = {u.who: [s for s in got.events if isinstance(s, Speech) and s.who == u.who] for u in utts}
    duration = len(rec.channels["agent"]) / 16000
    for u in utts:  # each line is where that party's voice is, on the call clock
        assert u.words and all(0 <= u.start <= w.start <= w.end <= u.end <= duration for w in u.words)
        assert any(min(u.end, s.end) - max(u.start, s.start) > 0.3 for s in speech[u.who])
    _, plain, _ = run_file(playbook, rec.channels)
    assert [e for e in got.events if isinstance(e, Speech)] == [e for e in plain.events if isinstance(e, Speech)]
    assert not any(isinstance(e, Status) for e in got.events)  # a file waits for the workers: nothing lost
    assert all(t.samples == len(rec.channels[who]) for who, t in pipe.stats.asr.items())


@pytest.mark.slow
def test_analyze_with_vosk_gives_the_same_bytes_every_time(tmp_path, short_call):  # noqa: F811
    """Kaldi dithers with libc's rand(): without reseeding, the second decode in a process differs."""
    data, rate = sf.read(short_call.wav, dtype="int16")
    excerpt = tmp_path / "excerpt.wav"
    sf.write(excerpt, data[: 7 * rate], rate)  # both parties speak in the first 7 s
    args = [sys.executable, "-m", "callcue", "analyze", str(excerpt), "--json", "--model", str(korean_model_dir())]
    # On glibc's malloc, as this test process is: Kaldi's float kernels take other paths for other
    # alignments, so on jemalloc (callcue's default, callcue.allocator) the words' confidences differ
    # in the third decimal. Each allocator gives the same bytes every time.
    env = dict(os.environ, CALLCUE_MALLOC="system")
    first = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert '"transcript": "vosk"' in lines[0] and f'"model": "{korean_model_dir()}"' in lines[0]
    assert '"type": "utterance"' in first.stdout and '"type": "partial"' not in first.stdout
    from callcue.calls.offline import analyze_recording

    again = "".join(e.to_json() + "\n" for e in analyze_recording(str(excerpt), model=str(korean_model_dir())))
    assert again == first.stdout
