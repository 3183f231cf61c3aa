"""Benchmark the customer's frustration on real human voices: calls built from TESS.

  python bench/bench_voice.py [TESS_DIR] [--customer OAF] [--agent OAF] [--calls 4] [--seed 1]
                              [--playbook F] [--keep DIR] [--set section.key=value ...]

TESS (the Toronto emotional speech set: two actresses saying "Say the word X" in seven emotions)
is not part of Callcue and may only be used to measure: this bench reads it from TESS_DIR, or
$CALLCUE_TESS, or /work/tess/OAF (folders like OAF_angry/OAF_back_angry.wav, as in the repository
deepxzy/Toronto-emotional-speech-set, datasets/train/); without it, it says so and exits 0. The
calls it builds are written to a temporary folder (or --keep DIR, which must be outside the repo)
and never committed.

Each call: the customer is one speaker (--customer), the agent the neutral lines of another
(--agent; when it is the same speaker, her lines are played 18 % slower: a deeper voice, pitch and
formants 3 semitones lower), turns alternate with 0.5-1 s between them, -50 dB noise
on both channels and -30 dB of each channel bleeding into the other. Three kinds, --calls of each
(seeded random draws of the lines):
  escalating   5 neutral, then angry mixed with neutral and one disgusted (the first of these angry)
  calm         neutral, happy and pleasantly surprised only
  angry-start  4 angry, 6 neutral, 2 angry
The transcript of every line is its carrier phrase ("Say the word X"), so the words carry nothing.
Truth: angry and disgusted lines are frustrated. `analyze` runs with and without the transcript
(without one, and with no model, the engine has the voice only), and the two are printed side by
side: pooled AUC of the customer utterances' frustration, per-call AUC, warn/alert cues on calm
calls, and the delay from the first angry line's start to the first frustration cue.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TESS = Path("/work/tess/OAF")
RATE = 16000
NOISE_DB = -50.0
BLEED_DB = -30.0
FRUSTRATED = ("angry", "disgust")
FRUSTRATION_CUES = ("acknowledge-frustration",)
AGENT_SLOWER = 1.18


@dataclass
class Line:
    who: str
    emotion: str
    word: str
    audio: np.ndarray
    start: float = 0.0

    @property
    def end(self) -> float:
        return self.start + len(self.audio) / RATE

    @property
    def frustrated(self) -> bool:
        return self.who == "customer" and self.emotion in FRUSTRATED


@dataclass
class Call:
    name: str
    kind: str
    lines: list[Line] = field(default_factory=list)


def _emotion_dir(tess: Path, speaker: str, emotion: str) -> Path:
    for d in tess.iterdir():  # only the speaker's own folders are ever listed
        # "OAF_Pleasant_surprise": the folders' spelling varies, their start does not
        if d.is_dir() and d.name.lower().startswith(f"{speaker}_{emotion}".lower()):
            return d
    raise SystemExit(f"bench_voice: no folder {speaker}_{emotion} in {tess}")


def _load(path: Path, shift: bool) -> np.ndarray:
    import soundfile as sf
    import soxr

    x, sr = sf.read(str(path), dtype="float64", always_2d=True)
    x = x.mean(axis=1)
    if shift:  # the same actress as the agent: played 18 % slower, her pitch and formants 18 % lower
        sr = sr / AGENT_SLOWER  # (Praat's "Change gender" would be nicer, but it is not repeatable)
    x = soxr.resample(x, sr, RATE)
    loud = np.flatnonzero(np.abs(x) > 0.01)  # the line's bounds are the speech's bounds
    return x[loud[0]: loud[-1] + 1] if len(loud) else x


class Lines:
    def __init__(self, tess: Path, speaker: str, shift: bool) -> None:
        self.tess, self.speaker, self.shift = tess, speaker, shift
        self._files: dict[str, list[Path]] = {}

    def files(self, emotion: str) -> list[Path]:
        if emotion not in self._files:
            self._files[emotion] = sorted(_emotion_dir(self.tess, self.speaker, emotion).glob("*.wav"))
        return self._files[emotion]

    def draw(self, rng: np.random.Generator, emotion: str, who: str, used: set[str]) -> Line:
        files = [f for f in self.files(emotion) if f.name not in used]
        f = files[int(rng.integers(len(files)))]
        used.add(f.name)
        word = f.stem.split("_")[1]
        return Line(who, emotion, word, _load(f, self.shift))


def plan(kind: str, rng: np.random.Generator) -> list[str]:
    if kind == "escalating":
        rest = ["angry"] * 4 + ["neutral"] * 2 + ["disgust"]
        tail = list(rng.permutation(rest[1:]))
        return ["neutral"] * 5 + ["angry"] + [str(e) for e in tail]
    if kind == "calm":
        return [str(e) for e in rng.permutation(["neutral"] * 4 + ["happy"] * 4 + ["pleasant"] * 4)]
    if kind == "angry-start":
        return ["angry"] * 4 + ["neutral"] * 6 + ["angry"] * 2
    raise ValueError(kind)


def build(kind: str, n: int, rng: np.random.Generator, customer: Lines, agent: Lines) -> Call:
    call = Call(f"{kind}-{n}", kind)
    used: set[str] = set()
    used_agent: set[str] = set()
    t = 0.8
    for emotion in plan(kind, rng):
        for line in (agent.draw(rng, "neutral", "agent", used_agent), customer.draw(rng, emotion, "customer", used)):
            line.start = round(t, 3)
            call.lines.append(line)
            t = line.end + float(rng.uniform(0.5, 1.0))
    return call


def write(call: Call, folder: Path, rng: np.random.Generator) -> tuple[Path, Path]:
    import soundfile as sf

    total = max(line.end for line in call.lines) + 1.0
    n = int(total * RATE) + 1
    ch = {"agent": np.zeros(n), "customer": np.zeros(n)}
    for line in call.lines:
        i = int(round(line.start * RATE))
        ch[line.who][i: i + len(line.audio)] += line.audio
    g = 10 ** (BLEED_DB / 20)
    delay = 80  # 5 ms: each voice reaches the other microphone a little later
    a, c = ch["agent"].copy(), ch["customer"].copy()
    ch["agent"][delay:] += g * c[:-delay]
    ch["customer"][delay:] += g * a[:-delay]
    for k in ch:
        ch[k] += 10 ** (NOISE_DB / 20) * rng.standard_normal(n)
    stereo = np.stack([ch["agent"], ch["customer"]], axis=1)
    peak = np.abs(stereo).max()
    if peak > 0.98:
        stereo *= 0.98 / peak
    wav, vtt = folder / f"{call.name}.wav", folder / f"{call.name}.vtt"
    sf.write(str(wav), stereo, RATE, subtype="PCM_16")

    def ts(x: float) -> str:
        m, s = divmod(x, 60)
        return f"00:{int(m):02d}:{s:06.3f}"

    truth = [{"who": ln.who, "start": ln.start, "end": round(ln.end, 3), "emotion": ln.emotion, "word": ln.word,
              "frustrated": ln.frustrated} for ln in call.lines]
    (folder / f"{call.name}.truth.json").write_text(json.dumps({"kind": call.kind, "utterances": truth}, indent=1))
    vtt.write_text("WEBVTT\n" + "".join(f"\n{ts(line.start)} --> {ts(line.end)}\n<v {line.who}>Say the word "
                                        f"{line.word}\n" for line in call.lines))
    return wav, vtt


def auc(pos: list[float], neg: list[float]) -> float | None:
    if not pos or not neg:
        return None
    return sum((p > q) + 0.5 * (p == q) for p in pos for q in neg) / (len(pos) * len(neg))


@dataclass
class Result:
    pos: list[float]
    neg: list[float]
    lines: list[str]  # each customer line's emotion and score, in order
    warns: list[str]
    delay: float | None  # first angry line's start to the first frustration cue at or after it
    early: int  # frustration cues before the first angry line


def score(call: Call, events: list) -> Result:
    from callcue.engine.events import Cue, Utterance

    utts = [e for e in events if isinstance(e, Utterance) and e.who == "customer" and e.frustration is not None]
    pos, neg, shown = [], [], []
    for line in call.lines:
        if line.who != "customer":
            continue
        best, best_ov = None, 0.0
        for u in utts:
            ov = min(line.end, u.end) - max(line.start, u.start)
            if ov > best_ov:
                best, best_ov = u, ov
        if best is not None:
            (pos if line.frustrated else neg).append(best.frustration)
        shown.append(line.emotion[:2] + ('-' if best is None else str(round(100 * best.frustration))))
    cues = [e for e in events if isinstance(e, Cue)]
    warns = [f"{c.id}@{c.at:.0f}" for c in cues if c.severity in ("warn", "alert")]
    first = next((line.start for line in call.lines if line.frustrated and line.emotion == "angry"), None)
    fc = [c.at for c in cues if c.id in FRUSTRATION_CUES]
    delay = early = None
    if first is not None:
        after = [t for t in fc if t >= first]
        delay = round(after[0] - first, 2) if after else None
        early = sum(t < first for t in fc)
    return Result(pos, neg, shown, warns, delay, early or 0)


def overrides(pairs: list[str]) -> Path | None:
    """--set frustration.voice_weight=0.3 ...: a team playbook with just those keys (for the ablation)."""
    if not pairs:
        return None
    lines: dict[str, list[str]] = {}
    for p in pairs:
        key, value = p.split("=", 1)
        section, name = key.rsplit(".", 1)
        lines.setdefault(section, []).append(f"{name} = {value}")
    fd, path = tempfile.mkstemp(suffix=".toml")
    with os.fdopen(fd, "w") as f:
        for section, items in lines.items():
            f.write(f"[{section}]\n" + "\n".join(items) + "\n")
    return Path(path)


def fmt(x: float | None) -> str:
    return "  -  " if x is None else f"{x:5.2f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tess", nargs="?", type=Path,
                    default=Path(os.environ.get("CALLCUE_TESS", DEFAULT_TESS)),
                    help="folder holding SPEAKER_emotion/ folders of TESS (default $CALLCUE_TESS or %(default)s)")
    ap.add_argument("--customer", default="OAF", help="the speaker whose lines are the customer's")
    ap.add_argument("--agent", default="OAF", help="the speaker whose neutral lines are the agent's")
    ap.add_argument("--calls", type=int, default=4, help="calls of each kind")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--playbook", type=Path)
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="SECTION.KEY=VALUE",
                    help="change one playbook key for this run (repeatable)")
    ap.add_argument("--keep", type=Path, help="write the calls here (outside the repository) and keep them")
    ap.add_argument("--quiet", action="store_true", help="only the totals")
    ap.add_argument("--lines", action="store_true", help="also each customer line's emotion and score")
    a = ap.parse_args()

    if not a.tess.is_dir():
        print(f"bench_voice: skipped: no TESS folder at {a.tess} (give it as an argument or in CALLCUE_TESS)")
        return 0
    if a.keep is not None and ROOT in a.keep.resolve().parents:
        print(f"bench_voice: --keep {a.keep} is inside the repository; TESS must never be committed")
        return 2
    from callcue.commands.analyze import analyze_file

    playbook = a.playbook
    extra = overrides(a.sets)
    if extra is not None:
        if playbook is not None:
            extra.write_text(playbook.read_text() + "\n" + extra.read_text())
        playbook = extra
    customer = Lines(a.tess, a.customer, shift=False)
    agent = Lines(a.tess, a.agent, shift=a.agent == a.customer)
    rng = np.random.default_rng(a.seed)
    folder = a.keep or Path(tempfile.mkdtemp(prefix="bench_voice_"))
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for kind in ("escalating", "calm", "angry-start"):
        for n in range(1, a.calls + 1):
            call = build(kind, n, rng, customer, agent)
            wav, vtt = write(call, folder, rng)
            with_t = score(call, analyze_file(str(wav), str(vtt), playbook=str(playbook) if playbook else None))
            without = score(call, analyze_file(str(wav), None, playbook=str(playbook) if playbook else None))
            rows.append((call, with_t, without))
    if a.keep is None:
        for f in folder.iterdir():
            f.unlink()
        folder.rmdir()

    print(f"customer {a.customer}, agent {a.agent}{' (pitch-shifted)' if agent.shift else ''}, "
          f"{a.calls} calls of each kind, seed {a.seed}" + (f", set {' '.join(a.sets)}" if a.sets else ""))
    if not a.quiet:
        print(f"{'call':<14} | {'with transcript':^44} | {'without transcript':^44}")
        print(f"{'':<14} | {'AUC':>5} {'delay':>5} {'early':>5}  warn/alert cues     "
              f"| {'AUC':>5} {'delay':>5} {'early':>5}  warn/alert cues")
        for call, r1, r2 in rows:
            cells = []
            for r in (r1, r2):
                d = fmt(r.delay) if r.delay is not None or call.kind == "calm" else " none"
                cells.append(f"{fmt(auc(r.pos, r.neg))} {d} {r.early if call.kind != 'calm' else '':>5}  "
                             f"{(','.join(r.warns) or '-')[:19]:<19}")
            print(f"{call.name:<14} | {cells[0]} | {cells[1]}")
            if a.lines:
                print(f"{'':<14}   with:    {' '.join(r1.lines)}\n{'':<14}   without: {' '.join(r2.lines)}")
    print(f"{'summary':<30} {'with transcript':>16} {'without':>10}")
    summary = []
    for i in (1, 2):
        res = [row[i] for row in rows]
        pooled = auc([p for r in res for p in r.pos], [q for r in res for q in r.neg])
        calm = [r for row, r in zip(rows, res, strict=True) if row[0].kind == "calm"]
        esc = [r for row, r in zip(rows, res, strict=True) if row[0].kind == "escalating"]
        start = [r for row, r in zip(rows, res, strict=True) if row[0].kind == "angry-start"]
        calm_warn = sum(bool(r.warns) for r in calm)
        delays = [r.delay for r in esc]
        in3 = sum(d is not None and d <= 3.0 for d in delays)
        start_auc = [auc(r.pos, r.neg) for r in start]
        summary.append(dict(pooled=f"{pooled:.3f}", calm=f"{calm_warn}/{len(calm)}",
                            cue3=f"{in3}/{len(esc)}",
                            delays=",".join("-" if d is None else f"{d:.1f}" for d in delays),
                            early=str(sum(r.early for r in esc)),
                            start=",".join(f"{x:.2f}" for x in start_auc if x is not None),
                            start_min=f"{min(x for x in start_auc if x is not None):.2f}",
                            esc_auc=",".join(f"{auc(r.pos, r.neg):.2f}" for r in esc)))
    labels = [("pooled", "pooled AUC"), ("calm", "calm calls with a warn/alert"),
              ("cue3", "escalating: cue within 3 s"), ("delays", "  delays (s)"),
              ("early", "  cues before the first angry"), ("esc_auc", "escalating per-call AUC"),
              ("start", "angry-start per-call AUC"), ("start_min", "  lowest")]
    for key, label in labels:
        print(f"{label:<30} {summary[0][key]:>16} {summary[1][key]:>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
