"""Trends per agent and week, complaint topics, and who may see which session."""

from __future__ import annotations

from datetime import date

import pytest

from callcue.errors import CallcueError
from callcue.report.access import AccessPolicy, visible
from callcue.report.trends import STOPWORDS, complaint_topics, content_pairs, content_words, weekly_trends
from callcue.store import SessionStore
from tests.report.sessions import AGENTS, WEEKS, sample_db


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    path = tmp_path_factory.mktemp("trends") / "sessions.db"
    sample_db(path)
    with SessionStore(path) as store:
        yield [store.load(s.id) for s in store.list()]


def test_weekly_trends_per_agent(sessions):
    rows = weekly_trends(sessions)
    assert len(rows) == len(AGENTS) * WEEKS
    assert {r.week for r in rows} == {date(2024, 5, 6), date(2024, 5, 13), date(2024, 5, 20), date(2024, 5, 27)}
    assert all(r.week.weekday() == 0 and r.calls == 1 for r in rows)
    assert [r.week for r in rows] == sorted(r.week for r in rows)
    by_id = {s.id: s for s in sessions}
    for row in rows:
        (call,) = [s for s in by_id.values() if s.agent == row.agent and s.started().date() >= row.week
                   and (s.started().date() - row.week).days < 7]
        assert row.peak == pytest.approx(call.peak_frustration)
        assert row.interruptions == call.summary["interruptions"]
        assert row.silences == call.summary["silences"]
        assert row.talk_ratio == pytest.approx(call.summary["talk_ratio"])


def test_complaint_topics_recur_and_skip_stopwords_and_tags(sessions):
    # every topic the sample calls give (the voice now hears more of their lines as frustrated than the
    # default list of 15 holds)
    topics = complaint_topics(sessions, limit=100)
    assert topics and all(t.calls >= 2 for t in topics)
    terms = [t.term for t in topics]
    assert "cancelling" in terms and "losing money" in terms
    for t in topics:
        assert not set(t.term.split()) & STOPWORDS
        assert "[" not in t.term and "account]" not in t.term
    assert [t.calls for t in topics] == sorted((t.calls for t in topics), reverse=True)


def test_content_words_and_pairs():
    assert content_words("I am SO tired of being passed around, my account is 4521883!") == [
        "tired", "passed", "around", "account"]  # the number itself is gone
    assert content_pairs("The late fee. Fee waived") == ["late fee", "fee waived"]
    assert content_pairs("passed around, again, late. fee") == ["passed around"]  # not across punctuation


def test_access_policy():
    class S:  # what the policy reads of a session
        def __init__(self, agent, flags=(), peak=None):
            self.agent, self.flags, self.peak_frustration = agent, list(flags), peak

    calls = [S("kim"), S("lee", ["escalation"]), S("sam", peak=0.9), S("ann"), S(None)]
    names = lambda p: [s.agent for s in visible(calls, p)]  # noqa: E731
    assert names(AccessPolicy()) == ["kim", "lee", "sam", "ann", None]  # no name set: the machine's own
    assert names(AccessPolicy(role="agent", user="kim")) == ["kim", None]
    assert names(AccessPolicy.from_settings({"role": "supervisor", "user": "boss", "policy": "team",
                                             "team": ["lee", "sam"]})) == ["lee", "sam", None]
    assert names(AccessPolicy(role="supervisor", user="boss", supervisors_see="flagged")) == ["lee", "sam", None]
    assert names(AccessPolicy(role="supervisor", user="boss", supervisors_see="all")) == ["kim", "lee", "sam",
                                                                                         "ann", None]

    class Settings:
        review_role, review_user, review_policy = "supervisor", "boss", "own"

    assert names(AccessPolicy.from_settings(Settings())) == [None]
    with pytest.raises(CallcueError, match="not one of"):
        AccessPolicy(role="admin")
