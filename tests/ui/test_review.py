"""The review window with pytest-qt (offscreen): list, filter, open, click a marker."""

from __future__ import annotations

import ast
from datetime import date
from html import escape
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, Qt

from callcue.store import SessionStore
from callcue.ui.review import ReviewWindow
from tests.report.sessions import sample_db


@pytest.fixture
def db(tmp_path):
    ids = sample_db(tmp_path / "sessions.db")
    store = SessionStore(tmp_path / "sessions.db")
    store.ids = ids
    yield store
    store.close()


@pytest.fixture
def window(qtbot, db):
    w = ReviewWindow(db)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    return w


def rows(w):
    table = w.sessions.table
    return [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]


def test_list_and_filters(qtbot, window):
    listed = rows(window)
    assert len(listed) == 12
    assert [r[0] for r in listed] == sorted((r[0] for r in listed), reverse=True)  # newest first
    assert "12 of 12 calls" in window.sessions.count.text()

    window.sessions.agent.setCurrentIndex(window.sessions.agent.findData("lee"))
    assert {r[1] for r in rows(window)} == {"lee"} and len(rows(window)) == 4
    window.sessions.agent.setCurrentIndex(0)

    window.sessions.flag.setCurrentIndex(window.sessions.flag.findData("escalation"))
    flagged = rows(window)
    assert flagged and all("escalation request" in r[5] for r in flagged)
    window.sessions.flag.setCurrentIndex(0)

    window.sessions.min_peak.setValue(0.9)
    assert rows(window) and all(float(r[4]) >= 0.9 for r in rows(window))
    window.sessions.min_peak.setValue(0.0)

    window.sessions.profile.setCurrentIndex(window.sessions.profile.findData("telco"))
    assert {r[2] for r in rows(window)} == {"telco"}
    window.sessions.profile.setCurrentIndex(0)

    window.sessions.since.setDate(QDate(2024, 5, 13))
    window.sessions.until.setDate(QDate(2024, 5, 20))
    days = {r[0][:10] for r in rows(window)}
    assert days and all(date(2024, 5, 13) <= date.fromisoformat(d) <= date(2024, 5, 20) for d in days)
    window.sessions.since.setDate(QDate(2000, 1, 1))
    window.sessions.until.setDate(QDate(2000, 1, 1))
    assert len(rows(window)) == 12

    qtbot.keyClicks(window.sessions.search, "broken wheel")  # words from the transcript
    found = rows(window)
    assert found and len(found) < 12
    assert "of 12 calls" in window.sessions.count.text()


def test_open_and_click_a_marker_jumps_in_the_transcript(qtbot, window, db):
    billing = [sid for sid, name in db.ids.items() if name == "billing-dispute"]
    window.sessions.select(billing[0])  # like a click on its row
    view = window.view
    assert view.data is not None and view.data.session.id == billing[0]
    assert view.transcript.rowCount() == 16 and view.chart.markers
    assert "0.91" in view.cards.text() and "frustration rose" in view.story.text()  # billing-dispute's peak
    assert "empathy" in view.scorecard.text() and "tomorrow before noon" in view.scorecard.text()

    chart = view.chart
    index = next(i for i, m in enumerate(chart.markers) if "escalate" in m.label)
    with qtbot.waitSignal(chart.markerClicked) as clicked:
        qtbot.mouseClick(chart, Qt.MouseButton.LeftButton, pos=chart.marker_center(index).toPoint())
    assert clicked.args == [index]
    row = view.selected_line()
    assert row is not None
    line = view.data.transcript[row]
    assert "supervisor" in line.text and line.who == "customer"  # what the cue was about
    assert line.start <= chart.markers[index].at
    item = view.transcript.item(row, 2)
    assert view.transcript.viewport().rect().intersects(view.transcript.visualItemRect(item))
    assert chart.cursor_t == pytest.approx(chart.markers[index].at)
    assert "escalate" in view.marker_label.text()

    # Talk-over markers too: the agent cut in while the customer spoke.
    talk = next(i for i, m in enumerate(chart.markers) if m.kind == "interruption")
    qtbot.mouseClick(chart, Qt.MouseButton.LeftButton, pos=chart.marker_center(talk).toPoint())
    assert view.data.transcript[view.selected_line()].start <= chart.markers[talk].at

    # And the other way: picking a transcript line moves the chart's cursor.
    view.transcript.selectRow(0)
    assert chart.cursor_t == view.data.transcript[0].start


def test_trends_and_topics_tabs_follow_the_filters(qtbot, window):
    window.tabs.setCurrentWidget(window.trends)
    assert window.trends.table.rowCount() == 12  # 3 agents x 4 weeks
    window.sessions.agent.setCurrentIndex(window.sessions.agent.findData("kim"))
    assert window.trends.table.rowCount() == 4
    assert {window.trends.table.item(r, 1).text() for r in range(4)} == {"kim"}
    window.sessions.agent.setCurrentIndex(0)
    window.tabs.setCurrentWidget(window.topics)
    terms = [window.topics.table.item(r, 0).text() for r in range(window.topics.table.rowCount())]
    assert "cancelling" in terms


def test_agents_see_only_their_own_calls(qtbot, db):
    w = ReviewWindow(db, {"role": "agent", "user": "lee"})
    qtbot.addWidget(w)
    assert {r[1] for r in rows(w)} == {"lee"} and len(rows(w)) == 4
    assert w.sessions.agent.count() == 2  # "any" and lee: other agents' names are not shown either
    kim = next(s.id for s in db.list(agent="kim"))
    assert not w.open_session(kim)
    assert "not yours" in w.statusBar().currentMessage()
    supervisor = ReviewWindow(db, {"role": "supervisor", "user": "boss", "policy": "flagged"})
    qtbot.addWidget(supervisor)
    assert rows(supervisor) and all(r[5] or float(r[4]) >= 0.7 for r in rows(supervisor))


