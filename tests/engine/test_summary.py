"""The scorecard, skill by skill, from hand-made facts (no engine, no audio): each test's numbers
follow from the default playbook's [scorecard] weights, so a changed weight or rule fails here."""

from __future__ import annotations

from dataclasses import replace

import pytest

from callcue.engine.events import Frustration, Interruption, Silence, Utterance
from callcue.engine.playbook import load_playbook
from callcue.engine.summary import (
    Commitment,
    SummaryFacts,
    SummaryRules,
    build_summary,
    coaching_notes,
    frustration_timeline,
    scorecard,
)
from callcue.errors import CallcueError


@pytest.fixture(scope="module")
def rules() -> SummaryRules:
    return SummaryRules.from_playbook(load_playbook())


@pytest.fixture
def calm(rules) -> SummaryFacts:
    """A two-party call in which nothing happened that a score looks at."""
    return SummaryFacts(rules=rules, duration_s=120.0, words="file", two_party=True, anyone_spoke=True,
                        talk_s={"agent": 40.0, "customer": 40.0}, interruptions=[], silences=[], silence_s=5.0,
                        longest_gap_s=2.0, longest_monologue_s=10.0, utterances=[], frustration=[],
                        frustration_peak=None, empathy_at=[], commitments=[], cues_shown=[])


def agent(text: str, start: float = 10.0, sps: float | None = 4.0, signals: list[str] | None = None) -> Utterance:
    return Utterance("agent", start, start + 3.0, text, syllables_per_s=sps, signals=signals or [])


def score(facts: SummaryFacts, skill: str, talk_ratio: float | None = 0.5) -> tuple[int, str] | None:
    card = scorecard(facts, talk_ratio)
    return (card[skill]["score"], card[skill]["basis"]) if skill in card else None


def test_rules_are_the_playbooks(rules):
    assert (rules.high_frustration, rules.very_high_frustration, rules.good, rules.fair) == (0.5, 0.7, 80, 60)
    assert rules.skills["active-listening"]["interruption"] == 20
    pace = load_playbook().cue("slow-down")
    assert (rules.fast_syllables_per_s, rules.fast_min_words) == (pace["syllables_per_s"], pace["min_words"])
    assert [rules.band(s) for s in (80, 79, 60, 59)] == ["good", "fair", "fair", "poor"]
    assert [rules.level(v) for v in (0.7, 0.69, 0.5, 0.49)] == ["very high", "high", "high", "calm"]


def test_active_listening(calm):
    by_agent = [Interruption(at, "agent", "customer", 0.8) for at in (10.0, 30.0)]
    facts = replace(calm, interruptions=[*by_agent, Interruption(50.0, "customer", "agent", 0.9)],
                    longest_monologue_s=31.0)
    assert score(facts, "active-listening") == (45, "2 interruption(s) of the customer (-20 each); "
                                                    "a 31s monologue (-15)")
    assert score(facts, "active-listening", talk_ratio=0.71)[0] == 35  # talking over 70% costs 10 more
    assert score(facts, "active-listening", talk_ratio=0.7)[0] == 45  # at 70% exactly, nothing
    assert score(replace(facts, longest_monologue_s=29.9), "active-listening")[0] == 60
    assert score(replace(calm, interruptions=by_agent * 3), "active-listening")[0] == 0  # never below 0
    assert score(replace(calm, two_party=False), "active-listening") is None  # one mixed channel: no evidence


def test_empathy(calm):
    high = replace(calm, frustration=[(20.0, 0.3), (40.0, 0.62), (60.0, 0.4)], frustration_peak=0.62)
    assert score(high, "empathy") == (30, "frustration reached 0.62; no acknowledgement followed")
    # an acknowledgement before the rise counts from 5 s before it; earlier ones do not
    assert score(replace(high, empathy_at=[34.9]), "empathy")[0] == 30
    assert score(replace(high, empathy_at=[35.0]), "empathy") == (100, "frustration reached 0.62; "
                                                                        "acknowledged 0s later")
    assert score(replace(high, empathy_at=[50.0]), "empathy")[0] == 100  # 10 s of grace
    assert score(replace(high, empathy_at=[60.0]), "empathy")[0] == 85  # then 1.5 a second
    assert score(replace(high, empathy_at=[200.0]), "empathy")[0] == 0
    calm_but_kind = replace(calm, frustration=[(20.0, 0.49)], frustration_peak=0.49, empathy_at=[5.0, 9.0])
    assert score(calm_but_kind, "empathy") == (100, "2 acknowledgement(s); no frustration")
    assert score(replace(calm_but_kind, empathy_at=[]), "empathy") is None


