"""Benchmark the chat engine's frustration on real customer chats (MAIA-DQE), beside plain VADER.

  python bench/bench_chat.py [--data DIR] [--split test|val|train|all] [--tune]

Each dialogue runs through a ChatSession exactly as `callcue chat analyze` would run it:
the customer's sentences (`text_mt`, English machine translation) and the agent's
(`text_src`) go in as messages in order, and a customer sentence counts as
"frustrated" when its `frustration` is 0.5 or more (the playbook's [chat.frustration]
center). The baseline is plain VADER (the vaderSentiment package): compound < -0.05.
"Frustrated" is scored two ways: frustration or anger; frustration, anger or disappointment.

--tune searches the [chat.frustration] weights on the train and validation splits only
(never on test) and prints them as TOML; it changes no file.

The data's licence (CC BY-ND 4.0) allows measuring with it, nothing more: nothing here
writes or ships anything derived from it.
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "maia-dqe"
DEFINITIONS = {"frustration|anger": (5, 6), "frustration|anger|disappointment": (3, 5, 6)}
TARGET = 1.5


@dataclass
class Sentence:
    who: str
    text: str
    emotion: int | None


def load(data: Path) -> dict[str, list[tuple[str, list[Sentence]]]]:
    split_of: dict[str, str] = {}
    for f in sorted(glob.glob(str(data / "*_splits_a.json"))):
        for split, ids in json.loads(Path(f).read_text()).items():
            for i in ids:
                split_of[i] = split
    out: dict[str, list[tuple[str, list[Sentence]]]] = {"train": [], "val": [], "test": []}
    files = [f for f in sorted(glob.glob(str(data / "*_a.json"))) if "_splits_" not in f]
    if not files:
        sys.exit(f"bench_chat: no MAIA-DQE dialogues in {data}; pass --data DIR")
    for f in files:
        for dlg in json.loads(Path(f).read_text()):
            seq: list[Sentence] = []
            for turn in dlg["turns"]:
                if turn["floor"] == "inbound":
                    seq += [Sentence("customer", s, e) for s, e in zip(turn["text_mt"], turn["Emotion"], strict=True)]
                else:
                    seq += [Sentence("agent", s, None) for s in turn["text_src"]]
            out[split_of[dlg["id"]]].append((dlg["id"], seq))
    return out


def prf(pred: list[bool], gold: list[bool]) -> tuple[float, float, float]:
    tp = sum(p and g for p, g in zip(pred, gold, strict=True))
    fp = sum(p and not g for p, g in zip(pred, gold, strict=True))
    fn = sum(g and not p for p, g in zip(pred, gold, strict=True))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def run_sessions(dialogues: list[tuple[str, list[Sentence]]], playbook: Any) -> tuple[list[float], list[int]]:
    """The engine's frustration of every customer sentence, and its label."""
    from callcue.chat.engine import ChatSession
    from callcue.engine.events import Utterance

    scores: list[float] = []
    labels: list[int] = []
    for chat_id, seq in dialogues:
        session = ChatSession(chat_id=chat_id, playbook=playbook)
        for s in seq:
            events = session.add(s.who, s.text)
            if s.who == "customer":
                utt = [e for e in events if isinstance(e, Utterance)]
                scores.append(utt[0].frustration if utt else 0.0)  # an empty line is not frustrated
                labels.append(s.emotion if s.emotion is not None else 2)
    return scores, labels


def vader_scores(dialogues: list[tuple[str, list[Sentence]]]) -> list[float]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    sia = SentimentIntensityAnalyzer()
    return [sia.polarity_scores(s.text)["compound"] for _, seq in dialogues for s in seq if s.who == "customer"]


