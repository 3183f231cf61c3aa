"""Keeping a sound device's samples on the call's clock when its own clock runs fast or slow.

Two devices (a USB headset and the PC's own card) have two crystals: 50 to 100 parts per million
apart is common, so after half an hour of a call one channel is 90 to 180 ms ahead of the other,
and a talk-over or a silence is measured between words that were not said at the same time. The
call's clock is the wall clock (CLOCK_MONOTONIC, which NTP keeps right): sample n belongs at
n / 16000 s after the call began. A device is compared with it at every buffer; when it has
gained or lost a whole step (20 ms), that many samples are dropped or zeros put in, once, where
nobody will hear a difference.

Callbacks come late by up to a buffer or more (the system was busy), never early; so the device's
offset from the wall clock is read as the highest offset seen in the last `window_s`, the one of
the buffers that came most promptly, and compared with what it was when the device started.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from callcue.engine.clock import RATE


@dataclass
class DriftCorrector:
    rate: int = RATE
    window_s: float = 20.0  # long enough that at least one buffer in it came promptly
    step: int = 320  # samples (20 ms): corrections are made in whole steps, none smaller
    corrected: int = 0  # samples put in (+) or dropped (-), all told
    _window: deque[tuple[float, float]] = field(default_factory=deque)  # (t, offset), offsets decreasing
    _start: float | None = None  # t of the first buffer
    _base: float | None = None  # the offset over the first window: where the device began

    def update(self, t: float, end_sample: int) -> int:
        """A buffer that ends at the device's sample `end_sample` (counted on the call's clock, all
        corrections so far included) arrived at `t` seconds after the call began. Returns the
        correction to make before this buffer's samples: n > 0 zeros to put in (the device is slow),
        n < 0 samples to drop (it is fast), 0 mostly."""
        offset = end_sample - t * self.rate
        if self._start is None:
            self._start = t
        while self._window and self._window[-1][1] <= offset:
            self._window.pop()  # a later buffer with a higher offset makes the earlier one irrelevant
        self._window.append((t, offset))
        while self._window[0][0] < t - self.window_s:
            self._window.popleft()
        best = self._window[0][1]
        if self._base is None:
            if t - self._start >= self.window_s:
                self._base = best
            return 0
        drift = best - self._base
        if abs(drift) < self.step:
            return 0
        fix = -int(drift / self.step) * self.step
        # the correction moves every later sample: the offsets seen so far move with it
        self._window = deque((ti, off + fix) for ti, off in self._window)
        self.corrected += fix
        return fix

    def reset(self) -> None:
        """The device starts anew (it was lost and is back): it is aligned again from its first audio."""
        self._window.clear()
        self._start = self._base = None
