"""The call timeline as an SVG drawing: the customer's frustration line, speech bars per channel,
silences, talk-over and cue markers, on the audio's own clock.

Presentation attributes only (no CSS), so Qt's SVG renderer draws it the same for the PDF.
"""

from __future__ import annotations

from html import escape

from callcue.report.data import ReportData, Score, clock

AGENT = "#2f6db5"
CUSTOMER = "#d9822b"
MIXED = "#7a6fb0"
FRUSTRATION = "#c0392b"
SILENCE = "#9aa3ad"
SEVERITY = {"info": "#3b8ea5", "warn": "#d4a000", "alert": "#c0392b"}
INK = "#1f2933"
MUTED = "#6b7785"
GRID = "#e3e7eb"
CHANNEL_COLOURS = {"agent": AGENT, "customer": CUSTOMER, "mixed": MIXED}
AMBER = "#b38700"
# The one set of report colours for a score's band and a frustration level's (their limits are
# the playbook's: [scorecard] good and fair, [summary] high and very high frustration).
SCORE_COLOURS = {"good": "#2e8b57", "fair": AMBER, "poor": FRUSTRATION}
LEVEL_COLOURS = {"very high": FRUSTRATION, "high": AMBER, "calm": SILENCE}
HIGH_LINE = "#e8b4ad"  # the dashed line at the high level


def tick_step(duration: float) -> float:
    for step in (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800):
        if duration / step <= 10:
            return float(step)
    return 3600.0


