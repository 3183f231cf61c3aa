"""`callcue report SESSION --format html|pdf|json` and `callcue review --list`, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from callcue.store.sessions import default_path
from tests.report.sessions import sample_db


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "callcue", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


@pytest.fixture
def ids():
    return sample_db(default_path())


def test_report_in_each_format(ids, tmp_path):
    billing = next(sid for sid, name in ids.items() if name == "billing-dispute")
    r = run("report", billing[:5], cwd=tmp_path)  # a prefix of the id; html by default
    assert r.returncode == 0, r.stderr
    html = tmp_path / f"callcue-{billing}.html"
    assert r.stderr == f"callcue: wrote {html} (the current folder; -o FILE writes it elsewhere)\n"  # says where
    assert html.read_text().startswith("<!DOCTYPE html>")
    r = run("report", billing, "--format", "pdf", "-o", tmp_path / "out" / "r.pdf")
    assert r.returncode == 2 and "Cannot write the PDF report" in r.stderr and "Traceback" not in r.stderr
    r = run("report", billing, "--format", "pdf", "-o", tmp_path / "r.pdf")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "r.pdf").read_bytes()[:5] == b"%PDF-"
    for written in (html, tmp_path / "r.pdf"):  # a report holds a call's words: its owner's only
        assert written.stat().st_mode & 0o777 == 0o600, oct(written.stat().st_mode)
    r = run("report", billing, "-f", "json", "-o", "-")
    doc = json.loads(r.stdout)
    assert doc["session"]["id"] == billing and doc["events"][0]["type"] == "call"
    assert doc["events"][-1]["type"] == "summary" and "four five two one" not in r.stdout


@pytest.mark.parametrize(("args", "says"), [
    (("report", "nope"), "No session 'nope'"),
    (("report", "last", "-f", "pdf", "-o", "-"), "A PDF cannot go to standard output"),
])
def test_report_bad_input_is_one_line(ids, args, says):
    r = run(*args)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1 and says in r.stderr


def test_report_on_an_empty_store():
    r = run("report", "last")
    assert r.returncode == 2 and "No sessions in" in r.stderr and r.stderr.count("\n") == 1


def test_review_list_filters(ids):
    def rows(r):
        header, *lines = r.stdout.splitlines()
        assert header.split() == ["session", "started", "state", "agent", "profile", "length", "peak", "flags", "call"]
        return lines

    r = run("review", "--list")
    assert r.returncode == 0 and len(rows(r)) == 12
    r = run("review", "--list", "--agent", "sam", "--flag", "escalation")
    lines = rows(r)
    assert lines and all("sam" in line and "escalation" in line for line in lines)
    r = run("review", "--list", "--since", "2024-05-13", "--until", "2024-05-13")
    assert [line.split()[1] for line in rows(r)] == ["2024-05-13"]
    r = run("review", "--list", "--role", "agent", "--user", "lee")
    assert len(rows(r)) == 4 and all(" lee " in line for line in rows(r))
    r = run("review", "--list", "--since", "May 13")
    assert r.returncode == 2 and "not ISO 8601" in r.stderr and "Traceback" not in r.stderr


def test_review_without_a_display_says_so():
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    r = subprocess.run([sys.executable, "-m", "callcue", "review"], capture_output=True, text=True, env=env,
                       timeout=60)
    assert r.returncode == 2 and "No display" in r.stderr and r.stderr.count("\n") == 1


def test_review_screenshot(ids, tmp_path):
    from PySide6.QtGui import QImage

    # on a 1920x1080 screen (the window fits the screen it opens on: a smaller one gets a smaller window)
    screen = tmp_path / "screen.json"
    screen.write_text(json.dumps({"screens": [{"name": "hd", "x": 0, "y": 0, "width": 1920, "height": 1080,
                                               "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    r = subprocess.run([sys.executable, "-m", "callcue", "review", "--screenshot", str(tmp_path / "w.png")],
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={screen}"})
    assert r.returncode == 0, r.stderr
    image = QImage(str(tmp_path / "w.png"))
    assert image.width() >= 1000 and image.height() >= 600


def test_report_goes_by_the_review_policy(ids, tmp_path):
    sams = [sid for sid in ids if sid in run("review", "--list", "--agent", "sam").stdout]
    r = run("report", sams[0], "--role", "agent", "--user", "lee", "-f", "json", "-o", "-")
    assert r.returncode == 2 and "not yours to see" in r.stderr and "agent lee: own sessions" in r.stderr
    assert r.stdout == "" and r.stderr.count("\n") == 1
    r = run("report", "last", "--role", "agent", "--user", "lee", "-f", "json", "-o", "-")
    assert r.returncode == 0 and json.loads(r.stdout)["session"]["agent"] == "lee"
    r = run("report", sams[0], "--role", "supervisor", "--user", "kim", "-f", "json", "-o", "-")
    assert r.returncode == 0 and json.loads(r.stdout)["session"]["agent"] == "sam"