def test_clear_communication(calm):
    long = " ".join(["word"] * 15)
    utts = [agent(long, sps=5.5), agent(long, sps=5.49), agent("short and quick", sps=9.0),
            agent("the DNS and the MX record", signals=["jargon: dns", "jargon: mx record"]),
            agent("the DNS", signals=["jargon: dns", "empathy: sorry"])]
    facts = replace(calm, utterances=utts)
    assert score(facts, "clear-communication") == (70, "1 fast utterance(s) (-15 each); 1 with jargon (-15 each)")
    assert score(replace(facts, words=None), "clear-communication") is None  # voice only: no words to judge


def test_cultural_awareness(calm):
    utts = [agent("piece of cake, ballpark", signals=["idioms: piece of cake", "idioms: ballpark"]),
            agent("touch base", signals=["idioms: touch base"])]
    assert score(replace(calm, utterances=utts), "cultural-awareness") == (40, "3 idiom(s) (-20 each)")
    assert score(replace(calm, utterances=[agent("hello")]), "cultural-awareness") == (100, "0 idiom(s) (-20 each)")


def test_time_management(calm):
    silences = [Silence(10.0, 16.0, 6.0), Silence(30.0, 35.0, 5.0), Silence(50.0, 60.0, 10.0, hold=True),
                Silence(70.0, 74.9, 4.9)]  # the last is shorter than a silence
    facts = replace(calm, silences=silences)
    assert score(facts, "time-management") == (50, "2 unannounced silence(s) (-20 each), "
                                                    "1 after a hold announcement (-10 each)")
    assert score(replace(facts, anyone_spoke=False), "time-management") is None


def test_conflict_management(calm):
    asked = replace(calm, cues_shown=["escalation-request"], frustration=[(10.0, 0.5), (20.0, 0.8), (30.0, 0.69)],
                    frustration_peak=0.8)
    assert score(asked, "conflict-management") == (85, "the customer asked to escalate; frustration fell afterwards")
    stayed = replace(asked, frustration=[(10.0, 0.5), (20.0, 0.8), (30.0, 0.71)])
    assert score(stayed, "conflict-management") == (45, "the customer asked to escalate; frustration stayed high")
    # the signal alone (a cue already used up) is evidence too
    said = replace(stayed, cues_shown=[], utterances=[Utterance("customer", 1.0, 3.0, "x",
                                                                 signals=["asked to escalate"])])
    assert score(said, "conflict-management")[0] == 45
    assert score(replace(asked, cues_shown=[]), "conflict-management") is None


def test_accountability(calm):
    promises = [Commitment(10.0, "I will call you back tomorrow", "tomorrow"),
                Commitment(20.0, "I will look into it", None), Commitment(30.0, "I will email you", None)]
    assert score(replace(calm, commitments=promises), "accountability") == (80, "3 commitment(s), 1 with a time")
    assert score(replace(calm, commitments=promises[:1]), "accountability")[0] == 100
    assert score(replace(calm, commitments=promises[1:]), "accountability")[0] == 70
    assert score(calm, "accountability") is None


def test_negotiation(calm):
    asked = replace(calm, cues_shown=["negotiate"], utterances=[agent("That is our policy.")])
    assert score(asked, "negotiation") == (50, "the customer asked for money back; 0 offer(s) of options")
    offered = replace(asked, utterances=[agent("I can offer a credit instead"), agent("Or a refund to the card")])
    assert score(offered, "negotiation") == (90, "the customer asked for money back; 2 offer(s) of options")
    assert score(replace(offered, cues_shown=[]), "negotiation") is None


def test_a_team_playbook_changes_the_weights(tmp_path, calm):
    team = tmp_path / "team.toml"
    team.write_text("[scorecard.active-listening]\ninterruption = 12.5\n\n[scorecard]\ngood = 90\n")
    rules = SummaryRules.from_playbook(load_playbook(team))
    facts = replace(calm, rules=rules, interruptions=[Interruption(10.0, "agent", "customer", 0.8)])
    assert score(facts, "active-listening") == (88, "1 interruption(s) of the customer (-12.5 each)")
    to_try = "To try: active-listening (1 interruption(s) of the customer (-12.5 each))."
    assert build_summary(facts).notes[1:] == [to_try]  # 88 is below this team's good 90 ...
    assert build_summary(replace(facts, rules=replace(rules, good=80))).notes[1:] == []  # ... not below 80
    night = tmp_path / "night.toml"
    night.write_text("[profiles.night]\nscorecard.empathy.unanswered = 20\nsummary.high_frustration = 0.6\n")
    rules = SummaryRules.from_playbook(load_playbook(night, "night"))
    assert (rules.skills["empathy"]["unanswered"], rules.high_frustration, rules.good) == (20, 0.6, 80)


