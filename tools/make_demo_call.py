"""Make the bundled demo call (resources/demo/) from its script with espeak-ng.

  python tools/make_demo_call.py [resources/demo/demo-call.json] [--out resources/demo]

Writes demo-call.flac (stereo, 16 kHz: left agent, right customer) and demo-call.vtt
(the exact transcript, with <v agent>/<v customer> voice tags). Each turn starts `gap`
seconds after the previous one ends (negative: talks over it).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

RATE = 16000
# mood -> espeak-ng words per minute, pitch (0-99), amplitude (0-200)
MOODS = {"calm": (155, 45, 90), "warm": (150, 50, 90), "annoyed": (180, 62, 130), "angry": (205, 78, 180)}


def speak(text: str, voice: str, mood: str) -> np.ndarray:
    speed, pitch, amp = MOODS[mood]
    with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-a", str(amp),
                        "-w", tmp.name, text], check=True)
        audio, rate = sf.read(tmp.name, dtype="float32")
    audio = soxr.resample(audio, rate, RATE)
    loud = np.flatnonzero(np.abs(audio) > 0.01)
    return audio[loud[0]: loud[-1] + 1]


def vtt_time(t: float) -> str:
    h, rem = divmod(t, 3600)
    m, s = divmod(rem, 60)
    return f"{int(h):02d}:{int(m):02d}:{s:06.3f}"


def main() -> None:
    here = Path(__file__).resolve().parents[1] / "resources" / "demo"
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("script", nargs="?", type=Path, default=here / "demo-call.json")
    ap.add_argument("--out", type=Path, default=here)
    a = ap.parse_args()
    script = json.loads(a.script.read_text())
    placed, end = [], 0.8
    for turn in script["turns"]:
        audio = speak(turn["text"], script["voices"][turn["who"]], turn.get("mood", "calm"))
        start = end + float(turn.get("gap", 0.6)) if placed else end
        start = max(start, max((p["end"] for p in placed if p["who"] == turn["who"]), default=0) + 0.15)
        placed.append({"who": turn["who"], "start": start, "end": start + len(audio) / RATE, "text": turn["text"],
                       "audio": audio})
        end = placed[-1]["end"]
    n = int((max(p["end"] for p in placed) + 1.0) * RATE)
    stereo = np.zeros((n, 2), np.float32)
    for p in placed:
        i = int(p["start"] * RATE)
        stereo[i: i + len(p["audio"]), 0 if p["who"] == "agent" else 1] += p["audio"]
    stereo += 10 ** (-55 / 20) * np.random.default_rng(7).standard_normal(stereo.shape).astype(np.float32)
    stereo *= min(1.0, 0.98 / np.abs(stereo).max())
    stem = a.script.stem
    a.out.mkdir(parents=True, exist_ok=True)
    sf.write(a.out / f"{stem}.flac", stereo, RATE, subtype="PCM_16")
    with open(a.out / f"{stem}.vtt", "w") as f:
        f.write("WEBVTT\n")
        for p in sorted(placed, key=lambda p: p["start"]):
            f.write(f"\n{vtt_time(p['start'])} --> {vtt_time(p['end'])}\n<v {p['who']}>{p['text']}\n")
    print(f"{stem}: {n / RATE:.1f} s, {len(placed)} turns -> {a.out}")


if __name__ == "__main__":
    main()
