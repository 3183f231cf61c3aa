"""The review window: saved calls with search and filters, one call's timeline, transcript and
scorecard, trends across calls per agent and week, and recurring complaint topics.

What the user may open follows an `AccessPolicy` (agents: their own sessions; supervisors: per the
policy setting). The window reads the store; it never changes a session.
"""

from __future__ import annotations

import re
from datetime import date
from html import escape
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QColor, QFont, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDateEdit,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from callcue.errors import CallcueError
from callcue.report.access import AccessPolicy, visible
from callcue.report.data import FLAG_LABELS, ReportData, Section, build_report, clock, summary_rules
from callcue.report.export import export
from callcue.report.svg import CHANNEL_COLOURS, FRUSTRATION, LEVEL_COLOURS, MIXED, MUTED, SCORE_COLOURS
from callcue.report.trends import METRICS, complaint_topics, weekly_trends
from callcue.store import SessionStore, StoredSession
from callcue.ui.timeline_chart import TimelineChart, TrendChart

ANY = "any"
NO_DATE = QDate(2000, 1, 1)


def _item(text: str, data: Any = None, align_right: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if data is not None:
        item.setData(Qt.ItemDataRole.UserRole, data)
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def _table(headers: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.verticalHeader().setVisible(False)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setWordWrap(True)
    t.horizontalHeader().setHighlightSections(False)
    return t


class SessionList(QWidget):
    """Search, filters and the list of sessions the policy lets this user see."""

    opened = Signal(str)
    refreshed = Signal()  # the list was filtered again

    COLUMNS = ["Date", "Agent", "Profile", "Length", "Peak", "Flags", "Customer said"]
    FIRST_WORDS = 90  # characters of the customer's first sentence shown in the list

    def __init__(self, store: SessionStore, policy: AccessPolicy, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.policy = store, policy
        self.sessions: list[StoredSession] = []
        self._first: dict[str, str] = {}  # session id -> the customer's first sentence (sessions never change)
        self.search = QLineEdit(placeholderText="Search words, agent, file...")
        self.search.setClearButtonEnabled(True)
        self.agent = QComboBox()
        self.profile = QComboBox()
        self.flag = QComboBox()
        self.since = self._date_edit()
        self.until = self._date_edit()
        self.min_peak = QDoubleSpinBox(minimum=0.0, maximum=1.0, singleStep=0.1, decimals=1)
        self.min_peak.setSpecialValueText(ANY)
        self.count = QLabel()
        self.count.setStyleSheet(f"color: {MUTED}")
        self.table = _table(self.COLUMNS)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.setWordWrap(False)
        header.setSectionResizeMode(len(self.COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)

        grid = QVBoxLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.search)
        for label, widget, label2, widget2 in (("Agent", self.agent, "Profile", self.profile),
                                               ("From", self.since, "To", self.until),
                                               ("Peak ≥", self.min_peak, "Flag", self.flag)):
            row = QHBoxLayout()
            row.addWidget(QLabel(label))
            row.addWidget(widget, 1)
            row.addWidget(QLabel(label2))
            row.addWidget(widget2, 1)
            grid.addLayout(row)
        grid.addWidget(self.table, 1)
        grid.addWidget(self.count)
        self.fill_choices()
        self.search.textChanged.connect(self.refresh)
        for combo in (self.agent, self.profile, self.flag):
            combo.currentIndexChanged.connect(self.refresh)
        for edit in (self.since, self.until):
            edit.dateChanged.connect(self.refresh)
        self.min_peak.valueChanged.connect(self.refresh)
        self.table.itemSelectionChanged.connect(self._selected)

    @staticmethod
    def _date_edit() -> QDateEdit:
        edit = QDateEdit(calendarPopup=True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setMinimumDate(NO_DATE)
        edit.setSpecialValueText(ANY)
        edit.setDate(NO_DATE)
        return edit

    def fill_choices(self) -> None:
        everything = visible(self.store.list(), self.policy)
        for combo, values in ((self.agent, sorted({s.agent for s in everything if s.agent})),
                              (self.profile, sorted({s.profile for s in everything if s.profile})),
                              (self.flag, sorted({f for s in everything for f in s.flags}))):
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(ANY, None)
            for v in values:
                combo.addItem(FLAG_LABELS.get(v, v) if combo is self.flag else v, v)
            index = combo.findData(current)
            combo.setCurrentIndex(max(0, index))
            combo.blockSignals(False)

    def filters(self) -> dict[str, Any]:
        def day(edit: QDateEdit) -> date | None:
            d = edit.date()
            return None if d == NO_DATE else date(d.year(), d.month(), d.day())

        flag = self.flag.currentData()
        return {"search": self.search.text().strip() or None, "agent": self.agent.currentData(),
                "profile": self.profile.currentData(), "since": day(self.since), "until": day(self.until),
                "min_peak": self.min_peak.value() or None, "flags": (flag,) if flag else ()}

    def set_filters(self, filters: dict[str, Any]) -> None:
        """Filters as `SessionStore.list` takes them (the command line's)."""
        if filters.get("search"):
            self.search.setText(filters["search"])
        for combo, key in ((self.agent, "agent"), (self.profile, "profile")):
            if filters.get(key):
                combo.setCurrentIndex(max(0, combo.findData(filters[key])))
        if filters.get("flags"):
            self.flag.setCurrentIndex(max(0, self.flag.findData(tuple(filters["flags"])[0])))
        if filters.get("min_peak"):
            self.min_peak.setValue(float(filters["min_peak"]))
        for edit, key in ((self.since, "since"), (self.until, "until")):
            if filters.get(key):
                edit.setDate(QDate.fromString(str(filters[key])[:10], "yyyy-MM-dd"))

    def refresh(self) -> None:
        keep = self.current_id()
        self.sessions = visible(self.store.list(**self.filters()), self.policy)
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.sessions))
        for r, s in enumerate(self.sessions):
            peak = "-" if s.peak_frustration is None else f"{s.peak_frustration:.2f}"
            flags = ", ".join(FLAG_LABELS.get(f, f) for f in s.flags)
            if s.state != "finished":
                flags = ", ".join(filter(None, [flags, s.state]))
            cells = [s.started().strftime("%Y-%m-%d %H:%M"), s.agent or "-", s.profile or "-",
                     clock(s.duration_s or 0.0), peak, flags, self.first_words(s.id)]
            for c, text in enumerate(cells):
                item = _item(text, s.id, align_right=c in (3, 4))
                if c == 6:
                    item.setToolTip(text)
                    item.setForeground(QColor(MUTED))
                # red only from the playbook's high level up (a calm peak is no alarm)
                if c == 4 and summary_rules().level(s.peak_frustration or 0.0) != "calm":
                    item.setForeground(QColor(LEVEL_COLOURS[summary_rules().level(s.peak_frustration or 0.0)]))
                if c == 5 and s.flags:
                    item.setForeground(QColor(FRUSTRATION))
                self.table.setItem(r, c, item)
        self.table.blockSignals(False)
        total = len(visible(self.store.list(), self.policy))
        self.count.setText(f"{len(self.sessions)} of {total} calls  ·  {self.policy.describe()}")
        if keep:
            self.select(keep, emit=False)
        self.refreshed.emit()

    def first_words(self, session_id: str) -> str:
        """What the customer said first: what tells one call from another in the list."""
        if session_id not in self._first:
            try:
                lines = self.store.load(session_id).transcript()
            except CallcueError:
                lines = []
            said = " ".join(u.text.strip() for u in lines if u.who == "customer" and u.text.strip())
            sentences = [x.strip() for x in re.split(r"(?<=[.?!])\s+", said) if x.strip()]
            # "Hi." or "Hi Sam." tells no call from another: the first sentence with a few words does.
            text = next((x for x in sentences if len(x.split()) >= 4), sentences[0] if sentences else "")
            if len(text) > self.FIRST_WORDS:
                text = text[:self.FIRST_WORDS - 1].rsplit(" ", 1)[0] + "\u2026"
            self._first[session_id] = text or "(no words)"
        return self._first[session_id]

    def current_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        return self.table.item(rows[0].row(), 0).data(Qt.ItemDataRole.UserRole)

    def select(self, session_id: str, emit: bool = True) -> bool:
        for r, s in enumerate(self.sessions):
            if s.id == session_id:
                if not emit:
                    self.table.blockSignals(True)
                self.table.selectRow(r)
                self.table.blockSignals(False)
                return True
        return False

    def _selected(self) -> None:
        sid = self.current_id()
        if sid:
            self.opened.emit(sid)


class SessionView(QWidget):
    """One call: key numbers, what happened, the timeline, the transcript and the scorecard."""

    TRANSCRIPT = ["At", "Who", "Said", "Frustration"]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data: ReportData | None = None
        self.title = QLabel("Choose a call")
        font = QFont(self.title.font())
        font.setPointSizeF(font.pointSizeF() + 4)
        font.setBold(True)
        self.title.setFont(font)
        self.meta = QLabel()
        self.meta.setWordWrap(True)
        self.meta.setStyleSheet(f"color: {MUTED}")
        self.cards = QLabel()
        self.cards.setTextFormat(Qt.TextFormat.RichText)
        self.story = QLabel()
        self.story.setWordWrap(True)
        self.story.setTextFormat(Qt.TextFormat.RichText)
        self.chart = TimelineChart()
        self.transcript = _table(self.TRANSCRIPT)
        header = self.transcript.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.transcript.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.scorecard = QLabel()
        self.scorecard.setWordWrap(True)
        self.scorecard.setTextFormat(Qt.TextFormat.RichText)
        self.scorecard.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.export_html = QPushButton("Export HTML…")
        self.export_pdf = QPushButton("Export PDF…")
        for b in (self.export_html, self.export_pdf):
            b.setEnabled(False)
        self.marker_label = QLabel()
        self.marker_label.setStyleSheet(f"color: {MUTED}")

        head = QHBoxLayout()
        titles = QVBoxLayout()
        titles.addWidget(self.title)
        titles.addWidget(self.meta)
        head.addLayout(titles, 1)
        head.addWidget(self.export_html)
        head.addWidget(self.export_pdf)
        side = QScrollArea()
        side.setWidgetResizable(True)
        side.setWidget(self.scorecard)
        side.setMinimumWidth(260)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.transcript)
        split.addWidget(side)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        lay = QVBoxLayout(self)
        lay.addLayout(head)
        lay.addWidget(self.cards)
        lay.addWidget(self.story)
        lay.addWidget(self.chart)
        lay.addWidget(self.marker_label)
        lay.addWidget(split, 1)
        self.chart.markerClicked.connect(self.jump_to_marker)
        self.chart.timeClicked.connect(self.jump_to_time)
        self.transcript.itemSelectionChanged.connect(self._line_selected)

    def clear(self, message: str) -> None:
        """No call shown: the filters left none, or none is chosen."""
        self.data = None
        self.title.setText(message)
        for w in (self.meta, self.cards, self.story, self.marker_label):
            w.setText("")
        self.chart.set_data(None)
        self.transcript.setRowCount(0)
        self.scorecard.setText("")
        for b in (self.export_html, self.export_pdf):
            b.setEnabled(False)

    def show_report(self, data: ReportData) -> None:
        self.data = data
        head = data.header
        self.title.setText(f"{head.agent or 'Unknown agent'}, {head.started.strftime('%a %d %b %Y %H:%M')}")
        flags = ", ".join(head.flags)
        state = "" if head.state == "finished" else f"  ·  {head.state} after a crash" \
            if head.state == "recovered" else f"  ·  {head.state}"
        source = f"  ·  {head.source}" if head.source else ""
        self.meta.setText(f"{clock(head.duration_s)} long  ·  profile {head.profile}  ·  {head.kind}"
                          f"{source}{'  ·  ' + flags if flags else ''}{state}  ·  session {head.session_id}")
        cells = "".join(
            f'<td style="padding: 2px 14px 2px 0;"><span style="color:{MUTED}; font-size: 8pt;">'
            f'{escape(n.label.upper())}</span><br><span style="font-size: 15pt; font-weight: bold;">'
            f'{escape(n.value)}</span><br><span style="color:{MUTED}; font-size: 8pt;">{escape(n.detail)}</span></td>'
            for n in data.numbers)
        self.cards.setText(f"<table><tr>{cells}</tr></table>")
        self.story.setText("<br>".join(escape(line) for line in data.story))
        self.chart.set_data(data)
        self.marker_label.setText("Click a marker (▼ talk-over, ◆ cue) to find it in the transcript.")
        self.transcript.blockSignals(True)
        self.transcript.clearSelection()
        self.transcript.setRowCount(len(data.transcript))
        for r, u in enumerate(data.transcript):
            who = _item(u.who)
            who.setForeground(QColor(CHANNEL_COLOURS.get(u.who, MIXED)))
            f = who.font()
            f.setBold(True)
            who.setFont(f)
            level = _item("" if u.frustration is None else f"{u.frustration:.2f}", align_right=True)
            if u.level != "calm":
                level.setForeground(QColor(LEVEL_COLOURS[u.level]))
            self.transcript.setItem(r, 0, _item(clock(u.start), u.start))
            self.transcript.setItem(r, 1, who)
            self.transcript.setItem(r, 2, _item(u.text or "(speech, no words)"))
            self.transcript.setItem(r, 3, level)
        self.transcript.blockSignals(False)
        self.transcript.scrollToTop()
        self.scorecard.setText(self._side_html(data))
        for b in (self.export_html, self.export_pdf):
            b.setEnabled(True)

    @staticmethod
    def _side_html(data: ReportData) -> str:
        """The side pane: scorecard, coaching notes, commitments and cues, as every report has them."""
        def title(section: Section) -> str:  # type: ignore[type-arg]
            return f"<h3>{escape(section.title)}</h3>"

        def empty(section: Section) -> str:  # type: ignore[type-arg]
            return f"<p style='color:{MUTED}'>{escape(section.empty)}</p>"

        h = [title(data.scorecard)]
        if data.scorecard:
            h.append("<table cellspacing='0' cellpadding='3'>")
            for sc in data.scorecard:
                h.append(f"<tr><td><b>{escape(sc.skill)}</b><br><span style='color:{MUTED}'>"
                         f"{escape(sc.basis)}</span></td>"
                         f"<td style='color:{SCORE_COLOURS[sc.band]}; font-size: 14pt; font-weight: bold;' "
                         f"align='right'>{sc.score}</td></tr>")
            h.append("</table>")
        else:
            h.append(empty(data.scorecard))
        if data.notes:
            h.append(title(data.notes) + "<ul>" + "".join(f"<li>{escape(n)}</li>" for n in data.notes) + "</ul>")
        h.append(title(data.commitments))
        if data.commitments:
            h.append("<ul>" + "".join(
                f"<li>{clock(c.at)} {escape(c.text)} <i>(due {escape(c.due or 'no time given')})</i></li>"
                for c in data.commitments) + "</ul>")
        else:
            h.append(empty(data.commitments))
        h.append(title(data.cues))
        if data.cues:
            h.append("<ul>" + "".join(
                f"<li>{clock(c.at)} {escape(c.text)} <span style='color:{MUTED}'>({escape(c.skill)}, "
                f"{escape(c.outcome)})</span></li>" for c in data.cues) + "</ul>")
        else:
            h.append(empty(data.cues))
        return "".join(h)

    # -- keeping the chart and the transcript together ---------------------------------------------

    def jump_to_marker(self, index: int) -> None:
        if self.data is None or not 0 <= index < len(self.chart.markers):
            return
        m = self.chart.markers[index]
        self.marker_label.setText(f"{clock(m.at)}  {m.label}" + (f"  ({m.detail})" if m.detail else ""))
        self.jump_to_time(m.at)

    def jump_to_time(self, t: float) -> None:
        if self.data is None:
            return
        row = self.data.utterance_at(t)
        if row is None:
            self.chart.set_cursor(t)
            return
        self.transcript.selectRow(row)
        self.transcript.scrollToItem(self.transcript.item(row, 0), QAbstractItemView.ScrollHint.PositionAtCenter)
        self.chart.set_cursor(t)

    def selected_line(self) -> int | None:
        rows = self.transcript.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def _line_selected(self) -> None:
        row = self.selected_line()
        if self.data is not None and row is not None:
            self.chart.set_cursor(self.data.transcript.rows[row].start)


class TrendsView(QWidget):
    """Per agent and per week: talk share, talk-over per call, peak frustration, silences."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.chart = TrendChart()
        self.table = _table(["Week of", "Agent", "Calls"] + [title for _, title, _ in METRICS])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        lay = QVBoxLayout(self)
        lay.addWidget(self.chart, 3)
        lay.addWidget(self.table, 2)

    def show_sessions(self, sessions: list[StoredSession]) -> None:
        rows = weekly_trends(sessions)
        self.chart.set_rows(rows, METRICS)
        self.table.setRowCount(len(rows))
        for r, row in enumerate(reversed(rows)):
            cells = [row.week.isoformat(), row.agent, str(row.calls)]
            for metric, _, fmt in METRICS:
                value = row.value(metric)
                cells.append("-" if value is None else fmt.format(value))
            for c, text in enumerate(cells):
                self.table.setItem(r, c, _item(text, align_right=c >= 2))


class TopicsView(QWidget):
    """Words and phrases frustrated customers repeat across calls."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.note = QLabel("What frustrated customers said in more than one call (customer lines with "
                           f"frustration ≥ {summary_rules().high_frustration:g}; common words left out).")
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {MUTED}")
        self.table = _table(["Topic", "Calls", "Mentions", "For example"])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        lay = QVBoxLayout(self)
        lay.addWidget(self.note)
        lay.addWidget(self.table, 1)

    def show_sessions(self, store: SessionStore, sessions: list[StoredSession]) -> None:
        loaded = [store.load(s.id) for s in sessions]
        topics = complaint_topics(loaded)
        self.table.setRowCount(len(topics))
        for r, t in enumerate(topics):
            for c, text in enumerate([t.term, str(t.calls), str(t.mentions), t.example]):
                self.table.setItem(r, c, _item(text, align_right=c in (1, 2)))
        if not topics:
            self.note.setText("No complaint comes up in more than one of these calls.")


class ReviewWindow(QMainWindow):
    def __init__(self, store: SessionStore, policy: AccessPolicy | dict | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.policy = AccessPolicy.from_settings(policy)
        self.setWindowTitle("Callcue: review calls")
        self.sessions = SessionList(store, self.policy)
        self.view = SessionView()
        self.trends = TrendsView()
        self.topics = TopicsView()
        self.tabs = QTabWidget()
        # In a scroll area: on a small screen the call scrolls instead of pushing the window off it.
        self.view_tab = QScrollArea()
        self.view_tab.setWidgetResizable(True)
        self.view_tab.setFrameShape(QScrollArea.Shape.NoFrame)
        self.view_tab.setWidget(self.view)
        self.tabs.addTab(self.view_tab, "Call")
        self.tabs.addTab(self.trends, "Trends")
        self.tabs.addTab(self.topics, "Complaint topics")
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.sessions)
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 5)
        self.split = split
        self.setCentralWidget(split)
        self.statusBar().showMessage(f"{store.path}" + ("  (read only: written by a newer Callcue)"
                                                         if store.read_only else ""))
        self.sessions.opened.connect(self.open_session)
        self.sessions.refreshed.connect(self._follow_filters)
        self.sessions.search.textChanged.connect(self._refresh_across)
        for combo in (self.sessions.agent, self.sessions.profile, self.sessions.flag):
            combo.currentIndexChanged.connect(self._refresh_across)
        self.tabs.currentChanged.connect(self._refresh_across)
        # Bound methods, not lambdas: a lambda holding the window crashes PySide when it is deleted.
        self.view.export_html.clicked.connect(self.export_html)
        self.view.export_pdf.clicked.connect(self.export_pdf)
        self._across_key: tuple | None = None
        self.sessions.refresh()
        self.fit_screen()

    def fit_screen(self) -> None:
        """As big as suits the work (1500x900) but never bigger than the screen it opens on."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        area = screen.availableGeometry()
        w, h = min(1500, int(area.width() * 0.95)), min(900, int(area.height() * 0.92))
        self.resize(w, h)
        self.move(area.left() + (area.width() - w) // 2, area.top() + (area.height() - h) // 2)
        # The list as wide as the call pane can spare: its last column, what the customer said first,
        # is what tells the calls apart.
        listed = max(400, min(640, w - 740))
        self.split.setSizes([listed, w - listed])

    def _follow_filters(self) -> None:
        """The pane shows a call of the list or none: after filtering, never one the filters left out."""
        shown = self.view.data.session.id if self.view.data is not None else None
        ids = [s.id for s in self.sessions.sessions]
        if shown in ids:
            return
        if ids:
            self.open_session(ids[0], switch_tab=False)  # the Trends tab stays the Trends tab
        else:
            self.view.clear("No call matches these filters")

    def open_session(self, session_id: str, switch_tab: bool = True) -> bool:
        """Show a session if the policy allows it; returns whether it was shown."""
        try:
            session = self.store.load(session_id)
        except CallcueError as err:
            self.statusBar().showMessage(str(err))
            return False
        if not self.policy.allows(session):
            self.statusBar().showMessage(f"Session {session.id} is not yours to open ({self.policy.describe()}).")
            return False
        self.view.show_report(build_report(session))
        self.sessions.select(session.id, emit=False)
        if switch_tab:
            self.tabs.setCurrentWidget(self.view_tab)
        self.statusBar().showMessage(f"Session {session.id} · {self.store.path}")
        return True

    def _refresh_across(self) -> None:
        """Trends and topics follow the list's filters; computed when their tab is shown."""
        widget = self.tabs.currentWidget()
        if widget is self.view_tab:
            return
        key = (id(widget), tuple(s.id for s in self.sessions.sessions))
        if key == self._across_key:
            return
        self._across_key = key
        if widget is self.trends:
            self.trends.show_sessions(self.sessions.sessions)
        elif widget is self.topics:
            self.topics.show_sessions(self.store, self.sessions.sessions)

    def export_html(self) -> None:
        self.export("html")

    def export_pdf(self) -> None:
        self.export("pdf")

    def export(self, fmt: str) -> None:
        if self.view.data is None:
            return
        sid = self.view.data.session.id
        path, _ = QFileDialog.getSaveFileName(self, f"Export {fmt.upper()}", f"callcue-{sid}.{fmt}",
                                              f"{fmt.upper()} (*.{fmt})")
        if path:
            self.write_export(fmt, path)

    def write_export(self, fmt: str, path: str) -> None:
        try:
            export(self.store, self.view.data.session.id, fmt, path)  # type: ignore[union-attr]
        except CallcueError as err:
            QMessageBox.warning(self, "Export failed", str(err))
            return
        self.statusBar().showMessage(f"Wrote {path}")


def run_review(store: SessionStore, policy: AccessPolicy | dict | None = None, *,
               filters: dict[str, Any] | None = None, open_session: str | None = None,
               screenshot: str | None = None) -> int:
    """Open the window and run Qt's loop until it is closed (the `callcue review` command)."""
    app = QApplication.instance() or QApplication(["callcue"])
    try:
        window = ReviewWindow(store, policy)
        if filters:
            window.sessions.set_filters({k: v for k, v in filters.items() if v})
            window.sessions.refresh()
        if open_session:
            window.open_session(store.resolve(open_session))
        elif window.sessions.sessions:
            window.open_session(window.sessions.sessions[0].id)
        if screenshot:
            window.show()
            app.processEvents()
            if not window.grab().save(screenshot):
                raise CallcueError(f"Cannot write the screenshot {screenshot}; check the folder.")
            return 0
        window.show()
        return int(app.exec())
    finally:
        store.close()
