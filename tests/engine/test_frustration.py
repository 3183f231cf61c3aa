"""The voice's evidence of anger: calibrated across speakers, anger apart from joy, fused with the words."""

import pytest

from callcue.engine.frustration import VoiceScoring, utterance_score
from callcue.engine.language import TextAnalyzer, default_lexicons
from callcue.engine.prosody import Baseline, VoiceChange, VoiceFeatures

A = TextAnalyzer(default_lexicons())


@pytest.fixture(scope="module")
def scoring(playbook):
    return VoiceScoring.from_playbook(playbook.section("voice"))


@pytest.fixture(scope="module")
def thresholds(playbook):
    cue = playbook.cue("acknowledge-frustration")
    return playbook.section("frustration")["voice_weight"], cue["utterance"], cue["level"]


def feats(pitch, loud, balance, rng=2.0, slope=-0.5) -> VoiceFeatures:
    return VoiceFeatures(pitch_st=pitch, intensity_db=loud, rate_wps=None, pitch_range_st=rng,
                         pitch_slope_st_s=slope, hf_balance_db=balance)


def test_the_same_change_scores_the_same_on_any_voice_and_microphone(playbook, scoring):
    """A man's voice on a quiet, dull microphone and a woman's on a hot, bright one: the same relative
    change (6 dB louder, 4 dB more energy above 1 kHz, 3 semitones higher) gives the same score."""
    scores = []
    for pitch, loud, balance in ((3.0, 55.0, -14.0), (11.0, 72.0, -9.0)):
        b = Baseline.from_playbook(playbook.section("voice"))
        for _ in range(8):
            b.add(feats(pitch, loud, balance))
        change = b.compare(feats(pitch + 3, loud + 6, balance + 4))
        scores.append(scoring.evidence(change))
    assert scores[0] == pytest.approx(scores[1], abs=1e-9)
    assert scores[0] > 0.5


def test_a_voice_above_the_norms_becomes_its_own_reference(playbook, scoring):
    """A high voice (above the population's pitch) is compared with the norm at first, then with itself."""
    b = Baseline.from_playbook(playbook.section("voice"))
    calm = feats(16.0, 60.0, -10.0)
    first = scoring.evidence(b.compare(calm))
    for _ in range(12):
        b.add(calm)
    assert scoring.evidence(b.compare(calm)) < first
    assert b.compare(calm).pitch_st == 0.0


def test_evidence_grows_with_the_change_and_is_zero_without_measures(scoring):
    steps = [scoring.evidence(VoiceChange(intensity_db=d, hf_balance_db=d / 2)) for d in (0, 3, 6, 9, 12)]
    assert steps == sorted(steps) and steps[-1] > 0.85 > 0.1 > steps[0]
    assert scoring.evidence(VoiceChange()) == 0.0
    assert scoring.evidence(VoiceChange(intensity_db=-8, hf_balance_db=-4)) < 0  # calmer than usual


def test_anger_is_not_joy(scoring):
    # both louder and higher than the customer's calm; joy sweeps the pitch, anger presses the voice
    anger = VoiceChange(intensity_db=8, hf_balance_db=5, pitch_st=5, pitch_range_st=3, pitch_slope_st_s=-2.5)
    joy = VoiceChange(intensity_db=3, hf_balance_db=1, pitch_st=5, pitch_range_st=12, pitch_slope_st_s=0.5)
    assert scoring.evidence(anger) > 0.8
    assert scoring.evidence(joy) < 0.1
    # a narrower range than usual is no sign of anger by itself
    plain = VoiceChange(pitch_range_st=-3)
    assert scoring.evidence(plain) == scoring.evidence(VoiceChange(pitch_range_st=0))


def test_a_measure_weighted_zero_does_not_count(playbook):
    voice = dict(playbook.section("voice"))
    base = VoiceScoring.from_playbook(voice)
    harsh = VoiceChange(intensity_db=3, hnr_db=-3)
    voice["weight_hnr_db"] = 1.0
    with_hnr = VoiceScoring.from_playbook(voice)
    assert "hnr_db" not in base.units_of(harsh) and with_hnr.units_of(harsh)["hnr_db"] == pytest.approx(1.5)
    assert with_hnr.evidence(harsh) > base.evidence(harsh)


def test_neutral_words_in_an_angry_voice_still_rise(scoring, thresholds):
    weight, utterance, _ = thresholds
    angry = VoiceChange(intensity_db=8, hf_balance_db=5, pitch_st=5, pitch_range_st=3, pitch_slope_st_s=-2.5)
    score, why = utterance_score(A.analyze("Say the word bean"), angry, weight, scoring)
    assert score >= utterance
    assert any("loudness" in w for w in why)


def test_a_happy_voice_with_kind_or_neutral_words_raises_no_warning(scoring, thresholds):
    weight, utterance, level = thresholds
    joy = VoiceChange(intensity_db=4, hf_balance_db=1.5, pitch_st=6, pitch_range_st=12, pitch_slope_st_s=1.0)
    for words in ("Say the word bean", "Oh that is wonderful, thank you so much"):
        score, _ = utterance_score(A.analyze(words), joy, weight, scoring)
        assert score < level < utterance


def test_upset_words_count_whatever_the_voice(scoring, thresholds):
    weight, utterance, _ = thresholds
    score, _ = utterance_score(A.analyze("I am fed up, this is ridiculous"), VoiceChange(), weight, scoring)
    assert score > 0.6
    assert utterance_score(A.analyze("I paid on time"), VoiceChange(), weight, scoring)[0] < 0.3


def test_a_trend_word_only_after_two_readings():
    from callcue.engine.frustration import FrustrationLevel

    for first in (0.05, 0.95):  # far below and far above where a call starts
        level = FrustrationLevel()
        assert level.update(1.0, first)[1] == "steady"
        assert level.update(2.0, 1.0 - first)[1] in ("rising", "falling")
