"""The post-call report as one self-contained HTML file: inline CSS and SVG, no scripts needed,
nothing fetched. Markers on the timeline link to the transcript line they happened in."""

from __future__ import annotations

from html import escape

from callcue import __version__
from callcue.report.data import ReportData, clock, frustration_story, key_numbers, safe
from callcue.report.svg import CHANNEL_COLOURS, MIXED, SEVERITY, bar_svg, legend_items, timeline_svg

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


def _chip(level: float) -> str:
    colour = "#c0392b" if level >= 0.7 else ("#d4a000" if level >= 0.5 else "#9aa3ad")
    return f'<span class="chip" style="background:{colour}">{level:.2f}</span>'


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
    s, session = data.summary, data.session
    started = session.started().strftime("%Y-%m-%d %H:%M")
    flags = "".join(f'<span class="flag">{_e(f)}</span>' for f in data.flags)
    if session.state != "finished":
        flags += f'<span class="flag recovered">{_e(session.state)}</span>'
    who = _e(safe(session.agent) or "unknown agent")
    source = f" &middot; {_e(safe(session.source).rsplit('/', 1)[-1])}" if session.source else ""
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Call review: {who}, {started}</title>",
        f"<style>{CSS}</style></head><body><main>",
        f"<h1>Call review: {who}{flags}</h1>",
        f'<div class="meta">{started} &middot; {clock(data.duration_s)} long &middot; profile '
        f"{_e(safe(session.profile) or 'default')} &middot; {_e(session.kind)}{source} &middot; "
        f"session {_e(session.id)}</div>",
        '<div class="cards">',
    ]
    for label, value, detail in key_numbers(data):
        out.append(f'<div class="card"><div class="l">{_e(label)}</div><div class="v">{_e(value)}</div>'
                   f'<div class="d">{_e(detail)}</div></div>')
    out.append("</div>")

    out.append('<h2>What happened</h2><div class="panel story">')
    out += [f"<p>{_e(line)}</p>" for line in frustration_story(data)]
    out.append("</div>")

    out.append('<h2>Timeline</h2><div class="panel">')
    out.append(timeline_svg(data))
    out.append(_legend(data))
    out.append('<p class="legend">Click a marker to jump to that moment in the transcript.</p></div>')

    notes = s.get("notes") or []
    if notes:
        out.append('<h2>Coaching notes</h2><div class="panel"><ul class="notes">')
        out += [f"<li>{_e(safe(n))}</li>" for n in notes]
        out.append("</ul></div>")

    card = s.get("scorecard") or {}
    out.append('<h2>Scorecard</h2><div class="panel">')
    if card:
        out.append("<table><tr><th>Skill</th><th></th><th>Score</th><th>How it was computed</th></tr>")
        for skill, sc in sorted(card.items(), key=lambda kv: kv[1]["score"]):
            out.append(f'<tr><td>{_e(skill)}</td><td class="bar">{bar_svg(int(sc["score"]))}</td>'
                       f'<td class="score">{int(sc["score"])}</td><td>{_e(safe(sc.get("basis", "")))}</td></tr>')
        out.append("</table><p class=\"legend\">Scores cover what the agent did (pace, talk-over, silences, "
                   "words); the agent's own emotions are never scored.</p>")
    else:
        out.append("<p>No scorecard for this call.</p>")
    out.append("</div>")

    commitments = s.get("commitments") or []
    out.append('<h2>Commitments</h2><div class="panel">')
    if commitments:
        out.append("<table><tr><th>At</th><th>Promise</th><th>Due</th></tr>")
        for c in commitments:
            line = data.utterance_at(c["at"])
            at = f'<a href="#t-{line}">{clock(c["at"])}</a>' if line is not None else clock(c["at"])
            out.append(f'<tr><td class="t">{at}</td><td>{_e(safe(c["text"]))}</td>'
                       f"<td>{_e(c.get('due') or 'no time given')}</td></tr>")
        out.append("</table>")
    else:
        out.append("<p>No commitments were heard.</p>")
    out.append("</div>")

    out.append('<h2>Cues shown to the agent</h2><div class="panel">')
    if data.cues:
        out.append("<table><tr><th>At</th><th>Cue</th><th>Skill</th><th>What the agent did</th></tr>")
        for c in data.cues:
            colour = SEVERITY.get(c.get("severity", "info"), SEVERITY["info"])
            line = data.utterance_at(c["at"])
            at = f'<a href="#t-{line}">{clock(c["at"])}</a>' if line is not None else clock(c["at"])
            out.append(f'<tr><td class="t">{at}</td><td><span class="chip" style="background:{colour}">'
                       f'{_e(c.get("severity", ""))}</span> {_e(safe(c["text"]))}</td><td>{_e(c["skill"])}</td>'
                       f'<td>{_e(c.get("outcome", "shown"))}</td></tr>')
        out.append("</table>")
    else:
        out.append("<p>No cues were shown.</p>")
    out.append("</div>")

    out.append('<h2>Transcript</h2><div class="panel">')
    if data.transcript:
        out.append("<table><tr><th>At</th><th>Who</th><th>Said</th><th>Frustration</th></tr>")
        for i, u in enumerate(data.transcript):
            colour = CHANNEL_COLOURS.get(u.who, MIXED)
            text = _e(safe(u.text)) if u.text else '<span class="meta">(speech, no words)</span>'
            level = _chip(u.frustration) if u.frustration is not None else ""
            out.append(f'<tr id="t-{i}" data-start="{u.start:.3f}"><td class="t">{clock(u.start)}</td>'
                       f'<td class="who" style="color:{colour}">{_e(u.who)}</td><td>{text}</td>'
                       f"<td>{level}</td></tr>")
        out.append("</table>")
    else:
        out.append("<p>No transcript was saved for this call.</p>")
    out.append("</div>")
    out.append(f"<footer>Made by Callcue {__version__} on this computer. Card, account, phone, social security "
               "numbers and email addresses are replaced by tags such as [card].</footer>")
    out.append("</main></body></html>")
    return "\n".join(out) + "\n"
