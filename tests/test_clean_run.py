"""A test run leaves nothing behind: not in the temporary folder, and no internal notes among the docs."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT

# A run of its own, in a temporary folder of its own: it makes the test calls and the sample
# sessions' template (with a stand-in for the slow part, the analysis of each call).
INNER = '''
from tests.conftest import CALLS, RUN_DIR


def test_uses_what_the_suite_keeps_for_a_run(calls_dir, tmp_path, monkeypatch):
    from tests.report import sessions

    monkeypatch.setattr(sessions, "build", lambda path, plan=None: (path.write_bytes(b""), {})[1])
    sessions.sample_db(tmp_path / "sessions.db")
    assert (calls_dir / "password-reset.wav").is_file() and calls_dir == CALLS
    assert RUN_DIR.is_dir()
'''


def test_a_run_leaves_nothing_in_the_temporary_folder(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    (tmp_path / "test_inner.py").write_text(INNER)
    env = dict(os.environ, TMPDIR=str(tmp))
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.conftest",
                        "--rootdir", str(tmp_path), str(tmp_path / "test_inner.py")],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    left = sorted(p.name for p in tmp.iterdir() if not p.name.startswith("pytest-of-"))  # pytest's own tmp_path
    assert left == [], left


def test_the_docs_folder_holds_user_documentation_only():
    assert not (ROOT / "docs" / "HELPERS.md").exists()
    for doc in (ROOT / "docs").glob("*.md"):
        assert "helper session" not in doc.read_text(encoding="utf-8").lower(), doc