def timeline_svg(data: ReportData, width: int = 960, links: bool = True) -> str:
    """The timeline drawing. With `links`, each marker links to `#t-N`, the transcript line it
    happened in (the HTML report's transcript rows carry those ids)."""
    left, right = 84, 16
    plot_w = width - left - right
    top = 14
    frus_h = 96
    lane_h = 18
    lanes = data.channels or ["agent", "customer"]
    lane_top = top + frus_h + 16
    marks_y = lane_top + len(lanes) * (lane_h + 8) + 6
    axis_y = marks_y + 30
    height = axis_y + 22
    duration = max(data.duration_s, 1.0)

    def x(t: float) -> float:
        return left + plot_w * max(0.0, min(t, duration)) / duration

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="11" '
        'role="img" aria-label="Call timeline">',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    # Silences: shaded across the whole chart, so dead air is seen at once.
    for s in data.silences:
        x0, x1 = x(s.start), x(s.end)
        out.append(f'<rect x="{x0:.1f}" y="{top}" width="{max(1.0, x1 - x0):.1f}" height="{marks_y - top - 4}" '
                   f'fill="{SILENCE}" fill-opacity="0.22"><title>silence {s.duration_s:.1f} s at '
                   f'{clock(s.start)}{" (hold announced)" if s.hold else ""}</title></rect>')
    # Frustration: grid, threshold, line.
    out.append(f'<text x="{left - 8}" y="{top + 10}" text-anchor="end" fill="{INK}" font-weight="bold">'
               'Frustration</text>')
    out.append(f'<text x="{left - 8}" y="{top + 24}" text-anchor="end" fill="{MUTED}" font-size="10">'
               '(customer)</text>')
    high = data.rules.high_frustration
    for level in (0.0, high, 1.0):
        y = top + frus_h * (1 - level)
        dash = ' stroke-dasharray="4 3"' if level == high else ""
        colour = HIGH_LINE if level == high else GRID
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="{colour}"{dash}/>')
        out.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}" font-size="9">'
                   f'{level:.1f}</text>' if level != 1.0 else "")
    if data.frustration:
        pts = [(x(0.0), top + frus_h * (1 - data.frustration[0][1]))]
        for at, level in data.frustration:
            pts.append((x(at), top + frus_h * (1 - level)))
        pts.append((x(duration), pts[-1][1]))
        # A step line: the level holds until the customer's next utterance changes it.
        path = [f"M{pts[0][0]:.1f},{pts[0][1]:.1f}"]
        for (_, y0), (x1, y1) in zip(pts, pts[1:], strict=False):
            path.append(f"L{x1:.1f},{y0:.1f} L{x1:.1f},{y1:.1f}")
        line = " ".join(path)
        base = top + frus_h
        out.append(f'<path d="{line} L{pts[-1][0]:.1f},{base} L{pts[0][0]:.1f},{base} Z" fill="{FRUSTRATION}" '
                   'fill-opacity="0.12" stroke="none"/>')
        out.append(f'<path d="{line}" fill="none" stroke="{FRUSTRATION}" stroke-width="2"/>')
        for at, level in data.frustration:
            out.append(f'<circle cx="{x(at):.1f}" cy="{top + frus_h * (1 - level):.1f}" r="2.5" '
                       f'fill="{FRUSTRATION}"><title>{clock(at)} frustration {level:.2f}</title></circle>')
        if data.peak is not None:
            px, py = x(data.peak.at), top + frus_h * (1 - data.peak.level)
            anchor = "end" if px > left + plot_w - 90 else "start"
            dx = -6 if anchor == "end" else 6
            out.append(f'<text x="{px + dx:.1f}" y="{max(top + 9, py - 4):.1f}" text-anchor="{anchor}" '
                       f'fill="{FRUSTRATION}" font-weight="bold">peak {data.peak.level:.2f}</text>')
    else:
        out.append(f'<text x="{left + 8}" y="{top + frus_h / 2:.1f}" fill="{MUTED}">'
                   'no frustration estimate (no customer channel)</text>')
    # Speech bars, one lane per channel.
    for n, who in enumerate(lanes):
        y = lane_top + n * (lane_h + 8)
        colour = CHANNEL_COLOURS.get(who, MIXED)
        out.append(f'<text x="{left - 8}" y="{y + 13}" text-anchor="end" fill="{colour}" font-weight="bold">'
                   f'{escape(who.capitalize())}</text>')
        out.append(f'<rect x="{left}" y="{y}" width="{plot_w}" height="{lane_h}" fill="#f4f6f8"/>')
        for start, end in data.speech.get(who, []):
            out.append(f'<rect x="{x(start):.1f}" y="{y}" width="{max(0.8, x(end) - x(start)):.1f}" '
                       f'height="{lane_h}" fill="{colour}" rx="2"/>')
    # Markers: talk-over (triangles) and cues (diamonds), linked to the transcript.
    out.append(f'<text x="{left - 8}" y="{marks_y + 12}" text-anchor="end" fill="{INK}" font-weight="bold">'
               'Moments</text>')
    out.append(f'<line x1="{left}" y1="{marks_y + 8}" x2="{left + plot_w}" y2="{marks_y + 8}" stroke="{GRID}"/>')
    for m in data.markers:
        if m.kind not in ("interruption", "cue"):
            continue
        mx = x(m.at)
        colour = SEVERITY.get(m.severity, SEVERITY["info"])
        if m.kind == "interruption":
            colour = FRUSTRATION if m.severity == "warn" else MUTED
            shape = (f'<path d="M{mx - 6:.1f},{marks_y} L{mx + 6:.1f},{marks_y} L{mx:.1f},{marks_y + 11} Z" '
                     f'fill="{colour}"/>')
            guide_top = lane_top
        else:
            cy = marks_y + 16
            shape = (f'<path d="M{mx:.1f},{cy - 7} L{mx + 7:.1f},{cy} L{mx:.1f},{cy + 7} L{mx - 7:.1f},{cy} Z" '
                     f'fill="{colour}" stroke="#ffffff" stroke-width="1"/>')
            guide_top = top
        guide = (f'<line x1="{mx:.1f}" y1="{guide_top}" x2="{mx:.1f}" y2="{marks_y}" stroke="{colour}" '
                 'stroke-opacity="0.45" stroke-dasharray="2 2"/>')
        title = f"<title>{clock(m.at)} {escape(m.label)}</title>"
        body = guide + shape + title
        row = data.utterance_at(m.at)
        if links and row is not None:
            out.append(f'<a href="#t-{row}" data-at="{m.at:.3f}">{body}</a>')
        else:
            out.append(f"<g>{body}</g>")
    # Time axis.
    step = tick_step(duration)
    t = 0.0
    while t <= duration + 1e-6:
        tx = x(t)
        out.append(f'<line x1="{tx:.1f}" y1="{axis_y - 4}" x2="{tx:.1f}" y2="{axis_y}" stroke="{MUTED}"/>')
        out.append(f'<text x="{tx:.1f}" y="{axis_y + 13}" text-anchor="middle" fill="{MUTED}">{clock(t)}</text>')
        t += step
    out.append(f'<line x1="{left}" y1="{axis_y - 4}" x2="{left + plot_w}" y2="{axis_y - 4}" stroke="{MUTED}"/>')
    out.append("</svg>")
    return "\n".join(s for s in out if s)


def legend_items(data: ReportData) -> list[tuple[str, str, str]]:
    """(shape, colour, label) for the legend under the chart."""
    items = [("line", FRUSTRATION, f"customer frustration (0-1; dashed: {data.rules.high_frustration:g})")]
    items += [("bar", CHANNEL_COLOURS.get(w, MIXED), f"{w} speaking") for w in (data.channels or [])]
    items += [("box", SILENCE, "silence"), ("tri", FRUSTRATION, "agent talked over customer"),
              ("tri", MUTED, "customer talked over agent"), ("dia", SEVERITY["warn"], "cue shown to the agent")]
    return items


def bar_svg(score: Score, width: int = 140) -> str:
    """A small horizontal score bar for the scorecard."""
    filled = width * max(0, min(100, score.score)) / 100
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="10" viewBox="0 0 {width} 10">'
            f'<rect width="{width}" height="10" rx="3" fill="#edf0f3"/>'
            f'<rect width="{filled:.1f}" height="10" rx="3" fill="{SCORE_COLOURS[score.band]}"/></svg>')