def report(data: dict[str, list[tuple[str, list[Sentence]]]], splits: list[str], playbook: Any) -> bool:
    ok = True
    line = f"{'split':<6} {'frustrated =':<34} {'n':>5} {'pos':>4}   {'VADER P':>7} {'R':>5} {'F1':>5}   " \
           f"{'chat P':>6} {'R':>5} {'F1':>5}   {'x VADER':>7}"
    print(line)
    print("-" * len(line))
    for split in splits:
        t0 = time.perf_counter()
        scores, labels = run_sessions(data[split], playbook)
        secs = time.perf_counter() - t0
        vader = vader_scores(data[split])
        for name, labs in DEFINITIONS.items():
            gold = [e in labs for e in labels]
            vp, vr, vf = prf([c < -0.05 for c in vader], gold)
            cp, cr, cf = prf([s >= 0.5 for s in scores], gold)
            ratio = cf / vf if vf else float("inf")
            mark = "ok" if ratio >= TARGET else "BELOW 1.5x"
            if split == "test" and ratio < TARGET:
                ok = False
            print(f"{split:<6} {name:<34} {len(gold):>5} {sum(gold):>4}   {vp:7.3f} {vr:5.3f} {vf:5.3f}   "
                  f"{cp:6.3f} {cr:5.3f} {cf:5.3f}   {ratio:6.2f}x  {mark}")
        print(f"{'':<6} ({len(scores)} customer sentences in {len(data[split])} chats, "
              f"{1000 * secs / max(1, len(scores)):.2f} ms a message through ChatSession)")
    return ok


# ---- tuning on train + val -------------------------------------------------------------------

GRID: dict[str, list[float]] = {
    "sentiment": [0.0, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8],
    "phrases": [0.1, 0.2, 0.3, 0.45],
    "escalation": [0.0, 0.15, 0.3, 0.5],
    "sarcasm": [0.0, 0.1, 0.2, 0.3],
    "effort": [0.0, 0.1, 0.2, 0.3],
    "pressure": [0.0, 0.1, 0.2, 0.3, 0.4],
    "negation": [0.1, 0.2, 0.3],
    "capitals": [0.2, 0.4, 0.6, 0.8, 1.0],
    "marks": [0.0, 0.1, 0.2],
    "question": [-0.3, -0.2, -0.1, 0.0],
    "thanks": [-0.45, -0.3, -0.15, 0.0],
    "short": [-0.3, -0.2, -0.1, 0.0],
    "positive": [-0.2, -0.1, 0.0],
    "after_apology": [0.0, 0.1, 0.2],
    "burst": [0.0, 0.25, 0.5, 0.75],
    "earlier": [0.0, 0.1, 0.25, 0.4],
    "earlier_decay": [0.3, 0.5, 0.7, 0.85],
    "failure": [-0.1, 0.0, 0.1, 0.2, 0.3],
    "billing": [0.0, 0.1, 0.2, 0.3, 0.45],
    "very_negative": [0.0, 0.1, 0.2, 0.3, 0.45],
    "negotiation": [0.0, 0.1, 0.2, 0.3],
    "answer": [-0.6, -0.4, -0.3, -0.2, -0.1, 0.0],
}


def _features(dialogues: list[tuple[str, list[Sentence]]]) -> list[list[tuple[str, Any, int]]]:
    from callcue.chat.engine import shared_analyzer
    from callcue.chat.scoring import apologised, chat_phrases, message_features

    analyzer, phrases = shared_analyzer(), chat_phrases()
    out = []
    for _, seq in dialogues:
        rows: list[tuple[str, Any, int]] = []
        for s in seq:
            if not s.text.strip():
                continue
            if s.who == "customer":
                rows.append(("customer", message_features(s.text, analyzer, phrases)[0], s.emotion or 2))
            else:
                rows.append(("agent", (apologised(s.text, analyzer.analyze(s.text)), "?" in s.text), -1))
        out.append(rows)
    return out


def _scores(feats: list[list[tuple[str, Any, int]]], weights: dict[str, Any]) -> list[tuple[float, int]]:
    from callcue.chat.scoring import ChatFrustration

    out = []
    for rows in feats:
        fr = ChatFrustration(dict(weights))
        for who, f, label in rows:
            if who == "agent":
                fr.agent(*f)
            else:
                out.append((fr.customer(f)[0], label))
    return out


