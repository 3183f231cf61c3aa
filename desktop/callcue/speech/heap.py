"""glibc's malloc, set for a process that holds a big speech model and decodes on two threads.

Vosk allocates in C++; how much of what it frees goes back to the system is glibc's choice,
and its defaults keep a lot: every thread gets its own arena, the threshold above which a block
is mmap'ed (and so returned at once when freed) climbs to 32 MB after the first large free,
and the heap is trimmed only when 128 KB lie free at its top. Measured on the Korean model
(bench/bench_live.py, two channels): peak RSS 819 MB with the defaults, 776 MB with the
settings below; the real-time factor did not move. Not glibc (Windows, macOS): nothing to do.
"""

from __future__ import annotations

import ctypes

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
