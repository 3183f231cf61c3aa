"""callcue.allocator: `callcue` starts itself again on jemalloc, once, and hands its children the
environment it was given."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from callcue import allocator
from callcue.allocator import CONF, ENV_RESTORE, Relaunch, plan, restore_environment

LIB = "/opt/callcue/_internal/libjemalloc.so.2"


def plan_for(env: dict[str, str], **kw) -> Relaunch | None:
    args = {"argv": ["/venv/bin/python", "/venv/bin/callcue", "listen"], "executable": "/venv/bin/python",
            "frozen": False, "platform": "linux", "running": "system", "library": LIB}
    args.update(kw)
    return plan(env, **args)


def test_a_command_on_glibc_is_started_again_with_jemalloc_preloaded_and_freed_pages_given_back():
    step = plan_for({"HOME": "/home/a"})
    assert step is not None
    assert step.executable == "/venv/bin/python"
    assert step.argv == ["/venv/bin/python", "/venv/bin/callcue", "listen"]
    assert step.env["LD_PRELOAD"] == LIB and step.env["MALLOC_CONF"] == CONF and step.env["HOME"] == "/home/a"
    assert json.loads(step.env[ENV_RESTORE]) == {"LD_PRELOAD": None, "MALLOC_CONF": None}


def test_python_options_and_the_frozen_command_line_are_kept():
    step = plan_for({}, argv=["python3", "-X", "dev", "-m", "callcue", "run"])
    assert step.argv == ["/venv/bin/python", "-X", "dev", "-m", "callcue", "run"]  # the interpreter by its path
    step = plan_for({}, argv=["./callcue", "--self-test"], executable="/opt/callcue/callcue", frozen=True)
    assert (step.executable, step.argv) == ("/opt/callcue/callcue", ["./callcue", "--self-test"])


def test_the_users_own_preload_and_jemalloc_settings_are_kept_and_remembered():
    step = plan_for({"LD_PRELOAD": "/usr/lib/libfoo.so", "MALLOC_CONF": "narenas:1"})
    assert step.env["LD_PRELOAD"] == f"{LIB}:/usr/lib/libfoo.so"
    assert step.env["MALLOC_CONF"] == "narenas:1"
    assert json.loads(step.env[ENV_RESTORE]) == {"LD_PRELOAD": "/usr/lib/libfoo.so", "MALLOC_CONF": "narenas:1"}


@pytest.mark.parametrize("why", ["windows", "macos", "jemalloc already", "no jemalloc", "asked for glibc",
                                 "second start", "no interpreter path"])
def test_it_goes_on_as_it_is(why):
    kw: dict = {
        "windows": {"platform": "win32"},
        "macos": {"platform": "darwin"},
        "jemalloc already": {"running": "jemalloc"},
        "no jemalloc": {"library": None},
        "no interpreter path": {"executable": ""},
    }.get(why, {})
    env = {"asked for glibc": {"CALLCUE_MALLOC": "System"},
           "second start": {ENV_RESTORE: "{}"}}.get(why, {})  # jemalloc failed to load: no loop
    assert plan_for(env, **kw) is None


def test_the_second_start_puts_the_environment_back_for_its_children():
    step = plan_for({"LD_PRELOAD": "/usr/lib/libfoo.so", "PATH": "/bin"})
    env = dict(step.env)
    restore_environment(env)
    assert env == {"LD_PRELOAD": "/usr/lib/libfoo.so", "PATH": "/bin"}
    env = dict(plan_for({"PATH": "/bin"}).env)
    restore_environment(env)
    assert env == {"PATH": "/bin"}
    untouched = {"LD_PRELOAD": "/x.so", "PATH": "/bin"}  # not started by us: not ours to change
    restore_environment(untouched)
    assert untouched == {"LD_PRELOAD": "/x.so", "PATH": "/bin"}


def test_the_bundles_own_jemalloc_comes_first(tmp_path):
    (tmp_path / allocator.SONAME).write_bytes(b"")
    assert allocator.find_jemalloc(tmp_path) == str(tmp_path / allocator.SONAME)
    found = allocator.find_jemalloc(tmp_path / "elsewhere")  # none in the bundle: the system's, if any
    assert found is None or (found.endswith(allocator.SONAME) and os.path.isfile(found))


PROBE = ("import os; from callcue.allocator import relaunch, active; relaunch(); "
         "print(active(), os.environ.get('LD_PRELOAD'), os.environ.get('MALLOC_CONF'), os.getpid())")


def probe(**env_changes: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "MALLOC_CONF")}
    env.update(env_changes)
    proc = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="jemalloc is preloaded on Linux only")
def test_a_real_process_runs_on_jemalloc_and_its_children_get_a_clean_environment():
    if allocator.find_jemalloc() is None:
        pytest.skip("libjemalloc2 is not installed (setup.sh installs it)")
    running, preload, conf, _pid = probe()
    assert running == "jemalloc"
    assert (preload, conf) == ("None", "None")  # put back: a child program is not preloaded
    assert probe(CALLCUE_MALLOC="system")[0] == "system"
