"""The post-call report as one self-contained HTML file: inline CSS and SVG, no scripts needed,
nothing fetched. Markers on the timeline link to the transcript line they happened in."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import TypeVar

from callcue import __version__
from callcue.report.data import CueShown, Line, Promise, ReportData, Score, Section, clock
from callcue.report.svg import CHANNEL_COLOURS, LEVEL_COLOURS, MIXED, SEVERITY, bar_svg, legend_items, timeline_svg

T = TypeVar("T")

CSS = """
body { font-family: "DejaVu Sans", "Segoe UI", Arial, sans-serif; color: #1f2933; margin: 0; background: #f5f7f9; }
main { max-width: 1000px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 28px 0 10px; border-bottom: 1px solid #d8dee4; padding-bottom: 4px; }
.meta { color: #5b6673; font-size: 13px; }
.flag { display: inline-block; background: #c0392b; color: #fff; border-radius: 3px; padding: 1px 6px;
        font-size: 12px; margin-left: 6px; }
.flag.recovered { background: #7a6fb0; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin-top: 16px; }
.card { background: #fff; border: 1px solid #dde3e8; border-radius: 6px; padding: 10px 14px; min-width: 150px; }
.card .v { font-size: 24px; font-weight: bold; }
.card .l { font-size: 12px; color: #5b6673; text-transform: uppercase; letter-spacing: .04em; }
.card .d { font-size: 12px; color: #5b6673; }
.panel { background: #fff; border: 1px solid #dde3e8; border-radius: 6px; padding: 12px 14px; }
.story p { margin: 4px 0; }
.legend { font-size: 12px; color: #5b6673; margin-top: 6px; }
.legend span { margin-right: 14px; white-space: nowrap; }
.sw { display: inline-block; width: 12px; height: 8px; margin-right: 4px; vertical-align: middle; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th { text-align: left; color: #5b6673; font-weight: normal; border-bottom: 1px solid #d8dee4; padding: 4px 6px; }
td { border-bottom: 1px solid #eef1f4; padding: 5px 6px; vertical-align: top; }
td.t { color: #5b6673; white-space: nowrap; width: 48px; }
td.who { font-weight: bold; width: 70px; }
td.score { width: 40px; font-weight: bold; text-align: right; }
td.bar { width: 150px; }
tr:target { background: #fff3c4; }
.chip { display: inline-block; border-radius: 3px; padding: 0 5px; font-size: 11px; color: #fff; }
.notes li { margin: 4px 0; }
footer { margin-top: 32px; font-size: 11px; color: #8a94a0; }
"""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _chip(line: Line) -> str:
    if line.frustration is None:
        return ""
    return f'<span class="chip" style="background:{LEVEL_COLOURS[line.level]}">{line.frustration:.2f}</span>'


def _at(at: float, line: int | None) -> str:
    """A time that links to its transcript line."""
    return f'<a href="#t-{line}">{clock(at)}</a>' if line is not None else clock(at)


def _section(section: Section[T], headers: tuple[str, ...], row: Callable[[int, T], str],
             after: str = "") -> list[str]:
    """A titled panel: a table with a row per record, or the section's words for none."""
    out = [f'<h2>{_e(section.title)}</h2><div class="panel">']
    if section:
        head = "".join(f"<th>{_e(h)}</th>" for h in headers)
        out += [f"<table><tr>{head}</tr>", *(row(i, r) for i, r in enumerate(section)), "</table>" + after]
    else:
        out.append(f"<p>{_e(section.empty)}</p>")
    return [*out, "</div>"]


def _score_row(_: int, sc: Score) -> str:
    return (f'<tr><td>{_e(sc.skill)}</td><td class="bar">{bar_svg(sc)}</td><td class="score">{sc.score}</td>'
            f"<td>{_e(sc.basis)}</td></tr>")


def _promise_row(_: int, c: Promise) -> str:
    due = c.due or "no time given"
    return f'<tr><td class="t">{_at(c.at, c.line)}</td><td>{_e(c.text)}</td><td>{_e(due)}</td></tr>'


def _cue_row(_: int, cue: CueShown) -> str:
    colour = SEVERITY.get(cue.severity, SEVERITY["info"])
    return (f'<tr><td class="t">{_at(cue.at, cue.line)}</td><td><span class="chip" style="background:{colour}">'
            f"{_e(cue.severity)}</span> {_e(cue.text)}</td><td>{_e(cue.skill)}</td><td>{_e(cue.outcome)}</td></tr>")


def _line_row(i: int, u: Line) -> str:
    """A transcript line, with the id that the timeline's markers and the tables' times link to."""
    text = _e(u.text) if u.text else '<span class="meta">(speech, no words)</span>'
    return (f'<tr id="t-{i}" data-start="{u.start:.3f}"><td class="t">{clock(u.start)}</td>'
            f'<td class="who" style="color:{CHANNEL_COLOURS.get(u.who, MIXED)}">{_e(u.who)}</td><td>{text}</td>'
            f"<td>{_chip(u)}</td></tr>")


def _legend(data: ReportData) -> str:
    parts = []
    for shape, colour, label in legend_items(data):
        style = f"background:{colour}"
        if shape == "line":
            style += ";height:3px"
        elif shape == "box":
            style += ";opacity:.4"
        elif shape == "dia":
            style += ";transform:rotate(45deg);width:8px"
        elif shape == "tri":
            style = (f"width:0;height:0;border-left:6px solid transparent;border-right:6px solid transparent;"
                     f"border-top:9px solid {colour}")
        parts.append(f'<span><i class="sw" style="{style}"></i>{_e(label)}</span>')
    return '<div class="legend">' + "".join(parts) + "</div>"


def render_html(data: ReportData) -> str:
    head = data.header
    started = head.started.strftime("%Y-%m-%d %H:%M")
    flags = "".join(f'<span class="flag">{_e(f)}</span>' for f in head.flags)
    if head.state != "finished":
        flags += f'<span class="flag recovered">{_e(head.state)}</span>'
    who = _e(head.agent or "unknown agent")
    source = f" &middot; {_e(head.source)}" if head.source else ""
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Call review: {who}, {started}</title>",
        f"<style>{CSS}</style></head><body><main>",
        f"<h1>Call review: {who}{flags}</h1>",
        f'<div class="meta">{started} &middot; {clock(head.duration_s)} long &middot; profile '
        f"{_e(head.profile)} &middot; {_e(head.kind)}{source} &middot; session {_e(head.session_id)}</div>",
        '<div class="cards">',
    ]
    for n in data.numbers:
        out.append(f'<div class="card"><div class="l">{_e(n.label)}</div><div class="v">{_e(n.value)}</div>'
                   f'<div class="d">{_e(n.detail)}</div></div>')
    out.append("</div>")

    out.append(f'<h2>{_e(data.story.title)}</h2><div class="panel story">')
    out += [f"<p>{_e(line)}</p>" for line in data.story]
    out.append("</div>")

    out.append('<h2>Timeline</h2><div class="panel">')
    out.append(timeline_svg(data))
    out.append(_legend(data))
    out.append('<p class="legend">Click a marker to jump to that moment in the transcript.</p></div>')

    if data.notes:
        out.append(f'<h2>{_e(data.notes.title)}</h2><div class="panel"><ul class="notes">')
        out += [f"<li>{_e(n)}</li>" for n in data.notes]
        out.append("</ul></div>")
    out += _section(data.scorecard, ("Skill", "", "Score", "How it was computed"), _score_row,
                    '<p class="legend">Scores cover what the agent did (pace, talk-over, silences, words); the '
                    "agent's own emotions are never scored.</p>")
    out += _section(data.commitments, ("At", "Promise", "Due"), _promise_row)
    out += _section(data.cues, ("At", "Cue", "Skill", "What the agent did"), _cue_row)
    out += _section(data.transcript, ("At", "Who", "Said", "Frustration"), _line_row)
    out.append(f"<footer>Made by Callcue {__version__} on this computer. Card, account, phone, social security "
               "numbers and email addresses are replaced by tags such as [card].</footer>")
    out.append("</main></body></html>")
    return "\n".join(out) + "\n"
