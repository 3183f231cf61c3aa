"""The exports: HTML parses and carries its SVG, the PDF has pages that render, JSON is the stream
plus the summary; nothing raw gets out, whether the store redacted it or not."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from html.parser import HTMLParser

import pytest
from PySide6.QtGui import QImage

from callcue.engine import events as ev
from callcue.report.data import Peak, build_report, frustration_story, summary_rules
from callcue.report.html import render_html
from callcue.report.jsonexport import export_dict, render_json
from callcue.report.pdf import pdf_markup, write_pdf
from callcue.report.svg import SCORE_COLOURS
from callcue.store import SessionStore, StoredSession
from tests.report.sessions import analysed, sample_db

RAW = ("4521883", "four five two one eight eight three", "4111 1111 1111 1111", "4111111111111111",
       "jo.lee@example.com", "555-867-5309")


@pytest.fixture
def store(tmp_path):
    ids = sample_db(tmp_path / "sessions.db")
    with SessionStore(tmp_path / "sessions.db") as s:
        s.ids = ids
        yield s


def _billing(store):
    sid = next(i for i, name in store.ids.items() if name == "billing-dispute")
    return build_report(store.load(sid))


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.ids, self.links, self.text = [], set(), [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for key in ("href", "src"):
            if key in attrs:
                self.links.append(attrs[key])

    def handle_data(self, data):
        self.text.append(data)


def test_html_parses_with_its_svg_and_links_to_the_transcript(store):
    data = _billing(store)
    page = render_html(data)
    parser = _Collect()
    parser.feed(page)
    parser.close()
    assert parser.tags.count("svg") >= 2 and "path" in parser.tags and "circle" in parser.tags
    assert sum(1 for i in parser.ids if i.startswith("t-")) == len(data.transcript) == 16
    # Self-contained: every link points inside the page, nothing is fetched.
    assert parser.links and all(link.startswith("#") for link in parser.links)
    assert {link[1:] for link in parser.links} <= parser.ids
    assert "<script" not in page and "<link" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    text = " ".join(parser.text)
    for heading in ("Timeline", "Scorecard", "Transcript", "Commitments", "Coaching notes", "What happened"):
        assert heading in text
    assert "tomorrow before noon" in text  # a commitment with when it is due
    assert "escalation" in text and "0.91" in text


def test_story_says_where_frustration_rose_and_what_the_agent_did(store):
    story = " ".join(frustration_story(_billing(store)))
    assert "0:34 frustration rose to 0.65" in story and "Are you still there?" in story
    assert "the agent talked over the customer" in story and "peaked at 0.91 at 1:05" in story


def test_pdf_has_pages_and_renders(store, tmp_path):
    assert shutil.which("pdftoppm"), "poppler-utils (setup.sh --test) is needed to check the PDF"
    pdf = tmp_path / "report.pdf"
    pages = write_pdf(_billing(store), pdf)
    assert pages >= 2 and pdf.read_bytes().startswith(b"%PDF")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert f"Pages:          {pages}" in info.replace("Pages:           ", "Pages:          ")
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pngs = sorted(tmp_path.glob("page-*.png"))
    assert len(pngs) == pages
    image = QImage(str(pngs[0]))
    assert not image.isNull()
    inked = red = 0
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            c = image.pixelColor(x, y)
            if c.red() < 200 or c.green() < 200 or c.blue() < 200:
                inked += 1
            if c.red() > 150 and c.green() < 110 and c.blue() < 110:
                red += 1  # the frustration line and the alert markers of the chart
    total = (image.height() // 2) * (image.width() // 2)
    assert 0.03 < inked / total < 0.6 and red > 30
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Call review" in text and "Scorecard" in text and "Okay. Thank you." in text


def test_json_is_the_event_stream_plus_the_summary(store):
    data = _billing(store)
    doc = json.loads(render_json(data))
    events = doc["events"]
    assert events[0]["type"] == "call" and events[-1]["type"] == "summary"
    assert [e for e in events if e["type"] == "summary"] == [events[-1]]
    assert {k: v for k, v in events[-1].items() if k != "type"} == doc["summary"]
    assert doc["summary"]["frustration_timeline"]["peak"] == 0.914
    assert doc["session"]["id"] == data.session.id and doc["session"]["agent"] in ("kim", "lee", "sam")
    body = events[1:-1]
    times = [e.get("at", e.get("start")) for e in body]
    assert times == sorted(times)
    # The engine's stream, all of it (in time order instead of the order it was written).
    made = [e.to_dict() for e in ev.sort_stream(list(analysed("billing-dispute")))]
    assert len(events) == len(made) and [e["type"] for e in events] == [e["type"] for e in made]


def _raw_session() -> StoredSession:
    """A session that never went through the store: the exports must redact on their own."""
    events = [
        ev.CallStart(duration_s=20.0, channels=["agent", "customer"], transcript="file"),
        ev.Speech("customer", 1.0, 6.0),
        ev.Utterance("customer", 1.0, 6.0, "My account is four five two one eight eight three and it's broken",
                     frustration=0.8, signals=["said: 4521883"]),
        ev.Frustration(6.0, 0.8, "rising"),
        ev.Utterance("agent", 6.5, 9.0, "Your card 4111 1111 1111 1111 is on file, mail jo.lee@example.com"),
        ev.Cue(9.0, "acknowledge-frustration", "empathy", "warn", "Acknowledge how they feel",
               why='They said "4521883".', evidence={"utterance": "account 4521883"}),
        ev.Utterance("customer", 10.0, 12.0, "call me at 555-867-5309", frustration=0.7),
        ev.Summary(0.5, 0, 0.0, 0.8, ["acknowledge-frustration"], {"empathy": 30},
                   commitments=[{"at": 7.0, "text": "I will text 555-867-5309 today", "due": "today"}],
                   scorecard={"empathy": {"score": 30, "basis": "account 4521883 mentioned"}},
                   notes=["To try: empathy (account 4521883)."]),
    ]
    return StoredSession(id="raw000000000", kind="live", agent="kim", profile="acme",
                         started_at="2024-05-06T09:30:00+00:00", duration_s=20.0, devices={"mic": "4521883"},
                         model=None, source="/calls/4521883.wav", state="finished", summary=None,
                         peak_frustration=0.8, flags=[], events=events)


@pytest.mark.parametrize("fmt", ["html", "pdf", "json"])
def test_no_raw_number_in_any_export(store, tmp_path, fmt):
    for data in (_billing(store), build_report(_raw_session())):
        if fmt == "html":
            out = render_html(data)
        elif fmt == "json":
            out = render_json(data) + json.dumps(export_dict(data))
        else:
            pdf = tmp_path / f"{data.session.id}.pdf"
            write_pdf(data, pdf)
            out = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
            out += pdf.read_bytes().decode("latin-1")
        flat = " ".join(out.split()).lower()
        for raw in RAW:
            assert raw.lower() not in flat, f"{raw!r} got into the {fmt} export of {data.session.id}"
        assert "[account]" in flat


def test_database_file_holds_no_raw_number(tmp_path):
    sample_db(tmp_path / "sessions.db")
    blob = b"".join(p.read_bytes() for p in tmp_path.glob("sessions.db*")).lower()
    assert b"[account]" in blob
    for raw in RAW:
        assert raw.encode() not in blob


def test_session_id_is_not_taken_for_an_account_number():
    session = _raw_session()
    session.id = "2594058212bc"  # random hex ids may hold seven digits in a row
    doc = export_dict(build_report(session))
    assert doc["session"]["id"] == "2594058212bc" and doc["session"]["source"] == "/calls/[account].wav"


def test_recovered_session_without_summary_still_reports(tmp_path):
    store = SessionStore(tmp_path / "s.db")
    sid = store.begin({"kind": "live", "agent": "kim"})
    made = list(analysed("billing-dispute"))
    store.append(sid, made[: len(made) // 2])
    store.flush()
    store.close()
    store = SessionStore(tmp_path / "s.db")
    assert [s.id for s in store.recover(force=True)] == [sid]
    data = build_report(store.load(sid))
    assert data.recovered_summary and data.summary["frustration_peak"] is not None
    assert "cut off" in data.summary["notes"][0]
    assert "<svg" in render_html(data) and json.loads(render_json(data))["summary_recovered"] is True
    store.close()


def test_every_format_renders_the_one_model(store):
    """The HTML and the PDF show each record of the report model: no renderer reads the summary itself."""
    data = _billing(store)
    assert [s.skill for s in data.scorecard] == ["empathy", "active-listening", "conflict-management",
                                                 "time-management", "clear-communication", "cultural-awareness",
                                                 "accountability"]  # weakest first
    assert len(data.commitments) == 2 and len(data.cues) == 6 and data.peak == Peak(65.377, 0.914)
    for page in (render_html(data), pdf_markup(data)):
        parser = _Collect()
        parser.feed(page)
        text = " ".join(" ".join(parser.text).split())
        shown = [(n.label.upper() if page.startswith("<html>") else n.label, n.value, n.detail)
                 for n in data.numbers]
        shown += [(sc.skill, str(sc.score), sc.basis) for sc in data.scorecard]
        shown += [(p.text, p.due or "no time given") for p in data.commitments]
        shown += [(c.text, c.skill, c.outcome) for c in data.cues]
        shown += [(line,) for line in [*data.story, *data.notes]]
        for values in shown:
            for value in values:
                assert value in text, (value, values)
        for section in (data.story, data.notes, data.scorecard, data.commitments, data.cues, data.transcript):
            assert section.title in text


def test_levels_and_score_bands_follow_the_playbook(store):
    data = _billing(store)
    by_skill = {s.skill: s for s in data.scorecard}
    assert (by_skill["empathy"].band, by_skill["active-listening"].band, by_skill["conflict-management"].band) \
        == ("poor", "fair", "good")
    assert [m.severity for m in data.markers if m.kind == "peak"] == ["alert"]  # 0.91: very high
    assert [u.level for u in data.transcript if u.frustration is not None][3:6] == ["high", "very high", "very high"]
    assert f'fill="{SCORE_COLOURS["fair"]}"' in render_html(data)

    rules = replace(summary_rules(), good=90, fair=50, high_frustration=0.6, very_high_frustration=0.96)
    data = build_report(data.session, rules)
    by_skill = {s.skill: s for s in data.scorecard}
    assert (by_skill["empathy"].band, by_skill["active-listening"].band, by_skill["conflict-management"].band) \
        == ("fair", "fair", "fair")
    assert [m.severity for m in data.markers if m.kind == "peak"] == ["warn"]
    assert [u.level for u in data.transcript if u.frustration is not None][3:6] == ["high", "very high", "high"]
    page = render_html(data)
    assert "dashed: 0.6" in page and "dashed: 0.5" not in page
    assert page.count(f'fill="{SCORE_COLOURS["good"]}"') == 4  # 90 and the three of 100
