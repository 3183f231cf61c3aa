"""The event stream of every shared call, with and without its transcript, and of the demo recording,
byte for byte what it was when these references were made (tests/calls/golden, by `callcue analyze
--json` of the code before the calls/ layer). A change that means to change the events regenerates them
with `python tests/calls/make_golden.py` and says why in its commit."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcue.cli import main
from tests.conftest import SHARED

GOLDEN = Path(__file__).parent / "golden"
CALLS = SHARED / "calls"  # the shared calls themselves, not the ones a test run makes
ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "resources" / "demo"


def cases() -> list[tuple[str, Path, Path | None]]:
    """(golden file, recording, transcript or None) for every reference stream."""
    out: list[tuple[str, Path, Path | None]] = []
    for ref in sorted(GOLDEN.glob("*.jsonl")):
        name, kind = ref.stem.rsplit(".", 1)
        folder = DEMO if name == "demo-call" else CALLS
        audio = folder / (f"{name}.flac" if name == "demo-call" else f"{name}.wav")
        out.append((ref.name, audio, folder / f"{name}.vtt" if kind == "words" else None))
    return out


def analyze_json(audio: Path, transcript: Path | None, capsys) -> str:
    args = ["analyze", str(audio), "--json"] + (["--transcript", str(transcript)] if transcript else [])
    capsys.readouterr()
    assert main(args) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(("ref", "audio", "transcript"), cases(), ids=[c[0] for c in cases()])
def test_event_stream_is_unchanged(ref, audio, transcript, capsys):
    if not audio.is_file():
        pytest.skip(f"{audio} is absent (the shared calls live in ../shared/calls)")
    assert analyze_json(audio, transcript, capsys) == (GOLDEN / ref).read_text()
