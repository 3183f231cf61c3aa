"""The voice's measures on synthetic voices whose answer is known, and the calm reference."""

import numpy as np
import pytest

from callcue.engine.prosody import RATE, Baseline, VoiceFeatures, measure

RNG = np.random.default_rng(3)


def voice(f0=160.0, seconds=1.2, tilt=1.5, noise=0.0, glide_st=0.0, vibrato_st=0.0, attack_s=0.03):
    """A sung vowel: harmonics of f0 falling `tilt` powers of their number (a steeper tilt: less energy
    above 1 kHz), `noise` (relative to the voice) of aspiration, a glide of the pitch over the
    utterance and a slow sweep of it, an onset of `attack_s`."""
    t = np.arange(int(seconds * RATE)) / RATE
    st = glide_st * t / seconds + vibrato_st * np.sin(2 * np.pi * 1.5 * t)
    phase = 2 * np.pi * np.cumsum(f0 * 2 ** (st / 12)) / RATE
    x = sum(np.sin(k * phase) / k ** tilt for k in range(1, 40))
    x = x / np.abs(x).max()
    x = x + noise * RNG.standard_normal(len(t))
    env = np.minimum(1.0, t / attack_s) * np.minimum(1.0, (seconds - t) / 0.03)
    return (0.3 * x * env / np.abs(x).max() * 32767).astype(np.int16)


def test_a_breathy_voice_has_a_lower_harmonics_to_noise_ratio():
    clear, breathy, harsher = (measure(voice(noise=n)).hnr_db for n in (0.01, 0.2, 0.6))
    assert clear > breathy > harsher


def test_a_flatter_spectrum_has_more_energy_above_1khz():
    flat, normal, tilted = (measure(voice(tilt=a)) for a in (0.8, 1.5, 2.5))
    assert flat.hf_balance_db > normal.hf_balance_db > tilted.hf_balance_db
    # the Hammarberg index says the same the other way round: a smaller drop to the 2-5 kHz peak
    assert flat.hammarberg_db < normal.hammarberg_db < tilted.hammarberg_db


def test_loudness_does_not_move_the_spectral_balance():
    soft = voice()
    loud = (soft.astype(np.int32) * 3).clip(-32768, 32767).astype(np.int16)
    a, b = measure(soft), measure(loud)
    assert b.intensity_db - a.intensity_db == pytest.approx(20 * np.log10(3), abs=0.2)
    assert b.hf_balance_db == pytest.approx(a.hf_balance_db, abs=0.2)


def test_the_contour_rises_falls_and_sweeps():
    rising, falling, level = (measure(voice(glide_st=g)) for g in (4.0, -4.0, 0.0))
    assert rising.pitch_slope_st_s > 2 and falling.pitch_slope_st_s < -2 and abs(level.pitch_slope_st_s) < 0.5
    sweep = measure(voice(vibrato_st=5.0))
    assert sweep.pitch_range_st > 6 > 1 > level.pitch_range_st


def test_an_abrupt_onset_rises_faster_than_a_soft_one():
    def after_a_pause(x):
        hush = (30 * RNG.standard_normal(int(0.2 * RATE))).astype(np.int16)
        return np.concatenate([hush, x, hush])

    abrupt, soft = (measure(after_a_pause(voice(attack_s=a))) for a in (0.005, 0.25))
    assert abrupt.onset_db > soft.onset_db


def test_pitch_and_loudness_only_when_asked():
    f = measure(voice(), quality=False)
    assert f.pitch_st is not None and f.intensity_db is not None
    assert f.hf_balance_db is None and f.hnr_db is None and f.pitch_range_st is None


def test_too_short_to_measure():
    f = measure(np.zeros(1000, np.int16), n_words=2, speech_s=0.5)
    assert f.pitch_st is None and f.hf_balance_db is None and f.rate_wps == 4.0


def _f(**kw) -> VoiceFeatures:
    return VoiceFeatures(pitch_st=kw.pop("pitch_st", None), intensity_db=kw.pop("intensity_db", None),
                         rate_wps=None, **kw)


def test_population_norms_stand_in_until_the_speaker_has_a_calm_of_her_own():
    b = Baseline(norms={"hf_balance_db": -8.0}, norm_weight=4)
    assert b.reference("hf_balance_db") == -8.0  # no history: the norm
    assert b.reference("intensity_db") is None  # loudness has no norm (it depends on the microphone)
    for _ in range(3):  # an angry start: her first lines are effortful
        b.add(_f(hf_balance_db=-4.0, intensity_db=70.0))
    assert b.reference("hf_balance_db") == -8.0  # her anger is not made her normal
    assert b.compare(_f(hf_balance_db=-4.0)).hf_balance_db == 4.0
    for _ in range(8):  # then calm lines, more tilted than the norm: her own calm takes over
        b.add(_f(hf_balance_db=-12.0, intensity_db=60.0))
    assert b.reference("hf_balance_db") == -12.0
    assert b.reference("intensity_db") == 60.0


def test_a_norm_never_makes_the_reference_less_calm_than_the_speakers_own():
    # a man's pitch is far below the women's norm: that is his voice, not calm
    b = Baseline(norms={"pitch_st": 12.8}, norm_weight=4)
    b.add(_f(pitch_st=3.0))
    assert b.reference("pitch_st") == 3.0
    assert b.compare(_f(pitch_st=3.0)).pitch_st == 0.0


def test_the_calm_side_of_each_measure():
    b = Baseline(quantile=0.0)
    for hnr, loud in ((10.0, 60.0), (20.0, 70.0)):
        b.add(_f(hnr_db=hnr, intensity_db=loud))
    assert b.reference("hnr_db") == 20.0  # a clear voice is the calm one
    assert b.reference("intensity_db") == 60.0  # a quiet one too
    assert b.reference("pitch_slope_st_s") is None
