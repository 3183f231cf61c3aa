"""The panel as lines of text, for machines without a display (`callcue demo --headless`).

It reads the same PanelState the overlay draws, so each line is something the window would show:
a cue appearing or leaving, the frustration meter, the silence timer, captions, problems.
"""

from __future__ import annotations

import sys
from typing import TextIO

from callcue.engine.events import Cue, CueAction, Event, Frustration, Summary, Utterance
from callcue.ui.panel import PanelState, Phase, Tick, clock, mmss

TREND = {"rising": "\u25b2 rising", "falling": "\u25bc falling", "steady": "\u25b6 steady"}


class HeadlessPanel:
    def __init__(self, out: TextIO | None = None, captions: bool = True) -> None:
        self.state = PanelState()
        self.out = out or sys.stdout
        self.captions = captions
        self._cue_key: tuple[str, float] | None = None
        self._silence_shown = False
        self._quiet_max = 0.0
        self._phase = ""
        self._said_problems: dict[str, str] = {}

    def _say(self, at: float, text: str) -> None:
        self.out.write(f"[{clock(at)}] {text}\n")
        self.out.flush()

    # ---- the Outlet of a CallSession ---------------------------------------------------------

    def events(self, events: list[Event]) -> None:
        for ev in events:
            self.state.apply(ev)
            if isinstance(ev, Cue):
                self._cue_key = (ev.id, ev.at)
                self._say(ev.at, f"CUE  {ev.text}   [{ev.skill}, {ev.severity}]")
                self.out.write(f"           why: {ev.why}\n")
            elif isinstance(ev, CueAction):
                what = {"dismiss": "cue dismissed",
                        "snooze": f"coaching cues snoozed for {mmss((ev.until or ev.at) - ev.at)} (alerts still show)",
                        "unsnooze": "snooze cancelled", "hold": "hold on: coaching cues muted (alerts still show)",
                        "resume": "hold off" + (f" ({ev.reason})" if ev.reason else "")}.get(ev.action, ev.action)
                self._cue_key = None if self.state.cue is None else self._cue_key
                self._say(ev.at, what)
            elif isinstance(ev, Frustration):
                bar = "#" * round(10 * ev.level)
                self._say(ev.at, f"frustration {ev.level:.2f} {TREND.get(ev.trend, ev.trend)}  [{bar:<10}]")
            elif isinstance(ev, Utterance) and self.captions and ev.text.strip():
                self._say(ev.end, f"  {ev.who}: {ev.text}")
            elif isinstance(ev, Summary):
                self._summary(ev)
        self._problems()

    def tick(self, t: Tick) -> None:
        st = self.state
        st.tick(t)
        if self._cue_key is not None and st.cue is None:
            self._say(st.now, "cue off (its time is over)")
            self._cue_key = None
        if st.silence_visible and not self._silence_shown:
            self._silence_shown = True
            self._say(st.now, f"silence timer {mmss(st.quiet_s)}")
        if st.silence_visible:
            self._quiet_max = max(self._quiet_max, st.quiet_s)
        elif self._silence_shown:
            self._silence_shown = False
            self._say(st.now, f"silence timer off (the line was quiet {self._quiet_max:.0f} s)")
            self._quiet_max = 0.0

    def phase(self, phase: Phase) -> None:
        self.state.set_phase(phase)
        if phase.message != self._phase:
            self._phase = phase.message
            self._say(self.state.now, f"status: {phase.message}")

    # ---- text ------------------------------------------------------------------------------------

    def _problems(self) -> None:
        for kind, message in self.state.problems.items():
            if self._said_problems.get(kind) != message:
                self._said_problems[kind] = message
                self._say(self.state.now, f"PROBLEM {kind}: {message}")

    def _summary(self, s: Summary) -> None:
        self.out.write("\nAfter the call\n")
        if s.talk_ratio is not None:
            self.out.write(f"  talk: agent {100 * s.talk_ratio:.0f}%, customer {100 - 100 * s.talk_ratio:.0f}%\n")
        self.out.write(f"  talk-over: {s.interruptions}; longest silence {s.longest_silence_s:.1f} s\n")
        if s.frustration_peak is not None:
            self.out.write(f"  frustration peak: {s.frustration_peak:.2f}\n")
        for c in s.commitments:
            due = f" (due {c['due']})" if c.get("due") else ""
            self.out.write(f"  promise: \u201c{c['text']}\u201d{due}\n")
        self.out.flush()
