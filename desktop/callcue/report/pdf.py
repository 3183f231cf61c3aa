"""The post-call report as a paginated PDF (A4), made with Qt's own PDF writer: no extra dependency.

Qt's rich text is a subset of HTML, so the PDF has its own simple markup; the timeline is the same
SVG as the HTML report's, drawn into an image by Qt's SVG renderer. Page numbers are Qt's.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import TypeVar

from callcue import __version__
from callcue.errors import CallcueError
from callcue.report.data import CueShown, Line, Promise, ReportData, Score, Section, clock
from callcue.report.svg import (
    CHANNEL_COLOURS,
    FRUSTRATION,
    LEVEL_COLOURS,
    MIXED,
    SCORE_COLOURS,
    SEVERITY,
    legend_items,
    timeline_svg,
)

T = TypeVar("T")


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


def _h2(section: Section) -> str:  # type: ignore[type-arg]
    return f'<h2 style="font-size: 12pt;">{_e(section.title)}</h2>'


def _section(section: Section[T], row: Callable[[T], str], head: str = "", padding: int = 4) -> list[str]:
    """A titled table with a row per record, or the section's words for none."""
    if not section:
        return [_h2(section), f"<p>{_e(section.empty)}</p>"]
    return [_h2(section), f'<table cellspacing="0" cellpadding="{padding}" width="100%">{head}',
            *map(row, section), "</table>"]


def _score_row(sc: Score) -> str:
    return (f'<tr><td>{_e(sc.skill)}</td><td style="color:{SCORE_COLOURS[sc.band]}; font-weight:bold;">'
            f"{sc.score}</td><td>{_e(sc.basis)}</td></tr>")


def _promise_row(c: Promise) -> str:
    due = c.due or "no time given"
    return f'<tr><td width="40">{clock(c.at)}</td><td>{_e(c.text)}</td><td>due: {_e(due)}</td></tr>'


def _cue_row(cue: CueShown) -> str:
    colour = SEVERITY.get(cue.severity, SEVERITY["info"])
    return (f'<tr><td width="40">{clock(cue.at)}</td><td><b style="color:{colour}">{_e(cue.severity)}</b> '
            f"{_e(cue.text)}</td><td>{_e(cue.skill)}</td><td>{_e(cue.outcome)}</td></tr>")


def _line_row(u: Line) -> str:
    text = _e(u.text) if u.text else "<i>(speech, no words)</i>"
    level = f"{u.frustration:.2f}" if u.frustration is not None else ""
    return (f'<tr><td width="40" style="color:#5b6673;">{clock(u.start)}</td>'
            f'<td width="62" style="color:{CHANNEL_COLOURS.get(u.who, MIXED)}; font-weight:bold;">{_e(u.who)}</td>'
            f'<td>{text}</td><td width="34" style="color:{LEVEL_COLOURS[u.level]};">{level}</td></tr>')


def pdf_markup(data: ReportData) -> str:
    """The report in Qt's rich-text HTML subset."""
    head = data.header
    started = head.started.strftime("%Y-%m-%d %H:%M")
    flags = ", ".join(head.flags + ([head.state] if head.state != "finished" else []))
    h = ['<html><body style="font-family: \'DejaVu Sans\'; font-size: 9pt; color: #1f2933;">']
    h.append(f'<h1 style="font-size: 16pt;">Call review: {_e(head.agent or "unknown agent")}</h1>')
    source = f" &middot; {_e(head.source)}" if head.source else ""
    h.append(f'<p style="color: #5b6673;">{started} &middot; {clock(head.duration_s)} long &middot; profile '
             f"{_e(head.profile)} &middot; {_e(head.kind)}{source} &middot; session {_e(head.session_id)}"
             + (f' &middot; <b style="color:{FRUSTRATION}">{_e(flags)}</b>' if flags else "") + "</p>")
    h.append('<table cellspacing="0" cellpadding="6" width="100%" style="border: 1px solid #dde3e8;"><tr>')
    for n in data.numbers:
        h.append(f'<td><span style="color:#5b6673; font-size:7pt;">{_e(n.label.upper())}</span><br>'
                 f'<span style="font-size:15pt; font-weight:bold;">{_e(n.value)}</span><br>'
                 f'<span style="color:#5b6673; font-size:8pt;">{_e(n.detail)}</span></td>')
    h.append("</tr></table>")
    h.append(_h2(data.story))
    h += [f"<p>{_e(line)}</p>" for line in data.story]
    h.append('<h2 style="font-size: 12pt;">Timeline</h2>')
    h.append('<p><img src="callcue://timeline.png" width="640"></p>')
    legend = " &nbsp; ".join(f'<span style="color:{c}">&#9632;</span> {_e(label)}' for _, c, label in
                             legend_items(data))
    h.append(f'<p style="color:#5b6673; font-size:7.5pt;">{legend}</p>')
    if data.notes:
        h.append(_h2(data.notes) + "<ul>")
        h += [f"<li>{_e(n)}</li>" for n in data.notes]
        h.append("</ul>")
    h += _section(data.scorecard, _score_row, '<tr style="color:#5b6673;"><td>Skill</td><td>Score</td>'
                  "<td>How it was computed</td></tr>")
    h += _section(data.commitments, _promise_row)
    h += _section(data.cues, _cue_row)
    h += _section(data.transcript, _line_row, padding=3)
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
