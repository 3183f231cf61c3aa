"""How many cues an agent sees: cues a minute on the shared calls and the demo, beside the playbook's budget.

  python bench/bench_cues.py [--calls DIR] [--profile NAME]

For each call (with its transcript, and without), the cues shown (a cue replaced before it could be
read does not count), cues a minute, the most in any minute, and the cues held back by reason.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "desktop"))
SHARED = ROOT.parent / "shared"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=Path, default=SHARED / "calls")
    ap.add_argument("--profile")
    a = ap.parse_args()

    from callcue.calls.offline import analyze_recording
    from callcue.calls.recipe import demo_files
    from callcue.engine.cues import CueBudget
    from callcue.engine.events import Summary
    from callcue.engine.playbook import load_playbook

    budget = CueBudget.of(load_playbook(None, a.profile))
    print(f"budget: at most {budget.max_per_call} cues a call, each {budget.show_s:.0f} s on screen "
          f"(at least {budget.min_show_s:.0f} s unless an alert replaces it), one at a time")
    calls = [(w, w.with_suffix(".vtt")) for w in sorted(a.calls.glob("*.wav"))] if a.calls.is_dir() else []
    if not calls:
        print(f"bench_cues: no calls in {a.calls}; only the demo")
    calls.append(demo_files())
    print(f"{'call':24} {'words':6} {'min':>5} {'cues':>4} {'/min':>5} {'max in a min':>12}  held back")
    total_cues = total_min = 0.0
    for audio, vtt in calls:
        for words in (True, False):
            events = analyze_recording(str(audio), str(vtt) if words else None, profile=a.profile)
            summary = events[-1]
            assert isinstance(summary, Summary)
            minutes = summary.duration_s / 60
            shown = [c for c in summary.cues_shown if c["outcome"] != "replaced"]
            per_minute = Counter(int(c["at"] // 60) for c in shown)
            held = Counter(h["reason"] for h in summary.cues_held)
            total_cues += len(shown)
            total_min += minutes
            print(f"{audio.stem:24} {'yes' if words else 'no':6} {minutes:5.1f} {len(shown):4d} "
                  f"{len(shown) / minutes:5.1f} {max(per_minute.values(), default=0):12d}  "
                  f"{', '.join(f'{k} {v}' for k, v in sorted(held.items())) or '-'}")
    print(f"all: {total_cues:.0f} cues in {total_min:.1f} min = {total_cues / total_min:.1f} a minute")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
