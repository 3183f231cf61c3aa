"""`callcue --self-test`: can Callcue work on this PC? A report a help desk can read.

Each check says PASS, WARN (Callcue runs, with less) or FAIL (something a user will meet), with
what to do. The exit code is 0 when nothing failed, 1 otherwise. No check needs the internet, and
none leaves anything behind (test files are removed).

The window-system check runs in a child process (`callcue --self-test` again, with
CALLCUE_SELFTEST_PROBE=qt): a Qt platform plugin that cannot load aborts its whole process.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from callcue import __version__
from callcue.errors import CallcueError
from callcue.speech.models import captured_stderr

PROBE_ENV = "CALLCUE_SELFTEST_PROBE"
MIN_FREE_MB = 500  # an hour of two-channel audio is ~230 MB; less than this is a warning
LINUX_QT_PACKAGES = ("libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 "
                     "libxcb-shape0 libxcb-xinerama0 libxkbcommon-x11-0 libegl1 libfontconfig1")


@dataclass
class Check:
    name: str
    status: str  # "pass", "warn", "fail" or "skip"
    detail: str
    advice: str = ""
    seconds: float = 0.0


# ---------------------------------------------------------------- helpers


def self_command() -> list[str]:
    """How to start this same Callcue again: the frozen executable, or this Python with -m callcue."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "callcue"]


def _where() -> str:
    if getattr(sys, "frozen", False):
        return f"installed bundle {Path(sys.executable).resolve().parent}"
    return f"from source, Python {platform.python_version()} at {sys.executable}"


# ---------------------------------------------------------------- the checks


def check_managed() -> Check:
    from callcue import managed

    m = managed.current()
    if m.error:
        return Check("Managed settings", "fail", m.error,
                     "IT: fix the file at the line named (it is TOML), or remove it; until then every "
                     "setting is at its default and nothing is locked.")
    if m.source is None:
        where = managed.managed_path()
        why = f"{where} does not exist" if where else f"{managed.ENV_PATH} is empty"
        return Check("Managed settings", "pass", f"none ({why}): the defaults and the user's own settings apply")
    locked = ", ".join(sorted(m.locked)) or "none"
    detail = f"{m.source}: {len(m.values)} setting(s), locked: {locked}"
    if m.warnings:
        return Check("Managed settings", "warn", detail + "\n" + "\n".join(m.warnings),
                     "IT: fix or remove the entries named; the rest of the file applies.")
    return Check("Managed settings", "pass", detail)


def check_qt() -> Check:
    """Qt's libraries and the offscreen platform: a QApplication and a QWidget, drawn once."""
    saved = os.environ.get("QT_QPA_PLATFORM")
    from PySide6 import __version__ as pyside_version
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication.instance()
    if app is None:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        try:
            app = QApplication(["callcue-self-test"])
        finally:
            if saved is None:
                os.environ.pop("QT_QPA_PLATFORM", None)
            else:
                os.environ["QT_QPA_PLATFORM"] = saved
    label = QLabel("Callcue self-test 콜큐")
    label.resize(200, 40)
    picture = label.grab()
    label.deleteLater()
    if picture.isNull():
        return Check("Qt (windows)", "fail", "Qt loaded but could not draw a widget",
                     "Reinstall Callcue; the bundle's Qt files are damaged.")
    return Check("Qt (windows)", "pass", f"Qt {pyside_version} draws widgets "
                 f"(platform {QApplication.platformName()})")


def _has_display() -> str | None:
    """Why the native window check is skipped, or None to run it."""
    if os.environ.get("QT_QPA_PLATFORM", "").split(":")[0] in ("offscreen", "minimal", "vnc"):
        return f"QT_QPA_PLATFORM={os.environ['QT_QPA_PLATFORM']} (no real screen asked for)"
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "no desktop session (DISPLAY and WAYLAND_DISPLAY are unset)"
    return None


