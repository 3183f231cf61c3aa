"""The chat engine: the event stream of EVENTS.md, the chat-only signals, and the chat's own clock."""

import json
from pathlib import Path

from callcue.chat.engine import ChatSession, analyze_chat_file, analyze_messages
from callcue.chat.readers import ChatMessage, read_chat
from callcue.chat.scoring import caps_words, negations
from callcue.engine.events import CallStart, Cue, Frustration, Summary, Utterance, from_dict
from callcue.engine.language import tokens_of

DATA = Path(__file__).parent / "data"


def cues(events):
    return [(e.at, e.id) for e in events if isinstance(e, Cue)]


def test_the_event_stream_of_a_chat():
    events = analyze_chat_file(str(DATA / "angry.txt"))
    assert isinstance(events[0], CallStart) and isinstance(events[-1], Summary)
    assert events[0].channels == ["agent", "customer"] and events[0].duration_s == 500.0
    times = [e.time for e in events[1:-1]]
    assert times == sorted(times)
    for e in events:  # JSON Lines that read back into the same events
        assert from_dict(json.loads(e.to_json())).to_dict() == e.to_dict()
    utts = [e for e in events if isinstance(e, Utterance)]
    assert len(utts) == 11
    assert all(u.frustration is None for u in utts if u.who == "agent")  # never the agent's feelings
    assert all(0.0 <= u.frustration <= 1.0 for u in utts if u.who == "customer")
    levels = [e for e in events if isinstance(e, Frustration)]
    assert len(levels) == sum(u.who == "customer" for u in utts)
    assert cues(events) == [(200.0, "reply-waiting"), (260.0, "acknowledge-frustration"),
                            (290.0, "escalation-request"), (470.0, "repeated-question")]
    assert events[-1].cues == ["reply-waiting", "acknowledge-frustration", "escalation-request", "repeated-question"]
    assert events[-1].frustration_peak >= 0.7


def test_frustration_orders_messages_sensibly():
    s = ChatSession()
    s.add("customer", "Hello, could I change my delivery address please?", 0)
    s.add("agent", "Of course! What is the new address?", 10)
    s.add("customer", "Great, thank you!", 20)
    calm = [u.frustration for u in s.utterances if u.who == "customer"]
    a = ChatSession()
    a.add("customer", "This is RIDICULOUS. I have already tried THREE times and it still does not work!!", 0)
    angry = a.utterances[0].frustration
    assert max(calm) < 0.5 <= angry and angry > 0.9


def test_waiting_with_no_reply_fires_on_the_chats_clock():
    s = ChatSession()
    s.add("customer", "Hi, where is my parcel?", 100.0)
    assert s.tick(219.9) == []
    fired = s.tick(500.0)
    assert cues(fired) == [(220.0, "reply-waiting")]  # at the moment it became due, not when we looked
    assert "No reply for 2 min 00 s" in fired[0].why
    assert s.tick(900.0) == []  # once per wait
    s.add("agent", "Sorry for the wait! It arrives tomorrow.", 910.0)
    s.add("customer", "And the other one?", 920.0)
    assert cues(s.tick(1040.0)) == [(1040.0, "reply-waiting")]  # a new wait, a new cue


def test_a_reply_in_time_means_no_waiting_cue_and_let_me_check_gives_longer():
    s = ChatSession()
    s.add("customer", "Hi, where is my parcel?", 0)
    s.add("agent", "Hi! Let me check, one moment.", 60)
    s.add("customer", "ok", 70)
    assert s.tick(70 + 120 + 1) == []  # after "let me check" the limit is after_hold_s
    assert cues(s.tick(400)) == [(310.0, "reply-waiting")]


def test_a_replayed_chat_gives_the_events_of_the_live_one():
    msgs = read_chat(DATA / "angry.txt")
    replay = analyze_messages(msgs)
    live = ChatSession(transcript="file")
    live.start(note="chat", duration_s=500.0)
    t = 0.0
    for m in msgs:  # the live side also ticks every few seconds between messages
        while t + 7 < m.t:
            t += 7
            live.tick(t)
        live.add(m.who, m.text, m.t)
    live.finish()
    assert [e.to_dict() for e in live.events] == [e.to_dict() for e in replay]


