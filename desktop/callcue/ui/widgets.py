"""The panel's parts. Each draws from PanelState; none talks to the engine."""

from __future__ import annotations

import html

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from callcue.engine.events import Cue
from callcue.ui import theme
from callcue.ui.panel import Caption, PanelState, RecentCue, countdown, evidence_lines, mmss
from callcue.ui.qtcompat import emit
from callcue.ui.wrapup import WrapUp


def tool_button(text: str, tip: str, name: str = "") -> QToolButton:
    b = QToolButton()
    b.setText(text)
    b.setToolTip(tip)
    b.setFocusPolicy(Qt.NoFocus)  # the panel never takes the keyboard from the agent's application
    b.setCursor(Qt.PointingHandCursor)
    b.setToolButtonStyle(Qt.ToolButtonTextOnly)
    if name:
        b.setObjectName(name)
    return b


def small_font(widget: QWidget, delta: float = -1.0, bold: bool = False) -> QFont:
    f = QFont(widget.font())
    f.setPointSizeF(max(6.0, f.pointSizeF() + delta))
    f.setBold(bold)
    return f


class Badge(QWidget):
    """A round badge in the skill's colour with the skill's glyph."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.colour = QColor(theme.FALLBACK.colour)
        self.glyph = ""
        side = QFontMetrics(self.font()).height() * 2
        self.setFixedSize(side, side)

    def set_skill(self, skill: str | None) -> None:
        style = theme.skill_style(skill or "")
        self.colour, self.glyph = QColor(style.colour), style.glyph if skill else ""
        self.update()

    def paintEvent(self, _e: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        if not self.glyph:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        p.setPen(Qt.NoPen)
        p.setBrush(self.colour)
        p.drawEllipse(self.rect().adjusted(1, 1, -1, -1))
        f = QFont(self.font())
        f.setPixelSize(int(self.height() * 0.55))
        f.setBold(True)
        p.setFont(f)
        p.setPen(QColor("#15181c"))
        p.drawText(self.rect(), Qt.AlignCenter, self.glyph)


class CueCard(QFrame):
    """The one cue on screen: badge, a few words, and "why" with the evidence on hover or click."""

    dismissRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cueCard")
        self.cue: Cue | None = None
        self.badge = Badge()
        self.text = QLabel()
        self.text.setObjectName("cueText")
        self.text.setWordWrap(True)
        self.text.setFont(small_font(self, +3.5, bold=True))
        self.text.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
        self.meta = QLabel()
        self.meta.setObjectName("cueMeta")
        self.meta.setFont(small_font(self, -1))
        self.why_button = tool_button("Why \u25b8", "Show why this cue appeared (or click the card)", "whyButton")
        self.why_button.setCheckable(True)
        self.why_button.toggled.connect(self._show_why)
        self.dismiss_button = tool_button("\u2715", "Dismiss this cue", "dismissButton")
        self.dismiss_button.clicked.connect(self.dismissRequested)
        self.why = QLabel()
        self.why.setObjectName("cueWhy")
        self.why.setWordWrap(True)
        self.why.setTextFormat(Qt.RichText)
        self.why.setFont(small_font(self, -0.5))
        self.why.hide()
        self.placeholder = QLabel("No cue now. Cues appear here, one at a time.")
        self.placeholder.setObjectName("placeholder")
        self.placeholder.setWordWrap(True)

        top = QHBoxLayout()
        top.setSpacing(8)
        top.addWidget(self.badge, 0, Qt.AlignTop)
        top.addWidget(self.text, 1)
        top.addWidget(self.dismiss_button, 0, Qt.AlignTop)
        row = QHBoxLayout()
        row.setContentsMargins(self.badge.width() + 8, 0, 0, 0)
        row.addWidget(self.meta, 1)
        row.addWidget(self.why_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 8, 8)
        lay.setSpacing(4)
        lay.addLayout(top)
        lay.addLayout(row)
        lay.addWidget(self.why)
        lay.addWidget(self.placeholder)
        self.set_cue(None)

    def set_cue(self, cue: Cue | None) -> None:
        self.cue = cue
        shown = cue is not None
        for w in (self.badge, self.text, self.meta, self.why_button, self.dismiss_button):
            w.setVisible(shown)
        self.placeholder.setVisible(not shown)
        self.why_button.setChecked(False)
        self.why.hide()
        if cue is None:
            self.setProperty("skill", "")
            self.setStyleSheet("")
            self.setToolTip("")
            return
        style = theme.skill_style(cue.skill)
        self.badge.set_skill(cue.skill)
        self.text.setText(cue.text)
        sev = {"alert": "urgent", "warn": "", "info": ""}.get(cue.severity, "")
        self.meta.setText(style.label + (f" \u00b7 {sev}" if sev else ""))
        # the stripe carries the skill's colour; the severity thickens it
        width = 6 if cue.severity == "alert" else 4
        self.setStyleSheet(f"#cueCard {{ border-left: {width}px solid {style.colour}; }}")
        self.why.setText(self._why_html(cue))
        self.setToolTip(self._why_html(cue))

    @staticmethod
    def _why_html(cue: Cue) -> str:
        why = f"<p style='margin:0'>{html.escape(cue.why or 'No details.')}</p>"
        more = "<br>".join(html.escape(line) for line in evidence_lines(cue))
        return why + (f"<p style='margin:4px 0 0 0; color:{theme.DIM}'>{more}</p>" if more else "")

    def _show_why(self, on: bool) -> None:
        self.why.setVisible(on and self.cue is not None)
        self.why_button.setText("Why \u25be" if on else "Why \u25b8")
        top = self.window()
        if top is not None and hasattr(top, "fit_height"):
            top.fit_height()

    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if self.cue is not None and e.button() == Qt.LeftButton:
            self.why_button.toggle()
        super().mousePressEvent(e)


class Meter(QWidget):
    """The customer's frustration: a bar from calm to frustrated, the number and the trend."""

    def __init__(self, parent: QWidget | None = None, compact: bool = False) -> None:
        super().__init__(parent)
        self.level: float | None = None
        self.trend = "steady"
        self.compact = compact
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setToolTip("How frustrated the customer sounds (their words and voice), smoothed over the call. "
                        "Only the customer is measured.")

    def set_level(self, level: float | None, trend: str) -> None:
        self.level, self.trend = level, trend
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802
        fm = QFontMetrics(self.font())
        h = fm.height() + 10 if self.compact else fm.height() * 2 + 10
        return QSize(200, h)

    def text(self) -> str:
        if self.level is None:
            return "Customer frustration: not heard yet"
        return (f"Customer frustration {self.level:.2f} "
                f"{theme.TREND_ARROW.get(self.trend, '')} {theme.TREND_WORD.get(self.trend, self.trend)}")

    def text_rect(self) -> QRectF:
        """Where the words are drawn (the rest is the bar)."""
        fm = QFontMetrics(self.font())
        if self.compact:
            tw = fm.horizontalAdvance("Frustration 0.00 \u25b2") + 6
            return QRectF(self.width() - tw, 0, tw, self.height())
        return QRectF(0, 0, self.width(), fm.height() + 2)

    def paintEvent(self, _e: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        fm = QFontMetrics(self.font())
        w, h = self.width(), self.height()
        bar_h = max(6, fm.height() // 2)
        words = self.text_rect()
        p.setPen(QColor(theme.TEXT))
        if self.compact:
            value = "\u2013" if self.level is None else f"{self.level:.2f} {theme.TREND_ARROW.get(self.trend, '')}"
            p.drawText(words, Qt.AlignVCenter | Qt.AlignRight, f"Frustration {value}")
            bar = QRectF(0, (h - bar_h) / 2, w - words.width() - 4, bar_h)
        else:
            p.drawText(words, Qt.AlignLeft | Qt.AlignVCenter, self.text())
            bar = QRectF(0, fm.height() + 6, w, bar_h)
        p.setPen(Qt.NoPen)
        p.setBrush(QColor("#343a44"))
        p.drawRoundedRect(bar, bar_h / 2, bar_h / 2)
        if self.level is not None:
            filled = QRectF(bar.x(), bar.y(), max(bar_h, bar.width() * min(1.0, self.level)), bar.height())
            p.setBrush(QColor(theme.frustration_colour(self.level)))
            p.drawRoundedRect(filled, bar_h / 2, bar_h / 2)


class TalkBar(QWidget):
    """Talk time so far: the agent's share against the customer's."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.agent = 0.0
        self.customer = 0.0
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setToolTip("Who has done the talking so far in this call")

    def set_talk(self, agent: float, customer: float) -> None:
        self.agent, self.customer = agent, customer
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802
        fm = QFontMetrics(self.font())
        return QSize(200, fm.height() * 2 + 10)

    def text(self) -> str:
        total = self.agent + self.customer
        if total <= 0:
            return "Talk time: nobody yet"
        a = round(100 * self.agent / total)
        return f"Talk: you {a}% \u00b7 customer {100 - a}%"

    def text_rect(self) -> QRectF:
        return QRectF(0, 0, self.width(), QFontMetrics(self.font()).height() + 2)

    def paintEvent(self, _e: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        fm = QFontMetrics(self.font())
        w = self.width()
        p.setPen(QColor(theme.TEXT))
        p.drawText(self.text_rect(), Qt.AlignLeft | Qt.AlignVCenter, self.text())
        bar_h = max(6, fm.height() // 2)
        bar = QRectF(0, fm.height() + 6, w, bar_h)
        p.setPen(Qt.NoPen)
        p.setBrush(QColor("#343a44"))
        p.drawRoundedRect(bar, bar_h / 2, bar_h / 2)
        total = self.agent + self.customer
        if total > 0:
            aw = bar.width() * self.agent / total
            p.setBrush(QColor(theme.CUSTOMER))
            p.drawRoundedRect(bar, bar_h / 2, bar_h / 2)
            p.setBrush(QColor(theme.AGENT))
            p.drawRoundedRect(QRectF(bar.x(), bar.y(), max(aw, 0.0), bar.height()), bar_h / 2, bar_h / 2)


CAPTION_LINES = 9


class Captions(QLabel):
    """Both sides' words: finished lines stay, the line being spoken is replaced as it grows."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("captions")
        self.setWordWrap(True)
        self.setTextFormat(Qt.RichText)
        self.setAlignment(Qt.AlignLeft | Qt.AlignBottom)
        # A fixed height: the panel must not grow and shrink with every word; the newest lines are
        # kept at the bottom and the oldest scroll off the top.
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.lines: list[Caption] = []
        self._state: PanelState | None = None
        self.shown_lines = 0
        self.set_lines(CAPTION_LINES)

    def set_lines(self, n: int) -> None:
        """As tall as `n` lines: the panel gives fewer lines to the captions on a short screen."""
        if n == self.shown_lines:
            return
        self.shown_lines = n
        self.setFixedHeight(QFontMetrics(self.font()).lineSpacing() * n + 4)
        if self._state is not None:
            self.set_captions(self._state)

    def set_captions(self, state: PanelState) -> None:
        self._state = state
        lines = list(state.finals) + sorted(state.partials.values(), key=lambda c: c.at)
        self.lines = lines
        if not lines:
            self.setText(f"<span style='color:{theme.DIM}'>Captions appear here as people speak.</span>")
            return
        parts = []
        for c in lines:
            colour = theme.AGENT if c.who == "agent" else theme.CUSTOMER
            who = {"agent": "You", "customer": "Customer"}.get(c.who, c.who.title())
            text = html.escape(c.text)
            if not c.final:
                text = f"<i style='color:{theme.DIM}'>{text}\u2026</i>"
            parts.append(f"<b style='color:{colour}'>{who}:</b> {text}")
        # Drop the oldest lines until the rest fit: a clipped half line at the top reads as garbage.
        doc = QTextDocument()
        doc.setDefaultFont(self.font())
        doc.setDocumentMargin(0)
        doc.setTextWidth(max(50, self.contentsRect().width()))
        while len(parts) > 1:
            doc.setHtml("<br>".join(parts))
            if doc.size().height() <= self.contentsRect().height():
                break
            parts.pop(0)
        self.setText("<br>".join(parts))

    def resizeEvent(self, e: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(e)
        if self._state is not None:
            self.set_captions(self._state)


class Promises(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("promises")
        self.setWordWrap(True)
        self.setTextFormat(Qt.RichText)
        self.items: list[str] = []
        self.set_items([])

    def set_items(self, items: list[str]) -> None:
        self.items = list(items)
        if not items:
            self.setText(f"<span style='color:{theme.DIM}'>Promises you make are noted here.</span>")
            return
        self.setText("<br>".join(f"\u2022 {html.escape(t)}" for t in items[-4:]))


class StatusLine(QWidget):
    """Listening or not, the source of the words, and trouble with a button to fix it."""

    fixRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.dot = QLabel("\u25cf")
        self.dot.setObjectName("statusDot")  # a state colour, not text: WCAG asks 3:1 of it
        self.text = QLabel()
        self.text.setObjectName("statusText")
        self.text.setWordWrap(True)
        self.text.setFont(small_font(self, -1))
        self.text.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
        self.fix = tool_button("Fix\u2026", "", "fixButton")
        self.fix.hide()
        self._fix_kind = ""
        self.fix.clicked.connect(lambda: emit(self.fixRequested, self._fix_kind))
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        lay.addWidget(self.dot, 0, Qt.AlignTop)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.fix, 0, Qt.AlignTop)

    def set_state(self, state: PanelState) -> None:
        phase = state.phase
        colour = {"listening": theme.OK, "loading": theme.SEVERITY["warn"], "error": theme.BAD}.get(phase.name,
                                                                                                   theme.IDLE)
        if state.problems:
            colour = theme.BAD
        self.dot.setStyleSheet(f"color: {colour};")
        lines = [html.escape(phase.message)]
        for kind, message in state.problems.items():
            lines.append(f"<b style='color:{theme.BAD}'>{html.escape(kind.replace('-', ' ').capitalize())}:</b> "
                         f"{html.escape(message)}")
        self.text.setText("<br>".join(lines))
        fix = phase.fix or ("devices" if "device-lost" in state.problems else None)
        self._fix_kind = fix or ""
        labels = {"devices": "Choose device\u2026", "model": "Install a model\u2026", "settings": "Settings\u2026"}
        self.fix.setText(labels.get(fix or "", "Fix\u2026"))
        self.fix.setVisible(bool(fix))


class TimerLabel(QLabel):
    """The silence timer (once quiet 3 s), the hold timer, or why a hold ended by itself."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timer")
        self.setFont(small_font(self, +0.5, bold=True))
        self.setWordWrap(True)
        self.hide()

    def set_state(self, state: PanelState) -> None:
        text, kind = "", ""
        if state.on_hold and state.hold_since is not None:
            text, kind = f"On hold {mmss(state.now - state.hold_since)} \u00b7 coaching cues muted", "hold"
        elif state.hold_end_text:
            text, kind = state.hold_end_text, "hold-ended"
        elif state.silence_visible:
            text, kind = f"Quiet {mmss(state.quiet_s)}", "silence"
        if state.silence_visible and kind != "silence":
            text = f"{text} \u00b7 quiet {mmss(state.quiet_s)}"
        self.setProperty("kind", kind)
        self.style().unpolish(self)
        self.style().polish(self)
        self.setText(text)
        self.setVisible(bool(text))


class SnoozeChip(QToolButton):
    """The snooze's countdown; a click cancels the snooze (so does the snooze hotkey, pressed again)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("snoozeTimer")
        self.setFocusPolicy(Qt.NoFocus)
        self.setCursor(Qt.PointingHandCursor)
        self.setToolButtonStyle(Qt.ToolButtonTextOnly)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setFont(small_font(self, +0.5, bold=True))
        self.hide()

    def set_state(self, state: PanelState, key: str = "") -> None:
        left = state.snoozed_for
        self.setText(f"Cues snoozed {countdown(left)} \u00b7 click to cancel" if left > 0 else "")
        self.setToolTip("Coaching cues are snoozed; urgent ones (an escalation, ...) still show. "
                        f"Click to cancel the snooze{f' ({key})' if key else ''}.")
        self.setVisible(left > 0)


class RecentCues(QFrame):
    """The last few cues, newest first: when, what, why; those held back say so."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("recentCues")
        self.label = QLabel()
        self.label.setObjectName("recentText")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.RichText)
        self.label.setFont(small_font(self, -0.5))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.addWidget(self.label)
        self.items: list[RecentCue] = []
        self.limit = 5
        self.set_items([])

    def set_limit(self, n: int) -> None:
        """Show the newest `n` only (a short screen)."""
        if n != self.limit:
            self.limit = n
            self.set_items(self.items)

    def set_items(self, items: list[RecentCue]) -> None:
        self.items = list(items)
        items = self.items[:self.limit]
        if not items:
            self.label.setText(f"<span style='color:{theme.DIM}'>No cues yet in this call.</span>")
            self.setToolTip("")
            return
        rows = []
        for r in items:
            when = f"<b>{mmss(r.at)}</b>"
            text = html.escape(r.text)
            if r.held:
                row = (f"{when} <span style='color:{theme.DIM}'>{text} "
                       f"<i>({html.escape(r.held_words)})</i></span>")
            else:
                row = f"{when} {text}"
            why = html.escape(r.why or (r.evidence[0] if r.evidence else ""))  # short: the card has the rest
            if why:
                row += f"<br><span style='color:{theme.DIM}'>{why}</span>"
            rows.append(row)
        self.label.setText("<p style='margin:0 0 4px 0'>" + "</p><p style='margin:0 0 4px 0'>".join(rows) + "</p>")
        self.setToolTip("The last cues of this call, newest first. Greyed: held back (snoozed, on hold, ...).")


class WrapUpCard(QFrame):
    """After the call, for the agent's eyes only: talk share, what went well, one thing to try, promises.
    One click on Done closes it; it is not kept anywhere."""

    dismissRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("wrapUp")
        self.title = QLabel("Call wrap-up \u00b7 just for you")
        self.title.setObjectName("wrapTitle")
        self.title.setFont(small_font(self, +1, bold=True))
        self.done = tool_button("Done \u2715", "Close the wrap-up (it is not saved or shown to anyone)",
                                "wrapDone")
        self.done.clicked.connect(self.dismissRequested)
        self.body = QLabel()
        self.body.setObjectName("wrapText")
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.RichText)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.done, 0, Qt.AlignTop)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 8, 10)
        lay.setSpacing(6)
        lay.addLayout(top)
        lay.addWidget(self.body)
        self.hide()

    def set_wrap_up(self, w: WrapUp) -> None:
        def block(title: str, lines: list[str]) -> str:
            items = "<br>".join(f"\u2022 {html.escape(x)}" for x in lines)
            return f"<p style='margin:6px 0 0 0'><b>{title}</b><br>{items}</p>"

        parts = [f"<p style='margin:0'>{html.escape(w.talk)}</p>"]
        if w.went_well:
            parts.append(block("What went well", w.went_well))
        parts.append(block("One thing to try next call", [w.to_try or "Nothing stood out: keep it up."]))
        parts.append(block("Promises to follow up", w.promises or ["None made in this call."]))
        self.body.setText("".join(parts))


class Section(QLabel):
    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title.upper(), parent)
        self.setObjectName("section")
        self.setFont(small_font(self, -1.5, bold=True))
