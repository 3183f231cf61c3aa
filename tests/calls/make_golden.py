"""Write the reference event streams that tests/calls/test_same_bytes.py compares with.

Run from the checkout, with ../shared beside it: `.venv/bin/python tests/calls/make_golden.py`.
Only when a change means to change the events; its commit says why.
"""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from callcue.cli import main  # noqa: E402
from tests.calls.test_same_bytes import GOLDEN, cases  # noqa: E402

for ref, audio, transcript in cases():
    if not audio.is_file():
        print(f"skipped {ref}: {audio} is absent")
        continue
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = main(["analyze", str(audio), "--json"] + (["--transcript", str(transcript)] if transcript else []))
    if rc != 0:
        raise SystemExit(f"{ref}: analyze exited {rc}")
    (GOLDEN / ref).write_text(out.getvalue())
    print(f"wrote {ref}")