def test_untimed_chat_says_so_and_never_cues_waiting():
    msgs = [ChatMessage("customer", "Where is my order?", None), ChatMessage("customer", "Hello?", None),
            ChatMessage("customer", "HELLO??? ANYONE THERE???", None), ChatMessage("agent", "Hi", None)]
    events = analyze_messages(msgs)
    assert "not measured" in events[0].note
    assert "reply-waiting" not in [c for _, c in cues(events)]
    assert [e.start for e in events if isinstance(e, Utterance)] == [0.0, 20.0, 40.0, 60.0]


def test_escalation_shouting_and_a_streak():
    s = ChatSession()
    out = s.add("customer", "Can I talk to a real person please", 0)
    assert cues(out) == [(0, "escalation-request")]
    s = ChatSession()
    out = s.add("customer", "WHY IS MY ACCOUNT LOCKED AGAIN", 0)
    assert [c for _, c in cues(out)] == ["customer-shouting"]
    s = ChatSession()
    got = []
    for i, text in enumerate(["My payment failed and I was charged anyway.",
                              "This is unacceptable, I have tried three times already.",
                              "Still nothing works. Useless."]):
        got += cues(s.add("customer", text, 100.0 * i))
    # charged for a failed payment is upsetting from the first message; the streak cue comes with
    # the third upset message; the wait ran out while another cue showed
    assert got == [(0.0, "acknowledge-frustration"), (100.0, "acknowledge-frustration"), (145.0, "reply-waiting"),
                   (200.0, "negative-streak")]


def test_repeated_question_only_for_the_same_question():
    s = ChatSession()
    s.add("customer", "When will my refund arrive?", 0)
    s.add("agent", "Let me look.", 30)
    assert cues(s.add("customer", "Do you sell gift cards?", 60)) == []
    out = s.add("customer", "So when will my refund arrive??", 200)
    assert cues(out) == [(200.0, "negotiate"), (200.0, "repeated-question")]  # a warn replaces an info
    assert out[-1].evidence["first_asked"] == 0.0


def test_an_apology_clears_the_stale_prompts():
    s = ChatSession()
    s.add("customer", "I want to speak to your manager right now.", 0)  # alert on screen
    s.add("customer", "This is ridiculous, nobody helps and it still does not work!", 5)
    assert {p.spec.id for p in s.board._pending} & {"acknowledge-frustration"}
    s.add("agent", "I'm so sorry, I understand. Let me fix this now.", 20)
    s.tick(200)
    assert "acknowledge-frustration" not in [c.id for c in s.board.shown]


def test_chat_signals_that_are_not_what_they_seem():
    assert caps_words("My postcode is LS1 4AB and the PDF is attached") == []
    assert caps_words("I SAID NO") == ["SAID", "NO"]
    assert negations(tokens_of("No problem, thanks")) == 0
    assert negations(tokens_of("No.")) == 0
    assert negations(tokens_of("It does not work and I never got an email")) == 2
    # what the screen wrote, quoted or spelled as a code, is not the customer shouting
    assert caps_words('It says "LICENSE ALREADY FULFILLED BY ANOTHER USER"') == []
    assert caps_words('The message: \u201cPAYMENT DECLINED') == []
    assert caps_words("Error E _ LIC _ ALREADY _ FULFILLED and I am SO FURIOUS") == ["SO", "FURIOUS"]


def test_a_plain_no_that_answers_the_agent_is_not_a_complaint():
    def score(agent: str) -> float:
        s = ChatSession()
        s.add("customer", "The app will not open on my tablet.", 0)
        s.add("agent", agent, 30)
        s.add("customer", "No, I never did.", 60)
        return s.utterances[-1].frustration

    assert score("Have you reinstalled it since the update?") < score("I will check the logs.")


def test_a_fault_report_and_a_money_dispute_weigh_apart():
    s = ChatSession()
    s.add("customer", "The download does not work on my e-reader.", 0)
    fault = s.utterances[-1]
    s = ChatSession()
    s.add("customer", "You charged me twice for the same order.", 0)
    money = s.utterances[-1]
    assert "reports a fault" in fault.signals and "frustration" not in " ".join(fault.signals)
    assert money.frustration > fault.frustration


def test_customer_placeholders_are_not_words():
    s = ChatSession()
    s.add("customer", "My email is #EMAIL# and my name is #NAME#", 0)
    assert "capitals or exclamations" not in s.utterances[0].signals


def test_summary_scores_the_agents_replies():
    events = analyze_chat_file(str(DATA / "waiting.csv"))
    summary = events[-1]
    assert summary.scores.get("time-management") == 100
    assert any("Longest wait" in n for n in summary.notes)
    assert 0 < summary.talk_ratio < 1
