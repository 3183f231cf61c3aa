"""The process's memory allocator: Callcue runs on jemalloc where it can (Linux), glibc's malloc otherwise.

Why: a Vosk model with a lookahead graph holds millions of small per-state vectors (the labels
reachable from each state), and a decoding recognizer caches more of them as it goes. glibc's
malloc spends a header and a rounding on each; jemalloc packs small blocks by size class. Measured
on the Korean model (this machine): the model takes 497 MB resident with glibc and 447 MB with
jemalloc, and a whole `callcue listen` process holds about 630 MB at the start of a call with
glibc and about 560 MB with jemalloc. What is saved goes to the recognizers' caches (see
speech.live.default_cache_mb), which is what makes decoding cheap: bench/bench_live.py, under the
same 800 MB, real-time factor per channel 0.21-0.25 with glibc, 0.14-0.21 with jemalloc.

How: an allocator must be in place before the process's first malloc, so `callcue` starts itself
again at once with jemalloc in LD_PRELOAD (`relaunch`), only once, and the second process puts the
environment back as it was, so programs Callcue starts (pactl, a browser) do not inherit it.
jemalloc comes from beside the executable (build.spec ships it) or from the system (Debian and
Ubuntu: libjemalloc2). CALLCUE_MALLOC=system keeps glibc's (IT's choice, or to compare).

jemalloc is told to give freed pages back at once (as glibc's trim does, speech.heap): the memory
budget reads resident memory, and pages kept for reuse would count against the caches.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
import sysconfig
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ENV_CHOICE = "CALLCUE_MALLOC"  # "system": do not use jemalloc
ENV_RESTORE = "_CALLCUE_MALLOC_RESTORE"  # set in the second process: what to put back
SONAME = "libjemalloc.so.2"
CONF = "dirty_decay_ms:0,muzzy_decay_ms:0"
_PRELOAD_VARS = ("LD_PRELOAD", "MALLOC_CONF")


@dataclass(frozen=True)
class Relaunch:
    executable: str
    argv: list[str]
    env: dict[str, str]


def active() -> str:
    """The allocator this process runs on: "jemalloc" or "system"."""
    try:
        return "jemalloc" if hasattr(ctypes.CDLL(None), "mallctl") else "system"
    except OSError:  # no C library symbols to look at (Windows)
        return "system"


def declined(env: Mapping[str, str]) -> bool:
    """Was glibc's malloc asked for (CALLCUE_MALLOC=system)?"""
    return env.get(ENV_CHOICE, "").lower() == "system"


def find_jemalloc(beside: Path | None = None) -> str | None:
    """jemalloc's shared library: the one shipped in the bundle (`beside`), else the system's, else None.

    The system's is looked for where Debian, Ubuntu, Fedora and Arch put it, not with
    ctypes.util.find_library, which where there is none runs the C compiler and the linker to make
    sure: every `callcue` would start that much later."""
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    places = [beside] if beside is not None else []
    places += [Path(root) / multiarch for root in ("/usr/lib", "/lib") if multiarch]
    places += [Path(p) for p in ("/usr/lib64", "/usr/lib", "/usr/local/lib")]
    return next((str(p / SONAME) for p in places if (p / SONAME).is_file()), None)


def plan(env: Mapping[str, str], argv: list[str], executable: str, *, frozen: bool, platform: str,
         running: str, library: str | None) -> Relaunch | None:
    """How to start this command again on jemalloc, or None when it should go on as it is.

    `argv`: the command line as the interpreter got it (sys.orig_argv; for a frozen app, sys.argv).
    """
    if platform != "linux" or running == "jemalloc" or library is None or not executable:
        return None
    if declined(env) or ENV_RESTORE in env:
        return None  # asked not to, or this is the second start (jemalloc did not load: go on without)
    new = dict(env)
    new[ENV_RESTORE] = json.dumps({k: env.get(k) for k in _PRELOAD_VARS})
    new["LD_PRELOAD"] = f"{library}:{env['LD_PRELOAD']}" if env.get("LD_PRELOAD") else library
    new.setdefault("MALLOC_CONF", CONF)
    args = list(argv) if frozen else [executable, *argv[1:]]
    return Relaunch(executable, args, new)


def restore_environment(env: os._Environ | dict[str, str]) -> None:
    """In the second process: put back what `plan` changed, so child programs get the user's environment."""
    saved = env.pop(ENV_RESTORE, None)
    if saved is None:
        return
    try:
        before = json.loads(saved)
    except ValueError:
        return
    for key in _PRELOAD_VARS:
        if before.get(key) is None:
            env.pop(key, None)
        else:
            env[key] = before[key]


def relaunch() -> None:
    """Start this command again on jemalloc if it can be had (does not return then); else go on."""
    frozen = bool(getattr(sys, "frozen", False))
    beside = Path(getattr(sys, "_MEIPASS", Path(sys.executable).resolve().parent)) if frozen else None
    step = plan(os.environ, sys.argv if frozen else list(getattr(sys, "orig_argv", sys.argv)), sys.executable,
                frozen=frozen, platform=sys.platform, running=active(),
                library=find_jemalloc(beside) if sys.platform == "linux" else None)
    if step is None:
        restore_environment(os.environ)
        return
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(step.executable, step.argv, step.env)
    except OSError:  # cannot start again: go on with the allocator there is
        return