def test_export_from_the_window(qtbot, window, db, tmp_path):
    window.open_session(next(iter(db.ids)))
    window.write_export("html", str(tmp_path / "r.html"))
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
    assert "Wrote" in window.statusBar().currentMessage()


def test_the_pane_shows_what_the_reports_show(qtbot, window, db):
    """The side pane renders the same report model as the HTML and the PDF: every score with its
    basis, every promise and every cue, the playbook's band colour on each score."""
    from callcue.report.svg import SCORE_COLOURS

    billing = next(sid for sid, name in db.ids.items() if name == "billing-dispute")
    window.open_session(billing)
    data, pane = window.view.data, window.view.scorecard.text()
    for sc in data.scorecard:
        assert f"{sc.skill}</b>" in pane and f"{SCORE_COLOURS[sc.band]}; font-size: 14pt; font-weight: bold;' " \
            f"align='right'>{sc.score}<" in pane
        assert escape(sc.basis) in pane
    for title in ("Scorecard", "Coaching notes", "Commitments", "Cues shown to the agent"):
        assert f"<h3>{title}</h3>" in pane
    assert all(escape(p.text) in pane for p in data.commitments) and len(data.commitments) == 2
    assert all(escape(c.text) in pane for c in data.cues) and len(data.cues) == 6


def test_the_review_window_imports_nothing_from_the_commands():
    """`ui` sits below `commands`: the window's export is report/export.py's (no import of
    callcue.commands anywhere in the module, inside functions either)."""
    import callcue.ui.review

    tree = ast.parse(Path(callcue.ui.review.__file__).read_text(encoding="utf-8"))
    imported = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert "callcue.report.export" in imported
    assert not [m for m in imported if m.startswith("callcue.commands")]


def test_the_pane_follows_the_filters_never_showing_a_call_they_left_out(qtbot, window, db):
    listed = window.sessions.sessions
    other = next(s for s in listed if s.agent != "sam")
    window.sessions.select(other.id)
    assert window.view.data.session.id == other.id
    window.sessions.agent.setCurrentIndex(window.sessions.agent.findData("sam"))
    assert window.view.data is not None and window.view.data.session.agent == "sam"
    assert window.view.data.session.id == window.sessions.current_id()  # the pane is the selected row
    assert window.view.title.text().startswith("sam,")
    qtbot.keyClicks(window.sessions.search, "no call has these words zzqx")
    assert window.sessions.sessions == [] and window.view.data is None
    assert window.view.title.text() == "No call matches these filters"
    assert window.view.transcript.rowCount() == 0 and not window.view.export_pdf.isEnabled()


def test_the_list_shows_what_the_customer_said_first(qtbot, window, db):
    said = [r[6] for r in rows(window)]
    assert all(s and s != "(no words)" for s in said)
    # it tells the calls apart: the same words exactly for the same sample call (no "Hi." for every one)
    names = [db.ids[s.id] for s in window.sessions.sessions]
    assert len(set(said)) == len(set(names)) == len(set(zip(said, names, strict=True)))
    first = window.sessions.sessions[0]
    customer = " ".join(u.text for u in db.load(first.id).transcript() if u.who == "customer")
    assert said[0].rstrip("\u2026") in customer and len(said[0].split()) >= 4


def test_the_window_fits_the_screen_it_opens_on(qtbot, db):
    from PySide6.QtGui import QGuiApplication

    w = ReviewWindow(db)
    qtbot.addWidget(w)
    w.show()
    area = QGuiApplication.primaryScreen().availableGeometry()
    assert area.contains(w.geometry()), (w.geometry(), area)
    assert w.width() <= 1500 and w.height() <= 900


def chart_of(window, db, name):
    sid = next(s for s, n in db.ids.items() if n == name)
    window.open_session(sid)
    chart = window.view.chart
    return chart, chart.grab().toImage()


def test_the_chart_draws_red_only_above_the_playbooks_high_level_and_its_axis_has_ticks(qtbot, window, db):
    from PySide6.QtGui import QColor

    from callcue.report.svg import FRUSTRATION
    from callcue.ui.timeline_chart import FRUS_H, LEFT, TICKS_W, TOP

    red = QColor(FRUSTRATION).rgb()

    def red_rows(img) -> set[int]:
        return {y for y in range(TOP, TOP + FRUS_H + 1) for x in range(LEFT, img.width() - 20)
                if img.pixel(x, y) == red}

    calm, img = chart_of(window, db, "password-reset")  # peak 0.31: under the high level all along
    high = calm.data.rules.high_frustration
    assert calm.data.peak.level < high and red_rows(img) == set()
    hot, img = chart_of(window, db, "outage-deescalation")  # peak 1.0
    rows_ = red_rows(img)
    assert rows_ and max(rows_) <= hot.y_of(high) + 1  # red, and only above the high line

    assert [label for _, label in hot.y_ticks()] == ["0", "0.5", "1"]
    for level, _ in hot.y_ticks():  # each tick's label is drawn left of the plot at its height
        y = round(hot.y_of(level))
        ink = [x for x in range(LEFT - TICKS_W, LEFT - 4) for yy in range(y - 5, y + 6)
               if QColor(img.pixel(x, yy)).lightness() < 160]
        assert ink, level
