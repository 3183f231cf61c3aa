"""A device whose clock runs fast or slow is kept on the call's clock, in 20 ms steps, and a device
whose callbacks are merely late (jitter, a busy system) is left alone."""

from __future__ import annotations

import numpy as np
import pytest

from callcue.audio.drift import DriftCorrector

RATE = 16000
BLOCK = 160  # 10 ms buffers


def run_device(ppm: float, minutes: float, jitter_s: float, seed: int = 3, stall_every: int = 0):
    """Simulate a device whose clock is `ppm` fast, delivering 10 ms buffers with late callbacks.
    Returns (corrector, worst misalignment in ms after the first window)."""
    rng = np.random.default_rng(seed)
    fix = DriftCorrector()
    emitted = 0  # samples on the call's clock, corrections included
    produced = 0  # samples the device made
    worst = 0.0
    for k in range(int(minutes * 60 * 100)):
        produced += BLOCK
        true_t = produced / (RATE * (1 + ppm * 1e-6))  # when the device's last sample was recorded
        late = rng.uniform(0, jitter_s)
        if stall_every and k % stall_every == stall_every - 1:
            late += 0.25  # now and then the system is busy for a quarter of a second
        c = fix.update(true_t + late, emitted + BLOCK)
        emitted += BLOCK + c
        if true_t > 30:
            worst = max(worst, abs(emitted - true_t * RATE) / RATE * 1000)
    return fix, worst


@pytest.mark.parametrize("ppm", [100.0, -100.0, 60.0])
def test_a_drifting_device_stays_within_a_step_and_a_half_of_the_call_clock(ppm):
    fix, worst = run_device(ppm, minutes=20, jitter_s=0.03, stall_every=997)
    drift_ms = abs(ppm) * 1e-6 * 20 * 60 * 1000  # 120 ms after 20 minutes at 100 ppm
    assert abs(fix.corrected) / RATE * 1000 == pytest.approx(drift_ms, abs=25)
    assert np.sign(fix.corrected) == -np.sign(ppm)  # fast: samples dropped; slow: zeros put in
    assert worst < 35  # never more than about one step (20 ms) plus the window's jitter off


def test_late_callbacks_alone_are_not_drift():
    fix, worst = run_device(0.0, minutes=20, jitter_s=0.08, stall_every=301)
    assert fix.corrected == 0 and worst < 1


def test_reset_aligns_anew():
    fix, _ = run_device(100.0, minutes=5, jitter_s=0.01)
    fix.reset()
    assert fix.update(400.0, 400 * RATE + 5000) == 0  # a new start: its offset is its own base
