"""Benchmark `callcue analyze`: speed (x real time) and accuracy on ../shared/calls.

  python bench/bench_analyze.py [--calls DIR] [--out DIR] [--no-transcript] [--repeat N]

Writes NAME.jsonl per call into --out, prints per-call speed, then runs
../shared/tools/score_calls.py on the result. Speed is measured in-process
(the engine and file reading, not Python's start-up) and, once, for the whole
command line.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=Path, default=SHARED / "calls")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    ap.add_argument("--no-transcript", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--profile")
    a = ap.parse_args()

    from callcue.calls.offline import analyze_recording
    from callcue.engine.events import Cue

    a.out.mkdir(parents=True, exist_ok=True)
    total_audio = total_time = 0.0
    analyze_recording(str(sorted(a.calls.glob("*.wav"))[0]))  # warm the imports and lexicons
    for wav in sorted(a.calls.glob("*.wav")):
        vtt = wav.with_suffix(".vtt")
        transcript = None if a.no_transcript or not vtt.exists() else str(vtt)
        best = float("inf")
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            events = analyze_recording(str(wav), transcript, profile=a.profile)
            best = min(best, time.perf_counter() - t0)
        duration = events[0].duration_s
        (a.out / f"{wav.stem}.jsonl").write_text("".join(e.to_json() + "\n" for e in events))
        cues = [f"{e.id}({e.severity})" for e in events if isinstance(e, Cue)]
        print(f"{wav.stem:<22} {duration:6.1f} s audio  {best * 1000:7.1f} ms  {duration / best:6.0f}x real time"
              f"  cues: {', '.join(cues) or '-'}")
        total_audio += duration
        total_time += best
    print(f"{'TOTAL':<22} {total_audio:6.1f} s audio  {total_time * 1000:7.1f} ms  "
          f"{total_audio / total_time:6.0f}x real time (in-process)")
    wav = sorted(a.calls.glob("*.wav"))[0]
    cmd = [sys.executable, "-m", "callcue", "analyze", str(wav), "--json"]
    if not a.no_transcript:
        cmd += ["--transcript", str(wav.with_suffix(".vtt"))]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    whole = time.perf_counter() - t0
    dur = events[0].duration_s or 0.0
    print(f"whole command on {wav.stem}: {whole:.2f} s including Python start-up ({dur / whole:.0f}x real time)")
    score = SHARED / "tools" / "score_calls.py"
    if score.exists():
        subprocess.run([sys.executable, str(score), "--dir", str(a.calls), "--events-dir", str(a.out)], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
