"""The memory budget the speech recognizers of a call spend on their caches."""

from __future__ import annotations

import sys

import pytest

from callcue.speech.heap import MemoryBudget, resident_mb


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="read from /proc on Linux")
def test_resident_memory_is_read_and_grows_with_what_is_touched():
    import mmap

    before = resident_mb()
    # fresh anonymous pages, not resident until written (a bytearray may reuse heap a long test run
    # had already touched, and then nothing new becomes resident)
    block = mmap.mmap(-1, 64 * 2**20)
    for i in range(0, len(block), 4096):
        block[i] = 1
    assert before is not None and resident_mb() >= before + 50
    block.close()


def test_thresholds_are_margins_below_the_limit():
    now = [0.0]
    budget = MemoryBudget(800, gauge=lambda: now[0])
    seen = {}
    for mb in (700, 725, 760, 785):
        now[0] = mb
        seen[mb] = (budget.pressed(), budget.over(), budget.critical())
    assert seen == {700: (False, False, False), 725: (True, False, False), 760: (True, True, False),
                    785: (True, True, True)}
    assert budget.known


def test_unreadable_memory_is_never_pressed():
    budget = MemoryBudget(100, gauge=lambda: None)
    assert not budget.known and not budget.pressed() and not budget.critical()
