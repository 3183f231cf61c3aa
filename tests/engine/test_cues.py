"""The cue budget: one at a time, urgent first, cooldowns, caps, and the agent's controls."""

import dataclasses

from callcue.engine.cues import CueBoard, CueBudget
from callcue.engine.events import Cue, CueAction


def shown(events):
    return [e.id for e in events if isinstance(e, Cue)]


def test_one_cue_at_a_time_and_urgent_replaces(playbook):
    b = CueBoard(playbook)
    assert shown(b.offer("let-them-finish", 10.0)) == ["let-them-finish"]
    assert b.offer("note-commitment", 11.0) == []  # info waits behind warn
    assert shown(b.offer("escalation-request", 12.0)) == ["escalation-request"]  # alert replaces warn
    assert b.active.id == "escalation-request"


def test_waiting_cue_shows_after_the_current_one_or_is_dropped(playbook):
    b = CueBoard(playbook)
    show = playbook.section("playbook")["show_s"]
    b.offer("let-them-finish", 10.0)
    b.offer("repeat-contact", 11.0)
    assert b.tick(10.0 + show - 0.01) == []
    assert shown(b.tick(10.0 + show)) == ["repeat-contact"]
    b2 = CueBoard(playbook)
    b2.offer("escalation-request", 0.0)
    b2.offer("negotiate", 1.0)
    wait = playbook.section("playbook")["wait_s"]
    assert b2.tick(1.0 + wait + 0.1) == []  # waited too long: stale, dropped


def test_cooldown_and_cap(playbook):
    spec = playbook.cue("let-them-finish")
    b = CueBoard(playbook)
    t = 0.0
    fired = 0
    for _ in range(10):
        fired += len(shown(b.offer("let-them-finish", t)))
        b.tick(t + 100)
        t += spec.cooldown_s / 2
    assert fired <= spec.max_per_call
    b2 = CueBoard(playbook)
    b2.offer("let-them-finish", 0.0)
    b2.tick(50)
    assert b2.offer("let-them-finish", spec.cooldown_s - 1) == []
    assert shown(b2.offer("let-them-finish", spec.cooldown_s + 1)) == ["let-them-finish"]


def test_dismiss_snooze_hold(playbook):
    b = CueBoard(playbook)
    b.offer("let-them-finish", 1.0)
    act = b.act("dismiss", 2.0)
    assert isinstance(act[0], CueAction) and act[0].cue == "let-them-finish" and b.active is None
    assert b.dismissed == ["let-them-finish"]
    b.act("snooze", 3.0)
    snooze_s = playbook.section("playbook")["snooze_s"]
    assert b.offer("escalation-request", 4.0) == []
    assert shown(b.offer("escalation-request", 3.0 + snooze_s + 1)) == ["escalation-request"]
    b.act("hold", 400.0)
    assert b.active is None
    assert b.offer("negotiate", 401.0) == []
    b.act("resume", 402.0)
    assert shown(b.offer("negotiate", 403.0)) == ["negotiate"]


def test_a_cue_carries_its_evidence(playbook):
    b = CueBoard(playbook)
    (cue,) = b.offer("negotiate", 5.0, 'They said "refund".', {"utterance": "I want a refund"})
    assert cue.why == 'They said "refund".' and cue.evidence["utterance"] == "I want a refund"
    assert cue.until == 5.0 + playbook.section("playbook")["show_s"]


def test_the_budget_is_the_playbooks(playbook):
    budget = CueBudget.of(playbook)
    pb = playbook.section("playbook")
    assert (budget.max_per_call, budget.show_s, budget.wait_s, budget.snooze_s) == (
        pb["max_cues_per_call"], pb["show_s"], pb["wait_s"], pb["snooze_s"])
    short = CueBoard(playbook, budget=dataclasses.replace(budget, snooze_s=60.0, max_per_call=1))
    short.act("snooze", 0.0)
    assert short.offer("escalation-request", 59.0) == []
    assert shown(short.offer("escalation-request", 61.0)) == ["escalation-request"]
    assert short.offer("let-them-finish", 200.0) == []  # one cue a call, and it has been shown


def test_dismiss_names_the_cue_the_agent_saw(playbook):
    b = CueBoard(playbook)
    b.offer("let-them-finish", 1.0)
    b.offer("escalation-request", 2.0)  # replaces it before the agent's click arrives
    assert b.act("dismiss", 2.1, "let-them-finish") == []
    assert b.active.id == "escalation-request"
    assert b.act("dismiss", 2.2, "escalation-request")[0].cue == "escalation-request"


def test_withdraw_drops_a_waiting_cue(playbook):
    b = CueBoard(playbook)
    b.offer("escalation-request", 1.0)
    b.offer("note-commitment", 2.0)  # waits behind the alert
    b.withdraw({"note-commitment"})
    assert b.tick(1.0 + playbook.section("playbook")["show_s"] + 0.1) == []
