"""The timeline of one call, drawn with QPainter: the customer's frustration line, speech bars per
channel, silences, and talk-over and cue markers that can be clicked.

The same picture as the HTML report's SVG (same colours, same layout), interactive: clicking a
marker emits `markerClicked(index)`; clicking elsewhere emits `timeClicked(seconds)`; `set_cursor(t)`
shows where the transcript's selected line is.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from callcue.report.data import Marker, ReportData, clock
from callcue.report.svg import (
    CHANNEL_COLOURS,
    FRUSTRATION,
    GRID,
    HIGH_LINE,
    INK,
    MIXED,
    MUTED,
    SEVERITY,
    SILENCE,
    tick_step,
)

LEFT, RIGHT, TOP = 112, 14, 10
TICKS_W = 30  # the frustration axis' tick labels, between the panel's title and the plot
CALM_LINE = "#52606d"  # the frustration line below the playbook's high level: red is kept for above it
FRUS_H, LANE_H, LANE_GAP = 90, 16, 7
CLICKABLE = ("interruption", "cue")


class TimelineChart(QWidget):
    markerClicked = Signal(int)  # index into `markers`
    timeClicked = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data: ReportData | None = None
        self.markers: list[Marker] = []
        self.cursor_t: float | None = None
        self._hit: list[tuple[QRectF, int]] = []
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(420)
        self.setFixedHeight(self._height())

    def _lanes(self) -> list[str]:
        return (self.data.channels if self.data and self.data.channels else ["agent", "customer"])

    def _lane_top(self) -> int:
        return TOP + FRUS_H + 14

    def _marks_y(self) -> int:
        return self._lane_top() + len(self._lanes()) * (LANE_H + LANE_GAP) + 4

    def _height(self) -> int:
        return self._marks_y() + 26 + 22

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(900, self._height())

    def set_data(self, data: ReportData | None) -> None:
        self.data = data
        self.markers = [m for m in data.markers if m.kind in CLICKABLE] if data else []
        self.cursor_t = None
        self.setFixedHeight(self._height())
        self._layout_hits()
        self.update()

    def set_cursor(self, t: float | None) -> None:
        self.cursor_t = t
        self.update()

    # -- geometry ---------------------------------------------------------------------------

    def _duration(self) -> float:
        return max(self.data.duration_s, 1.0) if self.data else 1.0

    def x_of(self, t: float) -> float:
        plot_w = max(10, self.width() - LEFT - RIGHT)
        return LEFT + plot_w * max(0.0, min(t, self._duration())) / self._duration()

    @staticmethod
    def y_of(level: float) -> float:
        return TOP + FRUS_H * (1 - level)

    @staticmethod
    def y_ticks() -> list[tuple[float, str]]:
        return [(0.0, "0"), (0.5, "0.5"), (1.0, "1")]

    def t_of(self, x: float) -> float:
        plot_w = max(10, self.width() - LEFT - RIGHT)
        return max(0.0, min(self._duration(), (x - LEFT) / plot_w * self._duration()))

    def _layout_hits(self) -> None:
        y = self._marks_y()
        self._hit = []
        for i, m in enumerate(self.markers):
            mx = self.x_of(m.at)
            cy = y + 5 if m.kind == "interruption" else y + 16
            self._hit.append((QRectF(mx - 8, cy - 8, 16, 16), i))

    def marker_center(self, index: int) -> QPointF:
        """Where marker `index` is drawn (tests click there)."""
        self._layout_hits()
        return self._hit[index][0].center()

    def resizeEvent(self, event) -> None:  # noqa: N802, ANN001
        self._layout_hits()
        super().resizeEvent(event)

    def _marker_at(self, pos: QPointF) -> int | None:
        hits = [(abs(r.center().x() - pos.x()), i) for r, i in self._hit if r.contains(pos)]
        return min(hits)[1] if hits else None

    # -- input ------------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton or self.data is None:
            return super().mousePressEvent(event)
        index = self._marker_at(event.position())
        if index is not None:
            self.markerClicked.emit(index)
        elif event.position().x() >= LEFT:
            self.timeClicked.emit(self.t_of(event.position().x()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        index = self._marker_at(event.position())
        if index is not None:
            m = self.markers[index]
            QToolTip.showText(event.globalPosition().toPoint(), f"{clock(m.at)}  {m.label}\n{m.detail}\n"
                              "click: show in the transcript", self)
            self.setCursor(Qt.CursorShape.PointingHandCursor)
        else:
            QToolTip.hideText()
            self.unsetCursor()

    # -- drawing ----------------------------------------------------------------------------

    def paintEvent(self, event) -> None:  # noqa: N802, ANN001
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("#ffffff"))
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, self.font().pointSizeF() - 1.5))
        bold = QFont(self.font())
        bold.setBold(True)
        data = self.data
        if data is None:
            p.setPen(QColor(MUTED))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Choose a call on the left to see its timeline.")
            return
        right = self.width() - RIGHT
        lane_top, marks_y = self._lane_top(), self._marks_y()
        axis_y = marks_y + 30
        # Silences across the chart.
        shade = QColor(SILENCE)
        shade.setAlphaF(0.25)
        for s in data.silences:
            x0, x1 = self.x_of(s.start), self.x_of(s.end)
            p.fillRect(QRectF(x0, TOP, max(1.0, x1 - x0), marks_y - TOP - 4), shade)
        # Frustration panel: its title, and the axis with ticks at 0, the middle and 1.
        p.setFont(bold)
        p.setPen(QColor(INK))
        title_w = LEFT - TICKS_W - 8
        p.drawText(QRectF(0, TOP, title_w, 16), Qt.AlignmentFlag.AlignRight, "Frustration")
        p.setFont(small)
        p.setPen(QColor(MUTED))
        p.drawText(QRectF(0, TOP + 15, title_w, 14), Qt.AlignmentFlag.AlignRight, "(customer)")
        for level, label in self.y_ticks():
            y = self.y_of(level)
            p.drawLine(QPointF(LEFT - 4, y), QPointF(LEFT, y))
            p.drawText(QRectF(LEFT - TICKS_W - 2, y - 7, TICKS_W - 4, 14),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)
        high = data.rules.high_frustration
        for level in (0.0, high, 1.0):
            y = TOP + FRUS_H * (1 - level)
            pen = QPen(QColor(HIGH_LINE if level == high else GRID))
            if level == high:
                pen.setStyle(Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.drawLine(QPointF(LEFT, y), QPointF(right, y))
        if data.frustration:
            pts = [(self.x_of(0.0), TOP + FRUS_H * (1 - data.frustration[0][1]))]
            pts += [(self.x_of(at), TOP + FRUS_H * (1 - lv)) for at, lv in data.frustration]
            pts.append((self.x_of(self._duration()), pts[-1][1]))
            path = QPainterPath(QPointF(*pts[0]))
            for (_, y0), (x1, y1) in zip(pts, pts[1:], strict=False):
                path.lineTo(x1, y0)
                path.lineTo(x1, y1)
            area = QPainterPath(path)
            area.lineTo(pts[-1][0], TOP + FRUS_H)
            area.lineTo(pts[0][0], TOP + FRUS_H)
            area.closeSubpath()
            # Red only above the playbook's high level; below it the line is a calm grey.
            split = self.y_of(high)
            for colour, band in ((FRUSTRATION, QRectF(0, 0, self.width(), split)),
                                 (CALM_LINE, QRectF(0, split, self.width(), self.height() - split))):
                p.save()
                p.setClipRect(band)
                fill = QColor(colour)
                fill.setAlphaF(0.12)
                p.fillPath(area, fill)
                p.setPen(QPen(QColor(colour), 2))
                p.drawPath(path)
                p.restore()
            if data.peak is not None:
                px, py = self.x_of(data.peak.at), TOP + FRUS_H * (1 - data.peak.level)
                p.setPen(QColor(FRUSTRATION if data.peak.level >= high else CALM_LINE))
                p.setFont(bold)
                text = f"peak {data.peak.level:.2f}"
                w = p.fontMetrics().horizontalAdvance(text)
                tx = px - w - 6 if px + w + 6 > right else px + 6
                p.drawText(QPointF(tx, max(TOP + 11, py - 4)), text)
        else:
            p.setPen(QColor(MUTED))
            p.drawText(QRectF(LEFT, TOP, right - LEFT, FRUS_H), Qt.AlignmentFlag.AlignCenter,
                       "no frustration estimate (no customer channel)")
        # Speech lanes.
        for n, who in enumerate(self._lanes()):
            y = lane_top + n * (LANE_H + LANE_GAP)
            colour = QColor(CHANNEL_COLOURS.get(who, MIXED))
            p.setFont(bold)
            p.setPen(colour)
            p.drawText(QRectF(0, y, LEFT - 8, LANE_H), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       who.capitalize())
            p.fillRect(QRectF(LEFT, y, right - LEFT, LANE_H), QColor("#f4f6f8"))
            for start, end in data.speech.get(who, []):
                p.fillRect(QRectF(self.x_of(start), y, max(0.8, self.x_of(end) - self.x_of(start)), LANE_H), colour)
        # Markers.
        p.setFont(bold)
        p.setPen(QColor(INK))
        p.drawText(QRectF(0, marks_y + 4, LEFT - 8, 16), Qt.AlignmentFlag.AlignRight, "Moments")
        p.setPen(QColor(GRID))
        p.drawLine(QPointF(LEFT, marks_y + 8), QPointF(right, marks_y + 8))
        self._layout_hits()
        for rect, i in self._hit:
            m = self.markers[i]
            c = rect.center()
            if m.kind == "interruption":
                colour = QColor(FRUSTRATION if m.severity == "warn" else MUTED)
                shape = QPolygonF([QPointF(c.x() - 6, marks_y), QPointF(c.x() + 6, marks_y),
                                   QPointF(c.x(), marks_y + 11)])
                top = lane_top
            else:
                colour = QColor(SEVERITY.get(m.severity, SEVERITY["info"]))
                shape = QPolygonF([QPointF(c.x(), c.y() - 7), QPointF(c.x() + 7, c.y()),
                                   QPointF(c.x(), c.y() + 7), QPointF(c.x() - 7, c.y())])
                top = TOP
            guide = QColor(colour)
            guide.setAlphaF(0.45)
            pen = QPen(guide)
            pen.setStyle(Qt.PenStyle.DotLine)
            p.setPen(pen)
            p.drawLine(QPointF(c.x(), top), QPointF(c.x(), marks_y))
            p.setPen(QPen(QColor("#ffffff"), 1))
            p.setBrush(colour)
            p.drawPolygon(shape)
        p.setBrush(Qt.BrushStyle.NoBrush)
        # Cursor: the transcript's selected line.
        if self.cursor_t is not None:
            cx = self.x_of(self.cursor_t)
            p.setPen(QPen(QColor(INK), 1.5))
            p.drawLine(QPointF(cx, TOP), QPointF(cx, axis_y - 4))
        # Axis.
        p.setFont(small)
        p.setPen(QColor(MUTED))
        p.drawLine(QPointF(LEFT, axis_y - 4), QPointF(right, axis_y - 4))
        step, t = tick_step(self._duration()), 0.0
        while t <= self._duration() + 1e-6:
            tx = self.x_of(t)
            p.drawLine(QPointF(tx, axis_y - 4), QPointF(tx, axis_y))
            p.drawText(QRectF(tx - 30, axis_y + 1, 60, 14), Qt.AlignmentFlag.AlignHCenter, clock(t))
            t += step
        p.end()


class TrendChart(QWidget):
    """Small multiples: one panel per metric, one line per agent, week by week."""

    PALETTE = ("#2f6db5", "#d9822b", "#2e8b57", "#7a6fb0", "#c0392b", "#3b8ea5", "#8c6d31")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list = []
        self.metrics: tuple = ()
        self.setMinimumHeight(260)

    def set_rows(self, rows: list, metrics: tuple) -> None:
        self.rows, self.metrics = rows, metrics
        self.update()

    def agents(self) -> list[str]:
        return sorted({r.agent for r in self.rows})

    def paintEvent(self, event) -> None:  # noqa: N802, ANN001
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("#ffffff"))
        if not self.rows:
            p.setPen(QColor(MUTED))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No calls to show trends for.")
            return
        weeks = sorted({r.week for r in self.rows})
        agents = self.agents()
        colours = {a: QColor(self.PALETTE[i % len(self.PALETTE)]) for i, a in enumerate(agents)}
        legend_h = 22
        cols = 2
        n = len(self.metrics)
        rows_n = (n + cols - 1) // cols
        cell_w = (self.width() - 10) / cols
        cell_h = (self.height() - legend_h - 6) / max(1, rows_n)
        bold = QFont(self.font())
        bold.setBold(True)
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, self.font().pointSizeF() - 1.5))
        for k, (metric, title, fmt) in enumerate(self.metrics):
            cx = 5 + (k % cols) * cell_w
            cy = legend_h + (k // cols) * cell_h
            plot = QRectF(cx + 44, cy + 22, cell_w - 60, cell_h - 44)
            values = [r.value(metric) for r in self.rows if r.value(metric) is not None]
            top = 1.0 if metric in ("talk_ratio", "peak") else (max(values + [0.0]) * 1.15 or 1.0)
            p.setFont(bold)
            p.setPen(QColor(INK))
            p.drawText(QPointF(cx + 4, cy + 14), title)
            p.setFont(small)
            p.setPen(QColor(GRID))
            p.drawRect(plot)
            p.setPen(QColor(MUTED))
            for frac in (0.0, 0.5, 1.0):
                y = plot.bottom() - frac * plot.height()
                p.drawText(QRectF(cx, y - 7, 40, 14), Qt.AlignmentFlag.AlignRight, fmt.format(top * frac))
            for i, w in enumerate(weeks):
                if len(weeks) <= 8 or i % ((len(weeks) + 7) // 8) == 0:
                    x = plot.left() + (plot.width() * (i + 0.5) / len(weeks))
                    p.drawText(QRectF(x - 30, plot.bottom() + 2, 60, 14), Qt.AlignmentFlag.AlignHCenter,
                               w.strftime("%d %b"))
            for agent in agents:
                pts = []
                for i, w in enumerate(weeks):
                    row = next((r for r in self.rows if r.agent == agent and r.week == w), None)
                    if row is None or row.value(metric) is None:
                        continue
                    x = plot.left() + plot.width() * (i + 0.5) / len(weeks)
                    y = plot.bottom() - plot.height() * min(1.0, row.value(metric) / top)
                    pts.append(QPointF(x, y))
                p.setPen(QPen(colours[agent], 2))
                for a, b in zip(pts, pts[1:], strict=False):
                    p.drawLine(a, b)
                p.setBrush(colours[agent])
                for pt in pts:
                    p.drawEllipse(pt, 3, 3)
                p.setBrush(Qt.BrushStyle.NoBrush)
        x = 8.0
        p.setFont(self.font())
        for agent in agents:
            p.fillRect(QRectF(x, 7, 12, 8), colours[agent])
            p.setPen(QColor(INK))
            p.drawText(QPointF(x + 16, 15), agent)
            x += 28 + p.fontMetrics().horizontalAdvance(agent)
        p.end()