@pytest.mark.parametrize("body, words", [
    ("[summary]\nhigh_frustration = 0.8\n", "very high"),
    ("[scorecard]\nfair = 85\n", "fair not above good"),
    ("[scorecard.empathy]\nunanswerd = 20\n", "unknown setting 'scorecard.empathy.unanswerd'"),
])
def test_a_wrong_scorecard_setting_is_named(tmp_path, body, words):
    team = tmp_path / "team.toml"
    team.write_text(body)
    with pytest.raises(CallcueError, match=words) as err:
        load_playbook(team)
    assert str(err.value).startswith(f"{team}:")


def test_coaching_notes_name_the_best_and_a_weak_score():
    card = {"empathy": {"score": 100, "basis": "a"}, "time-management": {"score": 79, "basis": "b"}}
    assert coaching_notes(card, 80) == ["Went well: empathy (a).", "To try: time-management (b)."]
    assert coaching_notes(card, 79) == ["Went well: empathy (a)."]
    assert coaching_notes({}, 80) == []


def test_frustration_timeline_goes_by_the_high_level(rules):
    events = [Utterance("customer", 10.0, 12.0, "this is the third time", frustration=0.7),
              Frustration(12.0, 0.55, "rising"),
              Utterance("agent", 13.0, 15.0, "I'm sorry about that", signals=["empathy: sorry"]),
              Frustration(20.0, 0.72, "rising"), Frustration(40.0, 0.45, "falling")]
    tl = frustration_timeline(events, rules)
    assert (tl["peak"], tl["peak_at"], tl["threshold"], tl["end"]) == (0.72, 20.0, 0.5, 0.45)
    [ep] = tl["episodes"]
    assert (ep["rose_at"], ep["said"], ep["peak"], ep["settled_at"]) == (12.0, "this is the third time", 0.72, 40.0)
    assert ep["agent_next"] == {"did": ["acknowledged"], "at": 13.0, "after_s": 1.0, "text": "I'm sorry about that"}
    assert frustration_timeline(events, replace(rules, high_frustration=0.6))["episodes"][0]["rose_at"] == 20.0
    late = frustration_timeline(events, replace(rules, reaction_s=0.5))
    assert late["episodes"][0]["agent_next"] == {"did": ["said nothing for 0.5 s"]}


def test_build_summary_from_facts(calm):
    facts = replace(calm, talk_s={"agent": 60.0, "customer": 20.0}, frustration=[(30.0, 0.4)],
                    frustration_peak=0.4, utterances=[agent("one two three four five six", start=0.0)],
                    interruptions=[Interruption(3.0, "customer", "agent", 0.6)], cues_shown=["slow-down"])
    s = build_summary(facts)
    assert (s.talk_ratio, s.interruptions, s.interruptions_by, s.frustration_peak) == (
        0.75, 1, {"agent": 0, "customer": 1}, 0.4)
    assert s.agent_wpm == 120.0 and s.cues == ["slow-down"] and s.duration_s == 120.0
    assert s.scores == {"active-listening": 90, "clear-communication": 100, "cultural-awareness": 100,
                        "time-management": 100}


def test_the_agents_reaction_is_looked_for_in_the_playbooks_window(rules):
    def first_reply(start: float) -> dict:
        events = [Frustration(12.0, 0.6, "rising"), Utterance("agent", start, start + 1.0, "Okay.")]
        return frustration_timeline(events, rules)["episodes"][0]["agent_next"]

    assert first_reply(11.5)["after_s"] == 0.0 and first_reply(27.0)["after_s"] == 15.0  # 0.5 s before, 15 s after
    assert first_reply(11.4) == first_reply(27.1) == {"did": ["said nothing for 15 s"]}
    assert first_reply(20.0)["did"] == ["replied without acknowledging"]


def test_a_skill_that_lost_points_is_never_what_went_well():
    from callcue.engine.summary import coaching_notes

    lost = {"active-listening": {"score": 80, "basis": "1 interruption(s) of the customer (-20 each)"},
            "time-management": {"score": 60, "basis": "2 unannounced silence(s) (-20 each)"}}
    assert coaching_notes(lost, 80) == ["To try: time-management (2 unannounced silence(s) (-20 each))."]
    full = {**lost, "empathy": {"score": 100, "basis": "2 acknowledgement(s); no frustration"}}
    notes = coaching_notes(full, 80)
    assert notes[0] == "Went well: empathy (2 acknowledgement(s); no frustration)."
    assert not any(n.startswith("Went well: active-listening") for n in notes)
