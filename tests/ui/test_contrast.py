"""Every text of the overlay at WCAG AA (4.5:1), measured on the pixels Qt drew offscreen.

The panel is drawn in its busiest states (each timer, the why and the recent cues open, captions,
promises, a problem and a notice), idle, and compact; each label's and button's text colours are
compared with the background they are drawn on.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication, QLabel, QToolButton, QWidget

from callcue.ui.overlay import Overlay
from callcue.ui.widgets import Meter, TalkBar

from .contrast import AA, crisp_fonts, text_contrasts
from .overlay_states import TIMERS, ended, fill

NOT_TEXT = {"dot", "statusDot"}  # the state dots: a colour, WCAG's 3:1 for graphics


@pytest.fixture
def crisp(qapp):
    """Glyphs without anti-aliasing while a test draws: each text pixel then has the text's colour."""
    before = qapp.font()
    qapp.setFont(crisp_fonts(before))
    yield
    qapp.setFont(before)


def text_parts(o: Overlay) -> list[tuple[str, QRect]]:
    """Every visible text of the panel, and the rectangle it is drawn in (panel coordinates)."""
    parts: list[tuple[str, QRect]] = []

    def rect(w: QWidget, inner: QRect | None = None) -> QRect:
        return (inner or w.rect()).translated(w.mapTo(o, w.rect().topLeft()))

    for w in o.findChildren(QLabel) + o.findChildren(QToolButton):
        if w.isVisible() and w.text().strip() and w.objectName() not in NOT_TEXT:
            parts.append((f"{type(w).__name__}#{w.objectName()} {w.text()[:40]!r}", rect(w)))
    for w in o.findChildren(Meter) + o.findChildren(TalkBar):  # painted: words beside or above a bar
        if w.isVisible():
            parts.append((f"{type(w).__name__} {w.text()[:40]!r}", rect(w, w.text_rect().toRect())))
    return parts


def check(o: Overlay, at_least: int = 10) -> list[str]:
    QApplication.processEvents()
    img = o.grab().toImage()
    failures, measured = [], 0
    for name, r in text_parts(o):
        bg, found = text_contrasts(img, r)
        if not found:
            failures.append(f"{name}: no text pixels found in {r}")
        measured += 1
        failures += [f"{name}: {c.name()} on {bg.name()} is {v:.2f}:1" for c, v in found if v < AA]
    assert measured >= at_least
    return failures


@pytest.mark.parametrize("timer", TIMERS)
def test_every_text_of_the_busy_panel_is_at_aa_contrast(qtbot, crisp, settings, fake_worker, timer):
    o = Overlay(settings, None, worker_factory=lambda: fake_worker)
    qtbot.addWidget(o)
    o.show()
    fill(o, fake_worker, timer)
    shown = {"timer": o.timer.isVisible(), "snooze": o.snooze_chip.isVisible()}
    assert shown["snooze" if timer == "snooze" else "timer"]
    assert check(o) == []


def test_every_text_of_the_idle_panel_is_at_aa_contrast_disabled_buttons_too(qtbot, crisp, settings):
    o = Overlay(settings, None, worker_factory=None)
    qtbot.addWidget(o)
    o.show()
    assert o.call_button.isVisible() and not o.call_button.isEnabled()  # no way to start: disabled
    assert check(o, at_least=6) == []  # title, Start, the header's buttons, the status


def test_every_text_of_the_compact_panel_is_at_aa_contrast(qtbot, crisp, settings, fake_worker):
    settings.set("mode", "compact")
    o = Overlay(settings, None, worker_factory=lambda: fake_worker)
    qtbot.addWidget(o)
    o.show()
    fill(o, fake_worker, "hold", why=False, recent=False)
    assert o.mini_meter.isVisible()
    assert check(o) == []


def test_every_text_of_the_wrap_up_is_at_aa_contrast(qtbot, crisp, settings, fake_worker):
    o = Overlay(settings, None, worker_factory=lambda: fake_worker)
    qtbot.addWidget(o)
    o.show()
    ended(o, fake_worker)
    assert o.wrapup.isVisible()
    assert check(o) == []
