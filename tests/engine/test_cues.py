"""The cue budget: one at a time, urgent first, cooldowns, caps, and the agent's controls."""

from callcue.engine.cues import SNOOZE_S, CueBoard
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
    assert b.offer("escalation-request", 4.0) == []
    assert shown(b.offer("escalation-request", 3.0 + SNOOZE_S + 1)) == ["escalation-request"]
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
