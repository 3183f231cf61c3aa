"""Benchmark the PyInstaller bundle: build time, size without a model, and start-up times.

  python bench/bench_bundle.py [--out DIR] [--runs N] [--dist DIR] [--json FILE]

Builds build.spec from clean into --out (default: a temporary folder), then measures:
  - the bundle's size without a model (decimal MB and MiB) and its biggest parts;
  - `callcue --version` and `callcue --self-test`, wall time from process start to exit;
  - the overlay: from starting `callcue` (no arguments) to its window being mapped on an X
    display (its own Xvfb; needs Xvfb and xdotool), for the frozen app and, for comparison,
    from source. The time is found by polling xdotool every 5 ms, so it is accurate to ~10 ms.
--dist DIR skips the build and measures an existing dist/callcue folder.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AIM_MB = 250
AIM_OVERLAY_S = 1.5


def build(out: Path) -> tuple[Path, float]:
    env = dict(os.environ)
    env.pop("CALLCUE_BUILD_MODEL", None)
    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--distpath", str(out / "dist"),
           "--workpath", str(out / "work"), str(ROOT / "build.spec")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit("build failed:\n" + proc.stderr[-4000:])
    return out / "dist" / "callcue", seconds


def tree_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def biggest(folder: Path, n: int = 12) -> list[tuple[str, int]]:
    internal = folder / "_internal"
    parts = []
    for child in internal.iterdir():
        if child.is_symlink():
            continue
        if child.name == "PySide6":
            for sub in (child / "Qt" / "lib", child / "Qt" / "plugins"):
                if sub.exists():
                    parts.append((f"PySide6/Qt/{sub.name}", tree_size(sub)))
            rest = tree_size(child) - sum(s for name, s in parts if name.startswith("PySide6/"))
            parts.append(("PySide6 (bindings)", rest))
            continue
        parts.append((child.name, tree_size(child) if child.is_dir() else child.stat().st_size))
    return sorted(parts, key=lambda p: -p[1])[:n]


def wall(cmd: list[str], env: dict[str, str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, stdin=subprocess.DEVNULL)
    return time.perf_counter() - t0, proc.returncode


class Xvfb:
    """A private X server on a display number of its own (others' tests like :0 and :99). -displayfd tells
    when it accepts clients; -noreset keeps it from restarting, and refusing clients meanwhile, each time
    the last client leaves."""

    def __enter__(self) -> str:
        number = next(n for n in range(300 + os.getpid() % 200, 1000) if not Path(f"/tmp/.X{n}-lock").exists())
        read, write = os.pipe()
        self.proc = subprocess.Popen(["Xvfb", f":{number}", "-displayfd", str(write), "-screen", "0", "1920x1080x24",
                                      "-nolisten", "tcp", "-noreset"], pass_fds=(write,), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        os.close(write)
        with os.fdopen(read) as f:
            return ":" + f.readline().strip()

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def time_to_window(cmd: list[str], env: dict[str, str], timeout: float = 30.0) -> float | None:
    """Seconds from starting `cmd` until a visible window named Callcue exists; None if it never does."""
    err = tempfile.TemporaryFile()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL)
    try:
        while time.perf_counter() - t0 < timeout:
            found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "^Callcue$"], env=env,
                                   capture_output=True, text=True)
            if found.stdout.strip():
                return time.perf_counter() - t0
            if proc.poll() is not None:
                break
            time.sleep(0.005)
        err.seek(0)
        print(f"  {' '.join(cmd)}: no window (exit code {proc.poll()}): "
              f"{err.read().decode(errors='replace')[-500:]}", file=sys.stderr)
        return None
    finally:
        err.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def summary(values: list[float]) -> dict[str, float]:
    return {"first": round(values[0], 3), "median": round(statistics.median(values), 3),
            "min": round(min(values), 3), "max": round(max(values), 3), "runs": len(values)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, help="build folder (default: a temporary one, removed after)")
    ap.add_argument("--dist", type=Path, help="measure this dist/callcue folder instead of building")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    a = ap.parse_args()

    results: dict = {}
    tmp = None
    if a.dist:
        bundle = a.dist
    else:
        out = a.out or Path(tmp := tempfile.mkdtemp(prefix="callcue-bench-"))
        print(f"building build.spec into {out} ...", flush=True)
        bundle, seconds = build(out)
        results["build_s"] = round(seconds, 1)
        print(f"build time (clean): {seconds:.1f} s")
    exe = bundle / ("callcue.exe" if sys.platform == "win32" else "callcue")

    size = tree_size(bundle) - (tree_size(bundle / "models") if (bundle / "models").exists() else 0)
    results["size_mb"] = round(size / 1e6, 1)
    results["size_mib"] = round(size / 2**20, 1)
    results["biggest"] = {name: round(s / 1e6, 1) for name, s in biggest(bundle)}
    verdict = "within" if size / 1e6 <= AIM_MB else "OVER"
    print(f"size without a model: {size / 1e6:.1f} MB ({size / 2**20:.1f} MiB), {verdict} the aim of {AIM_MB} MB")
    for name, s in biggest(bundle):
        print(f"  {s / 1e6:7.1f} MB  {name}")

    with tempfile.TemporaryDirectory(prefix="callcue-bench-home-") as home:
        env = dict(os.environ, CALLCUE_DATA_DIR=f"{home}/data", CALLCUE_CONFIG_DIR=f"{home}/config",
                   CALLCUE_MANAGED_CONFIG="")
        env.pop("PYTHONPATH", None)
        version = [wall([str(exe), "--version"], env)[0] for _ in range(a.runs)]
        results["version_s"] = summary(version)
        print(f"`callcue --version`: median {results['version_s']['median']:.2f} s (first {version[0]:.2f} s)")
        selftest, code = wall([str(exe), "--self-test"], dict(env, QT_QPA_PLATFORM="offscreen"))
        results["self_test_s"] = round(selftest, 2)
        print(f"`callcue --self-test` (no model in the bundle): {selftest:.2f} s, exit code {code}")

        if shutil.which("Xvfb") and shutil.which("xdotool"):
            with Xvfb() as display:
                genv = {k: v for k, v in env.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
                genv["DISPLAY"] = display
                for label, cmd in (("frozen", [str(exe)]), ("source", [sys.executable, "-m", "callcue"])):
                    times = [time_to_window(cmd, genv) for _ in range(a.runs)]
                    if any(t is None for t in times):
                        print(f"overlay ({label}): no window appeared")
                        results[f"overlay_{label}_s"] = None
                        continue
                    results[f"overlay_{label}_s"] = summary(times)  # type: ignore[arg-type]
                    s = results[f"overlay_{label}_s"]
                    ok = "within" if s["median"] <= AIM_OVERLAY_S else "OVER"
                    print(f"overlay shown ({label}, `callcue` with no arguments, Xvfb): median {s['median']:.2f} s, "
                          f"first {s['first']:.2f} s, max {s['max']:.2f} s; {ok} the aim of {AIM_OVERLAY_S} s")
        else:
            print("overlay: not measured (needs Xvfb and xdotool)")

    if a.json:
        a.json.write_text(json.dumps(results, indent=2) + "\n")
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
