"""The post-call report as a paginated PDF (A4), made with Qt's own PDF writer: no extra dependency.

Qt's rich text is a subset of HTML, so the PDF has its own simple markup; the timeline is the same
SVG as the HTML report's, drawn into an image by Qt's SVG renderer. Page numbers are Qt's.
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

from callcue import __version__
from callcue.errors import CallcueError
from callcue.report.data import ReportData, clock, frustration_story, key_numbers, safe
from callcue.report.svg import CHANNEL_COLOURS, MIXED, SEVERITY, legend_items, timeline_svg


def ensure_gui_app():  # type: ignore[no-untyped-def]
    """Qt's text layout needs a QGuiApplication; a command line export makes an offscreen one. It is a
    QApplication, so a window opened later in the same process (the review window) can use it."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QApplication(["callcue"])
    return app


def _svg_image(svg: str, scale: float = 2.0):  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QByteArray, QSize
    from PySide6.QtGui import QColor, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    size = renderer.defaultSize()
    image = QImage(QSize(int(size.width() * scale), int(size.height() * scale)), QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image, size


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def pdf_markup(data: ReportData) -> str:
    """The report in Qt's rich-text HTML subset."""
    s, session = data.summary, data.session
    started = session.started().strftime("%Y-%m-%d %H:%M")
    flags = ", ".join(data.flags + ([session.state] if session.state != "finished" else []))
    h = ['<html><body style="font-family: \'DejaVu Sans\'; font-size: 9pt; color: #1f2933;">']
    h.append(f'<h1 style="font-size: 16pt;">Call review: {_e(safe(session.agent) or "unknown agent")}</h1>')
    h.append(f'<p style="color: #5b6673;">{started} &middot; {clock(data.duration_s)} long &middot; profile '
             f"{_e(safe(session.profile) or 'default')} &middot; {_e(session.kind)} &middot; session "
             f"{_e(session.id)}" + (f' &middot; <b style="color:#c0392b">{_e(flags)}</b>' if flags else "") + "</p>")
    h.append('<table cellspacing="0" cellpadding="6" width="100%" style="border: 1px solid #dde3e8;"><tr>')
    for label, value, detail in key_numbers(data):
        h.append(f'<td><span style="color:#5b6673; font-size:7pt;">{_e(label.upper())}</span><br>'
                 f'<span style="font-size:15pt; font-weight:bold;">{_e(value)}</span><br>'
                 f'<span style="color:#5b6673; font-size:8pt;">{_e(detail)}</span></td>')
    h.append("</tr></table>")
    h.append('<h2 style="font-size: 12pt;">What happened</h2>')
    h += [f"<p>{_e(line)}</p>" for line in frustration_story(data)]
    h.append('<h2 style="font-size: 12pt;">Timeline</h2>')
    h.append('<p><img src="callcue://timeline.png" width="640"></p>')
    legend = " &nbsp; ".join(f'<span style="color:{c}">&#9632;</span> {_e(label)}' for _, c, label in
                             legend_items(data))
    h.append(f'<p style="color:#5b6673; font-size:7.5pt;">{legend}</p>')
    notes = s.get("notes") or []
    if notes:
        h.append('<h2 style="font-size: 12pt;">Coaching notes</h2><ul>')
        h += [f"<li>{_e(safe(n))}</li>" for n in notes]
        h.append("</ul>")
    card = s.get("scorecard") or {}
    h.append('<h2 style="font-size: 12pt;">Scorecard</h2>')
    if card:
        h.append('<table cellspacing="0" cellpadding="4" width="100%"><tr style="color:#5b6673;">'
                 "<td>Skill</td><td>Score</td><td>How it was computed</td></tr>")
        for skill, sc in sorted(card.items(), key=lambda kv: kv[1]["score"]):
            score = int(sc["score"])
            colour = "#2e8b57" if score >= 80 else ("#b38700" if score >= 60 else "#c0392b")
            h.append(f'<tr><td>{_e(skill)}</td><td style="color:{colour}; font-weight:bold;">{score}</td>'
                     f'<td>{_e(safe(sc.get("basis", "")))}</td></tr>')
        h.append("</table>")
    else:
        h.append("<p>No scorecard for this call.</p>")
    commitments = s.get("commitments") or []
    h.append('<h2 style="font-size: 12pt;">Commitments</h2>')
    if commitments:
        h.append('<table cellspacing="0" cellpadding="4" width="100%">')
        for c in commitments:
            h.append(f'<tr><td width="40">{clock(c["at"])}</td><td>{_e(safe(c["text"]))}</td>'
                     f"<td>due: {_e(c.get('due') or 'no time given')}</td></tr>")
        h.append("</table>")
    else:
        h.append("<p>No commitments were heard.</p>")
    h.append('<h2 style="font-size: 12pt;">Cues shown to the agent</h2>')
    if data.cues:
        h.append('<table cellspacing="0" cellpadding="4" width="100%">')
        for c in data.cues:
            colour = SEVERITY.get(c.get("severity", "info"), SEVERITY["info"])
            h.append(f'<tr><td width="40">{clock(c["at"])}</td><td><b style="color:{colour}">'
                     f'{_e(c.get("severity", ""))}</b> {_e(safe(c["text"]))}</td><td>{_e(c["skill"])}</td>'
                     f'<td>{_e(c.get("outcome", "shown"))}</td></tr>')
        h.append("</table>")
    else:
        h.append("<p>No cues were shown.</p>")
    h.append('<h2 style="font-size: 12pt;">Transcript</h2>')
    if data.transcript:
        h.append('<table cellspacing="0" cellpadding="3" width="100%">')
        for u in data.transcript:
            colour = CHANNEL_COLOURS.get(u.who, MIXED)
            text = _e(safe(u.text)) if u.text else "<i>(speech, no words)</i>"
            level = f"{u.frustration:.2f}" if u.frustration is not None else ""
            h.append(f'<tr><td width="40" style="color:#5b6673;">{clock(u.start)}</td>'
                     f'<td width="62" style="color:{colour}; font-weight:bold;">{_e(u.who)}</td>'
                     f'<td>{text}</td><td width="34" style="color:#c0392b;">{level}</td></tr>')
        h.append("</table>")
    else:
        h.append("<p>No transcript was saved for this call.</p>")
    h.append(f'<p style="color:#8a94a0; font-size:7pt;">Made by Callcue {__version__} on this computer. '
             "Card, account, phone, social security numbers and email addresses are replaced by tags.</p>")
    h.append("</body></html>")
    return "\n".join(h)


def write_pdf(data: ReportData, path: str | Path) -> int:
    """Write the report to `path`; returns the number of pages."""
    ensure_gui_app()
    from PySide6.QtCore import QMarginsF, QSizeF, QUrl
    from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter, QTextDocument

    target = Path(path)
    image, _ = _svg_image(timeline_svg(data, links=False))
    doc = QTextDocument()
    doc.setDocumentMargin(0)
    doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl("callcue://timeline.png"), image)
    doc.setHtml(pdf_markup(data))
    try:
        with open(target, "wb"):
            pass  # a clear message for an unwritable path; Qt's writer would fail silently
    except OSError as err:
        raise CallcueError(f"Cannot write the PDF report {target}: {err.strerror or err}. "
                           "Choose another file with -o.") from err
    writer = QPdfWriter(str(target))
    writer.setTitle(f"Call review {data.session.id}")
    writer.setCreator(f"Callcue {__version__}")
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageMargins(QMarginsF(15, 15, 15, 15), QPageLayout.Unit.Millimeter)
    writer.setResolution(96)
    rect = writer.pageLayout().paintRectPixels(writer.resolution())
    doc.setPageSize(QSizeF(rect.width(), rect.height()))
    pages = doc.pageCount()
    doc.print_(writer)
    del writer  # the file is finished when the writer goes
    if not target.exists() or target.stat().st_size == 0:
        raise CallcueError(f"Writing the PDF report {target} failed (the file is empty); check the disk.")
    return pages
