import numpy as np

from callcue.engine.activity import FRAME, FRAME_S, ChannelActivity, frame_db
from callcue.engine.conversation import Conversation


def steps(act, pattern):
    opened, closed = [], []
    for k, v in enumerate(pattern):
        o, c = act.step(k, bool(v))
        opened += [o] if o else []
        closed += [c] if c else []
    return opened, closed


def test_onset_needs_several_voiced_frames_and_starts_at_the_first():
    act = ChannelActivity("agent", hangover_s=0.3)
    opened, _ = steps(act, [0, 1, 0, 0, 0, 0, 1, 1, 1, 1])
    assert len(opened) == 1
    assert abs(opened[0].start - 6 * FRAME_S) < 1e-9


def test_hangover_bridges_short_pauses_and_end_is_last_voiced_frame():
    act = ChannelActivity("agent", hangover_s=0.3)  # 10 frames
    pattern = [1] * 10 + [0] * 5 + [1] * 10 + [0] * 20
    opened, closed = steps(act, pattern)
    assert len(opened) == 1 and len(closed) == 1
    assert abs(closed[0].end - 25 * FRAME_S) < 1e-9


def test_noise_gate_and_vad_on_real_signals():
    act = ChannelActivity("agent")
    rng = np.random.default_rng(1)
    quiet = (rng.standard_normal(FRAME) * 30).astype(np.int16)
    for _ in range(20):
        assert not act.is_voice(quiet, frame_db(quiet))
    assert frame_db(np.zeros(FRAME, np.int16)) < -100


def test_conversation_interruption_backchannel_and_silence():
    from callcue.engine.activity import Segment

    conv = Conversation(("agent", "customer"), silence_s=5.0)
    cust = Segment("customer", 1.0, 1.0)
    conv.opened(cust)
    for t in np.arange(1.0, 4.0, 0.03):
        cust.end = float(t)
        conv.advance()
    # a short "mm-hmm" over the customer: not talk-over
    back = Segment("agent", 2.0, 2.5)
    conv.opened(back)
    assert conv.advance() == []
    conv.closed(back)
    # the agent starts over the customer and keeps going: talk-over
    over = Segment("agent", 3.0, 3.0)
    conv.opened(over)
    events = []
    for t in np.arange(3.0, 4.2, 0.03):
        over.end = float(t)
        cust.end = min(float(t), 4.0)
        events += conv.advance()
    assert len(events) == 1 and events[0].by == "agent" and events[0].over == "customer"
    assert events[0].overlap_s >= 0.5
    conv.closed(cust)
    conv.closed(over)
    gap = conv.opened(Segment("customer", over.end + 6.0, over.end + 6.0))
    assert len(gap) == 1 and abs(gap[0].duration_s - 6.0) < 1e-6


def test_with_words_a_slow_two_word_backchannel_is_not_talk_over():
    from callcue.engine.activity import Segment

    said = {"agent": 2}
    conv = Conversation(("agent", "customer"), words_heard=lambda who, since, now: said[who])
    cust = Segment("customer", 0.0, 5.0)
    conv.opened(cust)
    back = Segment("agent", 1.0, 2.1)  # "Right, okay." said slowly: over 0.8 s, but two words
    conv.opened(back)
    assert conv.advance(2.1) == []
    said["agent"] = 3  # a third word: now it is taking the floor
    (ev,) = conv.advance(2.2)
    assert ev.by == "agent" and ev.at == 1.0


def test_digital_silence_does_not_drag_the_noise_floor_down():
    act = ChannelActivity("agent")
    zeros = np.zeros(FRAME, np.int16)
    for _ in range(100):
        assert not act.is_voice(zeros, frame_db(zeros))
    assert act.floor_db is None  # nothing learnt from zeros
    rng = np.random.default_rng(2)
    hiss = (rng.standard_normal(FRAME) * 60).astype(np.int16)
    act.is_voice(hiss, frame_db(hiss))
    assert act.floor_db is not None and act.floor_db > -60
