"""The event stream as a timeline a person can read."""

from __future__ import annotations

from callcue.engine.events import (
    CallStart,
    Cue,
    CueAction,
    Event,
    Frustration,
    Interruption,
    Silence,
    Status,
    Summary,
    Utterance,
)


def clock(t: float) -> str:
    m, s = divmod(max(0.0, t), 60)
    return f"{int(m):02d}:{s:04.1f}"


def render_timeline(events: list[Event]) -> str:
    lines: list[str] = []
    last_level: float | None = None
    for ev in events:
        if isinstance(ev, CallStart):
            dur = f"{ev.duration_s:.1f} s" if ev.duration_s is not None else "live"
            src = {"file": "words from the transcript", "vosk": "words from Vosk"}.get(ev.transcript or "",
                                                                                    "no words")
            lines.append(f"Call: {dur}, channels {', '.join(ev.channels)}, {src}")
            if ev.note:
                lines.append(f"  note: {ev.note}")
        elif isinstance(ev, Cue):
            lines.append(f"{clock(ev.at)}  CUE [{ev.severity}] {ev.text}  ({ev.id}, {ev.skill})")
            lines.append(f"          why: {ev.why}")
        elif isinstance(ev, Silence):
            held = " after a hold announcement" if ev.hold else ""
            lines.append(f"{clock(ev.start)}  silence {ev.duration_s:.1f} s{held}")
        elif isinstance(ev, Interruption):
            lines.append(f"{clock(ev.at)}  talk-over: {ev.by} over {ev.over} ({ev.overlap_s:.1f} s)")
        elif isinstance(ev, Frustration):
            if last_level is None or abs(ev.level - last_level) >= 0.05:
                bar = "#" * round(ev.level * 20)
                lines.append(f"{clock(ev.at)}  frustration {ev.level:.2f} {ev.trend:<7} {bar}")
            last_level = ev.level
        elif isinstance(ev, Utterance) and ev.who == "customer" and ev.frustration is not None \
                and ev.frustration >= 0.6 and ev.text:
            lines.append(f'{clock(ev.start)}  customer: "{ev.text}"')
        elif isinstance(ev, CueAction):
            lines.append(f"{clock(ev.at)}  agent: {ev.action}" + (f" {ev.cue}" if ev.cue else ""))
        elif isinstance(ev, Status):
            lines.append(f"{clock(ev.at)}  status: {ev.kind}: {ev.message}")
        elif isinstance(ev, Summary):
            lines.append("")
            lines.append("Summary")
            if ev.talk_ratio is not None:
                lines.append(f"  talk: agent {100 * ev.talk_ratio:.0f}%, customer {100 - 100 * ev.talk_ratio:.0f}%")
            by = ", ".join(f"{n} by {who}" for who, n in ev.interruptions_by.items())
            lines.append(f"  talk-over: {ev.interruptions}" + (f" ({by})" if by else ""))
            lines.append(f"  silences: {ev.silences}, longest {ev.longest_silence_s:.1f} s")
            if ev.frustration_peak is not None:
                lines.append(f"  frustration peak: {ev.frustration_peak:.2f}")
            lines.append(f"  cues: {', '.join(ev.cues) or 'none'}")
            for c in ev.commitments:
                due = f" (due {c['due']})" if c.get("due") else ""
                lines.append(f'  commitment at {clock(c["at"])}: "{c["text"]}"{due}')
            for skill, sc in ev.scorecard.items():
                lines.append(f"  {skill:<20} {sc['score']:>3}  {sc['basis']}")
            for note in ev.notes:
                lines.append(f"  {note}")
    return "\n".join(lines) + "\n"
