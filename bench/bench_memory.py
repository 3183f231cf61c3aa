"""Benchmark the memory of `callcue analyze`: peak RSS on a short and a long stereo recording.

  python bench/bench_memory.py [--call NAME] [--short-min 5] [--long-min 120] [--model M] [--keep DIR]

Each recording is one of ../shared/calls repeated (its transcript too, shifted), written to a temporary
folder that is deleted afterwards. `callcue analyze REC --json` runs as a child process, with and
without --transcript (and with --model M, Vosk's words, if given: slow on a long recording), and its
peak resident set (ru_maxrss, over the whole process, jemalloc's re-exec included) is read when it
ends. The recording is read in blocks (audio.recording.RecordingReader), so the target is a long
recording's peak within 1.3x of the short one's: what still grows is the event stream itself.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
TARGET = 1.3
STAMP = re.compile(r"(\d+):(\d\d):(\d\d)\.(\d\d\d)")


def _seconds(m: re.Match[str]) -> float:
    h, mi, s, ms = (int(x) for x in m.groups())
    return h * 3600 + mi * 60 + s + ms / 1000


def _stamp(t: float) -> str:
    ms = round(t * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def make_recording(call: Path, minutes: float, folder: Path) -> tuple[Path, Path]:
    """`call` repeated to `minutes` (WAV, written a copy at a time) and its VTT repeated alongside."""
    import soundfile as sf

    data, rate = sf.read(call, dtype="int16", always_2d=True)
    total = int(minutes * 60 * rate)
    wav = folder / f"{call.stem}-{minutes:g}min.wav"
    with sf.SoundFile(wav, "w", rate, data.shape[1], subtype="PCM_16") as f:
        written = 0
        while written < total:
            part = data[: total - written]
            f.write(part)
            written += len(part)
    length = len(data) / rate
    cues = call.with_suffix(".vtt").read_text().split("\n\n")[1:]
    out = ["WEBVTT", ""]
    for k in range(int(total / rate // length) + 1):
        for cue in cues:
            m = list(STAMP.finditer(cue))
            if len(m) < 2 or k * length + _seconds(m[1]) > total / rate:
                continue
            shift = k * length
            shifted = STAMP.sub(lambda x, shift=shift: _stamp(_seconds(x) + shift), cue, count=2)
            out += [shifted.strip(), ""]
    vtt = wav.with_suffix(".vtt")
    vtt.write_text("\n".join(out))
    return wav, vtt


def peak_rss(args: list[str]) -> tuple[float, float, int]:
    """(peak RSS in MB, seconds, events printed) of `callcue analyze ARGS --json`."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "callcue", "analyze", *args, "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    events = sum(1 for _ in proc.stdout)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"callcue analyze {' '.join(args)} failed ({proc.returncode}): {err.strip()}")
    return usage.ru_maxrss / 1024, time.perf_counter() - t0, events  # ru_maxrss is in KB on Linux


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--call", default="billing-dispute", help="the shared call that is repeated")
    ap.add_argument("--calls", type=Path, default=SHARED / "calls")
    ap.add_argument("--short-min", type=float, default=5.0)
    ap.add_argument("--long-min", type=float, default=120.0)
    ap.add_argument("--model", help="also with Vosk's words from this model (slow on the long recording)")
    ap.add_argument("--keep", type=Path, help="write the recordings here and keep them")
    a = ap.parse_args()

    folder = a.keep or Path(tempfile.mkdtemp(prefix="callcue-bench-memory-"))
    folder.mkdir(parents=True, exist_ok=True)
    modes: list[tuple[str, list[str]]] = [("voice only", []), ("transcript", ["--transcript"])]
    if a.model:
        modes.append(("vosk", ["--model", a.model]))
    peaks: dict[tuple[str, float], float] = {}
    try:
        recs = {m: make_recording(a.calls / f"{a.call}.wav", m, folder) for m in (a.short_min, a.long_min)}
        print(f"{a.call} repeated; {os.cpu_count()} cores; peak RSS of `callcue analyze REC --json`")
        for name, extra in modes:
            for minutes, (wav, vtt) in recs.items():
                args = [str(wav)] + ([extra[0], str(vtt)] if extra == ["--transcript"] else extra)
                mb, secs, events = peak_rss(args)
                peaks[(name, minutes)] = mb
                print(f"  {name:<11} {minutes:6.1f} min  peak {mb:7.1f} MB  {secs:7.1f} s  {events:6d} events",
                      flush=True)
    finally:
        if a.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    ok = True
    for name, _ in modes:
        ratio = peaks[(name, a.long_min)] / peaks[(name, a.short_min)]
        ok &= ratio <= TARGET
        print(f"{name:<11} {a.long_min:g} min / {a.short_min:g} min: {ratio:.2f}x "
              f"({'within' if ratio <= TARGET else 'over'} the {TARGET}x target)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