def check_display() -> Check:
    """The real window system (xcb, Wayland, Windows, Cocoa), tried in a child process."""
    why_not = _has_display()
    if why_not:
        return Check("Screen", "skip", f"not tried: {why_not}; run the self-test in the agent's desktop "
                     "session to check that the overlay can show")
    env = dict(os.environ, **{PROBE_ENV: "qt"})
    try:
        proc = subprocess.run(self_command() + ["--self-test"], env=env, capture_output=True, text=True,
                              timeout=60, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return Check("Screen", "fail", "opening a test window did not finish in 60 s",
                     "Check that the desktop session is responsive; restart the session and try again.")
    except OSError as err:
        return Check("Screen", "fail", f"could not start {self_command()[0]} ({err.strerror or err})",
                     "Reinstall Callcue.")
    out = proc.stdout.strip().splitlines()
    if proc.returncode == 0 and out and out[-1].startswith("ok "):
        return Check("Screen", "pass", f"a window opens on this desktop (platform {out[-1][3:]})")
    said = [ln for ln in proc.stderr.splitlines() if "qt.qpa" in ln or "plugin" in ln.lower()] or \
        proc.stderr.strip().splitlines()[-3:]
    advice = "The overlay cannot open on this desktop."
    if "could not connect to display" in proc.stderr:
        said = [ln for ln in proc.stderr.splitlines() if "could not connect to display" in ln]
        advice += (" The display named by DISPLAY cannot be reached: run the self-test from the agent's own "
                   "desktop session.")
    elif sys.platform.startswith("linux"):
        advice += f" On Debian/Ubuntu install: sudo apt-get install {LINUX_QT_PACKAGES}"
    return Check("Screen", "fail", f"a test window failed (exit code {proc.returncode}): "
                 + " / ".join(s.strip() for s in said)[:600], advice)


def probe_qt(out: TextIO) -> int:
    """The child side of check_display: open a window on the real screen and say which platform."""
    from PySide6.QtWidgets import QApplication, QWidget

    app = QApplication(["callcue-self-test"])
    w = QWidget()
    w.resize(120, 40)
    w.show()
    app.processEvents()
    w.close()
    out.write(f"ok {QApplication.platformName()}\n")
    out.flush()
    return 0


def check_audio() -> Check:
    failure = ""
    with captured_stderr():
        try:
            import sounddevice as sd
        except OSError as err:
            sd = None
            failure = str(err)
    if sd is None:
        advice = "Reinstall Callcue (the bundle carries PortAudio)."
        if sys.platform.startswith("linux"):
            advice = "Install PortAudio: sudo apt-get install libportaudio2"
        return Check("Audio devices", "fail", f"the audio library PortAudio cannot load ({failure})", advice)
    with captured_stderr():
        devices = sd.query_devices()
        try:
            default_in = sd.query_devices(kind="input")
        except Exception:  # PortAudio raises its own errors when there is no default input
            default_in = None
    inputs = [d for d in devices if d.get("max_input_channels", 0) > 0]
    if not inputs:
        if sys.platform.startswith("linux"):
            hint = ("Plug in the headset; check that the sound server runs (`pactl info`) and that the user "
                    "is in the 'audio' group.")
        elif sys.platform == "darwin":
            hint = ("Plug in the headset; allow Callcue in System Settings > Privacy & Security > Microphone.")
        else:
            hint = ("Plug in the headset; allow desktop apps in Settings > Privacy & security > Microphone.")
        return Check("Audio devices", "warn", "no microphone or capture device found: live listening will not "
                     "work (analysing recordings still does)", hint)
    names = ", ".join(sorted({str(d["name"]) for d in inputs})[:4])
    more = f" and {len(inputs) - 4} more" if len(inputs) > 4 else ""
    default = f"; default input: {default_in['name']}" if default_in else ""
    return Check("Audio devices", "pass", f"{len(inputs)} capture device(s): {names}{more}{default}"
                 f"{sound_server_sources()}")


def sound_server_sources() -> str:
    """What a PulseAudio/PipeWire server offers besides PortAudio's devices (`callcue devices` lists them):
    the monitors are where the customer's audio comes from."""
    from callcue.audio.pulse import list_sources

    sources = list_sources()
    if not sources:
        return ""
    monitors = sum(s.monitor for s in sources)
    default = next((s.description or s.name for s in sources if s.default), None)
    return (f"; sound server: {len(sources)} source(s), {monitors} of them monitor(s) of what the PC plays"
            + (f", default source: {default}" if default else ""))


def check_model() -> Check:
    from callcue.speech import models

    choice = models.model_choice()  # the one rule every command goes by
    ref = choice.ref
    if ref is None and choice.passed_over:  # it works, but no command uses it unless asked
        other, lang = choice.passed_over[0]
        report = models.verify(other)
        return Check("Speech model", "warn", f"{other.name} ({other.source}: {other.path}) decodes test audio, "
                     f"but it is for {lang!r} and a call's words are read as {models.CALL_LANG!r}: commands use "
                     "it only when asked (--model), so word-based cues are off",
                     f"Ask IT to ship a model for {models.CALL_LANG!r} in {models.paths.bundled_models_dir()}, "
                     f"or {models.install_hint()}")
    if ref is None:
        return Check("Speech model", "warn", "no speech model installed: live captions and word-based cues "
                     "are off (voice-based cues still work)",
                     f"Ask IT to ship one in {models.paths.bundled_models_dir()}, or {models.install_hint()}")
    report = models.verify(ref)
    if choice.warning:
        return Check("Speech model", "warn", f"{ref.name} ({ref.source}: {ref.path}) decodes test audio; "
                     f"{choice.warning}", models.install_hint())
    return Check("Speech model", "pass", f"{ref.name} ({ref.source}: {ref.path}) decodes test audio; "
                 f"loaded in {report.load_s:.1f} s; {report.note}")


def check_allocator() -> Check:
    from callcue import allocator
    from callcue.speech.live import default_cache_mb

    cache = f"a call's speech recognizers may keep {default_cache_mb()} MB of caches"
    if allocator.active() == "jemalloc":
        return Check("Memory allocator", "pass", f"jemalloc: {cache}")
    if sys.platform != "linux":
        return Check("Memory allocator", "pass", f"the system's: {cache}")
    if allocator.declined(os.environ):
        why, advice = f"{allocator.ENV_CHOICE}=system", f"Unset {allocator.ENV_CHOICE} to use jemalloc."
    else:
        why = f"{allocator.SONAME} was not found"
        advice = "Install jemalloc (Debian/Ubuntu: sudo apt install libjemalloc2)."
    return Check("Memory allocator", "warn", f"glibc's malloc ({why}): {cache}, so speech recognition costs "
                 "more CPU than on jemalloc", advice)


def check_playbook() -> Check:
    from callcue import managed
    from callcue.engine.language import Lexicons, Vader
    from callcue.engine.playbook import load_playbook
    from callcue.paths import resources_dir

    m = managed.current()
    pb_path = os.environ.get("CALLCUE_PLAYBOOK") or m.values.get("playbook")
    profile = os.environ.get("CALLCUE_PROFILE") or m.values.get("profile")
    pb = load_playbook(pb_path, profile)
    lex = Lexicons(resources_dir() / "lexicons")
    Vader().compound("This is fine, thank you.")
    phrases = sum(len(v) for v in lex.phrases.values())
    prof = f", profile {profile}" if profile else ""
    return Check("Playbook and word lists", "pass", f"{pb.path.name}{prof}: {len(pb.cue_ids)} cues; "
                 f"{len(lex.phrases)} phrase lists ({phrases} phrases); sentiment lexicon loads")


def check_engine() -> Check:
    """Three seconds of made-up two-channel audio through the whole engine: audio decoding, resampling,
    voice activity, pitch and the cue rules, i.e. every compiled library `callcue analyze` uses."""
    import numpy as np
    import soundfile as sf

    from callcue.calls.offline import analyze_recording

    rate = 8000  # not 16 kHz, so the resampler runs too
    t = np.arange(3 * rate) / rate
    voice = 0.3 * np.sin(2 * np.pi * 180 * t) * (np.sin(2 * np.pi * 0.7 * t) > 0)
    noise = 0.01 * np.random.default_rng(3).standard_normal(t.size)
    with tempfile.TemporaryDirectory(prefix="callcue-selftest-") as tmp:
        wav = Path(tmp) / "probe.wav"
        sf.write(wav, np.stack([voice + noise, noise], axis=1), rate)
        events = analyze_recording(str(wav))
    kinds = {type(e).__name__ for e in events}
    if "CallStart" not in kinds or "Summary" not in kinds:
        return Check("Call engine", "fail", f"the engine ran but produced no summary ({sorted(kinds)})",
                     "Reinstall Callcue.")
    return Check("Call engine", "pass", f"analysed 3 s of test audio ({len(events)} events)")


def _writable(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".callcue-selftest-", dir=folder)
    try:
        os.write(fd, b"callcue self-test\n")
        os.fsync(fd)
    finally:
        os.close(fd)
        os.unlink(name)


def check_storage() -> Check:
    import sqlite3

    from callcue import paths

    data, config = paths.user_data_dir(), paths.user_config_dir()
    for label, folder in (("data", data), ("settings", config)):
        try:
            _writable(folder)
        except OSError as err:
            reason = err.strerror or str(err)
            if isinstance(err, (FileExistsError, NotADirectoryError)):
                blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
                reason = f"{blocker or 'a file'} is a file, not a folder"
            return Check("Storage", "fail", f"cannot write the {label} folder {folder} ({reason})",
                         "IT: point `storage` in the managed settings at a folder agents can write, or set "
                         "CALLCUE_DATA_DIR; or give this user write access to that folder.")
    try:
        with tempfile.TemporaryDirectory(prefix=".callcue-selftest-", dir=data) as tmp:
            db = sqlite3.connect(Path(tmp) / "probe.sqlite")
            db.execute("create table t (x)")
            db.execute("insert into t values (1)")
            db.commit()
            db.close()
    except sqlite3.Error as err:
        return Check("Storage", "fail", f"SQLite cannot write a database in {data} ({err})",
                     "Use a local disk for Callcue's data (network shares often break SQLite locking).")
    free_mb = shutil.disk_usage(data).free // 1_000_000
    detail = f"data in {data}, settings in {config}; {free_mb:,} MB free"
    if free_mb < MIN_FREE_MB:
        return Check("Storage", "warn", detail, f"Free some disk space: less than {MIN_FREE_MB} MB "
                     "is about two hours of calls.")
    return Check("Storage", "pass", detail)


CHECKS: list[tuple[str, Callable[[], Check]]] = [
    ("Managed settings", check_managed),
    ("Qt (windows)", check_qt),
    ("Screen", check_display),
    ("Audio devices", check_audio),
    ("Speech model", check_model),
    ("Memory allocator", check_allocator),
    ("Playbook and word lists", check_playbook),
    ("Call engine", check_engine),
    ("Storage", check_storage),
]


def run_checks(progress: Callable[[str], None] | None = None) -> list[Check]:
    results = []
    for name, fn in CHECKS:
        if progress:
            progress(name)
        t0 = time.perf_counter()
        try:
            check = fn()
        except CallcueError as err:
            check = Check(name, "fail", str(err), "Follow the message above, or reinstall Callcue.")
        except Exception as err:  # a self-test reports, it never crashes
            check = Check(name, "fail", f"unexpected error: {type(err).__name__}: {err}",
                          "Reinstall Callcue; if it persists, send this report to IT.")
        check.seconds = time.perf_counter() - t0
        results.append(check)
    return results


# ---------------------------------------------------------------- the report


LABEL = {"pass": "PASS", "warn": "WARN", "fail": "FAIL", "skip": "SKIP"}


def render(checks: list[Check], width: int = 100) -> str:
    head = f"Callcue self-test: callcue {__version__}, {_where()}, {platform.system()} {platform.release()}"
    lines = [head, ""]
    indent = " " * 8
    for c in checks:
        lines.append(f"  {LABEL[c.status]}  {c.name}")
        for para in c.detail.splitlines():
            lines.extend(textwrap.wrap(para, width, initial_indent=indent, subsequent_indent=indent + "  ",
                                       break_on_hyphens=False, break_long_words=False) or [indent])
        if c.advice and c.status in ("warn", "fail", "skip"):
            lines.extend(textwrap.wrap("What to do: " + c.advice, width, initial_indent=indent,
                                       subsequent_indent=indent + "  ", break_on_hyphens=False,
                                       break_long_words=False))
    fails = sum(c.status == "fail" for c in checks)
    warns = sum(c.status == "warn" for c in checks)
    lines.append("")
    if fails:
        lines.append(f"RESULT: FAIL ({fails} failed, {warns} warning(s)). Fix what is marked FAIL, then run "
                     "`callcue --self-test` again.")
    elif warns:
        lines.append(f"RESULT: PASS with {warns} warning(s). Callcue runs; the warnings say what will not work.")
    else:
        lines.append("RESULT: PASS. Callcue is ready on this PC.")
    return "\n".join(lines) + "\n"


def exit_code(checks: list[Check]) -> int:
    return 1 if any(c.status == "fail" for c in checks) else 0


def main(out: TextIO | None = None) -> int:
    out = out or sys.stdout
    if out is None:  # the windowed executable has no console: the console one prints the report
        return exit_code(run_checks())
    if os.environ.get(PROBE_ENV) == "qt":
        return probe_qt(out)
    err = sys.stderr if out is sys.stdout else None
    if err is not None and err.isatty():
        checks = run_checks(lambda name: print(f"checking {name}...", file=err, flush=True))
    else:
        checks = run_checks()
    out.write(render(checks))
    out.flush()
    return exit_code(checks)
