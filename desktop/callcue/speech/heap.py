"""The memory of a process that holds a big speech model and decodes on two threads: glibc's
malloc settings, the resident size now, and the budget the recognizers' caches spend.

Vosk allocates in C++; how much of what it frees goes back to the system is glibc's choice,
and its defaults keep a lot: every thread gets its own arena, the threshold above which a block
is mmap'ed (and so returned at once when freed) climbs to 32 MB after the first large free,
and the heap is trimmed only when 128 KB lie free at its top. Measured on the Korean model
(bench/bench_live.py, two channels): peak RSS 819 MB with the defaults, 776 MB with the
settings below; the real-time factor did not move. Not glibc (Windows, macOS): nothing to do.
On jemalloc (callcue.allocator, Linux) these calls reach glibc's malloc, which then holds nothing,
and change nothing: jemalloc is told to give freed pages back itself.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

_tamed = False


def _libc():  # noqa: ANN202
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def tame_malloc() -> None:
    """Two arenas shared by the decoding threads; blocks of 256 KB and more mmap'ed; the heap
    trimmed once 1 MB lies free at its top. Before the model loads, so its buffers follow suit."""
    global _tamed
    libc = _libc()
    if _tamed or libc is None or not hasattr(libc, "mallopt"):
        return
    libc.mallopt(M_ARENA_MAX, 2)
    libc.mallopt(M_MMAP_THRESHOLD, 256 * 1024)
    libc.mallopt(M_TRIM_THRESHOLD, 1024 * 1024)
    _tamed = True


def give_back_memory() -> None:
    """Return the heap's free pages to the system now (after a recognizer's caches were freed)."""
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


def resident_mb() -> float | None:
    """This process's resident memory now, in MB; None where it cannot be read cheaply (not Linux)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            pages = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


class MemoryBudget:
    """The memory the process may use (`limit_mb`, peak resident), which the speech recognizers of a
    call spend on their caches (see speech.live.ThriftyRecognizer: the longer one lives, the cheaper
    it decodes, and the more memory it holds).

    Near the limit (`pressed`) a recognizer whose channel is quiet gives its cache back: the one
    speaking keeps its warm cache. Closer (`over`) a speaking one does too, at its line's end or
    at the first short pause. The margins are what speech can add before then: a cold cache grows
    by up to 10 MB a second of speech. At the limit but for the last few MB (`critical`: a long
    line without a pause) the line is cut where it is: a word may be split, the budget is kept.
    """

    PRESSED_MARGIN_MB = 80.0
    OVER_MARGIN_MB = 45.0
    CRITICAL_MARGIN_MB = 20.0

    def __init__(self, limit_mb: float, gauge: Callable[[], float | None] = resident_mb) -> None:
        self.limit_mb = float(limit_mb)
        self.gauge = gauge

    @property
    def known(self) -> bool:
        return self.gauge() is not None

    def _above(self, margin: float) -> bool:
        now = self.gauge()
        return now is not None and now >= self.limit_mb - margin

    def pressed(self) -> bool:
        return self._above(self.PRESSED_MARGIN_MB)

    def over(self) -> bool:
        return self._above(self.OVER_MARGIN_MB)

    def critical(self) -> bool:
        return self._above(self.CRITICAL_MARGIN_MB)
