from callcue.engine.frustration import distinct, utterance_score, words_evidence
from callcue.engine.language import TextAnalyzer, default_lexicons, normalise, syllables, tokens_of
from callcue.engine.prosody import VoiceChange

A = TextAnalyzer(default_lexicons())


def kinds(text):
    return {h.kind for h in A.analyze(text).hits}


def test_contractions_are_spelled_out():
    assert normalise("I'll call, we can't, it's fine, don't") == "i will call, we can not, it is fine, do not"
    assert tokens_of("Hello?? I'm FED UP!") == ["hello", "?", "?", "i", "am", "fed", "up", "!"]


def test_lexicon_kinds():
    assert "escalation" in kinds("I want to speak to your supervisor")
    assert "escalation" in kinds("otherwise I am cancelling my account")
    assert "repeat_contact" in kinds("this is the third time I've called")
    assert "negotiation" in kinds("I want my money back")
    assert "negotiation" not in kinds("I paid with my credit card")
    assert "hold" in kinds("One moment while I pull that up")
    assert "hold_long" in kinds("I'm going to put you on hold")
    assert "commitment" in kinds("I'll call you back tomorrow")
    assert "empathy" in kinds("I'm so sorry about that")
    assert "jargon" in kinds("the DNS TTL has to expire")
    assert "idioms" in kinds("let's touch base next week")
    assert kinds("Thanks, that's all I needed.") <= {"backchannel"}


def test_wildcards_match_gaps():
    assert "frustration" in kinds("this is taking a really long time")
    assert "frustration" in kinds("it takes forever")


def test_negated_frustration_is_not_a_hit():
    assert "frustration" not in kinds("I'm not upset, just curious")
    assert "frustration" in kinds("I'm upset")


def test_overlapping_hits_count_once():
    sig = A.analyze("I am so tired of this")
    assert len(sig.kinds("frustration")) >= 2  # "so tired" and "tired of"
    assert len(distinct(sig.kinds("frustration"))) == 1


def test_sarcasm_does_not_flip_frustration_to_happy():
    calm = VoiceChange()
    sarcastic, _ = words_evidence(A.analyze("Oh great, fantastic. Another outage."))
    sincere, _ = words_evidence(A.analyze("Great, fantastic, thank you so much."))
    assert A.analyze("Oh great, fantastic. Another outage.").sentiment > 0.3  # VADER alone calls it happy
    assert sarcastic > 0 > sincere
    angry = VoiceChange(pitch_st=5, intensity_db=6, arousal=0.9)
    score, why = utterance_score(A.analyze("Oh great, fantastic."), angry, 0.4)
    assert score >= 0.6 and "sarcasm" in why
    assert utterance_score(A.analyze("Great, fantastic, thank you so much."), calm, 0.4)[0] < 0.2


def test_negation_keeps_vader_negative():
    assert A.analyze("This is not good at all, not helpful").sentiment < 0


def test_voice_alone_and_words_alone_can_each_raise_the_score():
    neutral = A.analyze("I paid on time")
    angry_voice = VoiceChange(pitch_st=6, intensity_db=7, rate_ratio=1.3, arousal=0.95)
    assert utterance_score(neutral, angry_voice, 0.4)[0] > 0.6
    assert utterance_score(A.analyze("I am fed up, this is ridiculous"), VoiceChange(), 0.4)[0] > 0.6
    assert utterance_score(neutral, VoiceChange(), 0.4)[0] < 0.3
    # voice weight 0 ignores the voice
    assert utterance_score(neutral, angry_voice, 0.0)[0] < 0.3


def test_syllables():
    assert syllables(tokens_of("propagation")) == 4
    assert syllables(tokens_of("I can see")) == 3
