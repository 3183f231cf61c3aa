"""How long does the overlay's event loop stall while the demo call plays?

  python bench/bench_ui_stall.py [--speed X] [--model PATH] [--platform offscreen|xcb] [--repeat N]

The overlay runs the bundled demo call through the real worker thread (engine, and Vosk with
--model) while a 5 ms QTimer in the UI thread notes when it fires. A stall is a gap between two
firings beyond the 5 ms asked for: the time the UI could not react to the agent. The aim is a
longest stall under 50 ms. The wall clock is read here, never in the engine.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time


def run_once(speed: float, model: str | None, use_model: bool) -> dict:
    from PySide6.QtCore import QTimer

    from callcue.calls.recipe import preload
    from callcue.settings import Settings
    from callcue.ui.overlay import Overlay, app_instance
    from callcue.ui.workers import CallWorker

    app = app_instance()
    preload()  # as `callcue` does before its window runs
    settings = Settings()

    def make() -> CallWorker:
        w = CallWorker(settings, "demo", speed=speed, use_model=use_model or bool(model))
        if model:  # decode the demo with this model whatever its language
            w.spec = dataclasses.replace(w.spec, model=model, any_language=True)
        return w

    o = Overlay(settings, None, worker_factory=make)
    o.show()
    gaps: list[float] = []
    last = [0.0]
    cues = [0]
    o.cueChanged.connect(lambda cue: cues.__setitem__(0, cues[0] + (cue is not None)))

    long_ones: list[tuple[float, float]] = []  # (seconds into the run, gap) of gaps over 20 ms

    def beat() -> None:
        now = time.perf_counter()
        if last[0]:
            gaps.append(now - last[0])
            if now - last[0] > 0.020:
                long_ones.append((round(now - started, 2), round(1000 * (now - last[0]), 1)))
        last[0] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(beat)

    def finished() -> None:
        if o.state.phase.name in ("ended", "error"):
            timer.stop()
            app.quit()

    started = time.perf_counter()
    o.start_call()
    o.stateChanged.connect(finished)  # emitted in the UI thread once the overlay has taken the phase
    timer.start()
    app.exec()
    wall = time.perf_counter() - started
    o.shutdown()
    o.close()
    gaps.sort()
    stalls = [max(0.0, g - 0.005) for g in gaps]
    return {
        "speed": speed,
        "model": model,
        "words": o.state.words,
        "phase": o.state.phase.message,
        "wall_s": round(wall, 2),
        "cues_shown": cues[0],
        "timer_firings": len(gaps),
        "longest_gap_ms": round(1000 * gaps[-1], 1) if gaps else None,
        "longest_stall_ms": round(1000 * max(stalls), 1) if stalls else None,
        "p99_gap_ms": round(1000 * gaps[int(0.99 * (len(gaps) - 1))], 1) if gaps else None,
        "gaps_over_50ms": sum(g > 0.050 for g in gaps),
        "gaps_over_20ms_at": long_ones[:20],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--speed", type=float, default=1.0, help="demo speed (1 = real time, the real case)")
    ap.add_argument("--model", help="decode the demo live with this Vosk model folder or name")
    ap.add_argument("--platform", default="offscreen", help="Qt platform (offscreen, or xcb with a display)")
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    os.environ["QT_QPA_PLATFORM"] = a.platform
    results = [run_once(a.speed, a.model, use_model=False) for _ in range(a.repeat)]
    for r in results:
        print(json.dumps(r))
    worst = max(r["longest_stall_ms"] or 0 for r in results)
    print(f"longest event-loop stall: {worst:.1f} ms (aim < 50 ms)", file=sys.stderr)
    return 0 if worst < 50 else 1


if __name__ == "__main__":
    raise SystemExit(main())