def _best_center(scored: list[tuple[float, int]], base: tuple[float, float]) -> tuple[float, float]:
    """The threshold that maximises the smaller of the two F1 ratios over VADER; (ratio, threshold)."""
    ranked = sorted(scored, key=lambda x: -x[0])
    totals = [sum(1 for _, e in scored if e in labs) for labs in DEFINITIONS.values()]
    tp = [0, 0]
    best = (0.0, 0.0)
    for i, (s, e) in enumerate(ranked):
        for k, labs in enumerate(DEFINITIONS.values()):
            tp[k] += e in labs
        if i + 1 < len(ranked) and ranked[i + 1][0] == s:
            continue
        f1 = [2 * tp[k] / (i + 1 + totals[k]) for k in range(2)]
        ratio = min(f1[0] / base[0], f1[1] / base[1])
        if ratio > best[0]:
            nxt = ranked[i + 1][0] if i + 1 < len(ranked) else s - 0.1
            best = (ratio, round((s + nxt) / 2, 3))
    return best


def _vader_base(dialogues: list[tuple[str, list[Sentence]]]) -> tuple[float, float]:
    gold_v = vader_scores(dialogues)
    labels = [s.emotion for _, seq in dialogues for s in seq if s.who == "customer"]
    f1 = [prf([c < -0.05 for c in gold_v], [e in labs for e in labels])[2] for labs in DEFINITIONS.values()]
    return f1[0], f1[1]


def _search(feats: list[list[tuple[str, Any, int]]], base: tuple[float, float],
            weights: dict[str, Any]) -> tuple[dict[str, Any], float]:
    """Coordinate search over GRID from `weights`; (weights with their center, min F1 ratio)."""
    best = _best_center(_scores(feats, weights), base)
    for _ in range(3):
        improved = False
        for key, values in GRID.items():
            for v in values:
                trial = {**weights, key: v}
                got = _best_center(_scores(feats, trial), base)
                if got[0] > best[0] + 1e-4:
                    best, weights, improved = got, trial, True
        if not improved:
            break
    return {**weights, "center": best[1]}, best[0]


def tune(data: dict[str, list[tuple[str, list[Sentence]]]], playbook: Any, bags: int) -> None:
    """Search the weights on train+val. With bags > 1, search each of `bags` resamples of the
    dialogues (drawn with replacement, fixed seed) and average what they found: one search
    follows the quirks of 200 chats; the average keeps what most resamples agree on."""
    import random

    dialogues = data["train"] + data["val"]
    feats = _features(dialogues)
    base = _vader_base(dialogues)
    print(f"train+val: VADER F1 {base[0]:.3f} / {base[1]:.3f}; searching {len(GRID)} weights "
          f"in {bags} resample(s) ...", file=sys.stderr)
    start = dict(playbook.section("chat")["frustration"])
    if bags <= 1:
        weights, ratio = _search(feats, base, start)
    else:
        rng = random.Random(7)
        found = []
        for b in range(bags):
            pick = [rng.randrange(len(dialogues)) for _ in dialogues]
            w, r = _search([feats[i] for i in pick], _vader_base([dialogues[i] for i in pick]), start)
            print(f"  resample {b + 1}: min F1 ratio {r:.3f}", file=sys.stderr)
            found.append(w)
        keys = dict.fromkeys(k for w in found for k in w)  # a weight the playbook lacks counts as 0
        weights = {k: round(sum(float(w.get(k, 0.0)) for w in found) / bags, 3) for k in keys}
        ratio, center = _best_center(_scores(feats, weights), base)
        weights["center"] = center
    print(f"  min F1 ratio over VADER on train+val: {ratio:.3f} at center {weights['center']}", file=sys.stderr)
    print(f"[chat.frustration]  # tuned on MAIA-DQE train+val, {bags} resample(s)")
    for k, v in weights.items():
        print(f"{k} = {v}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--split", choices=["test", "val", "train", "all"], default="test")
    ap.add_argument("--tune", action="store_true", help="search the weights on train+val and print them")
    ap.add_argument("--bags", type=int, default=1, help="with --tune: average the search over N resamples")
    ap.add_argument("--playbook", help="a playbook TOML (default: the bundled one)")
    ap.add_argument("--profile")
    a = ap.parse_args()

    from callcue.engine.playbook import load_playbook

    pb = load_playbook(a.playbook, a.profile)
    data = load(a.data)
    if a.tune:
        tune(data, pb, a.bags)
        return 0
    splits = ["train", "val", "test"] if a.split == "all" else [a.split]
    ok = report(data, splits, pb)
    if "test" in splits:
        print("target: chat F1 >= 1.5x VADER's on test for both definitions:", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
