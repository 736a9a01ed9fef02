"""NPS and satisfaction against hand-computed values, and the survey prompt."""

from __future__ import annotations

import datetime as dt

import pytest

from campaigns.feedback.selectors import (
    nps_for_period,
    satisfaction_for_period,
    survey_prompt_for_member,
)
from campaigns.feedback.surveys import survey_response_submit
from campaigns.models import SurveyKind
from campaigns.tests.factories import purchase_make, response_make, survey_make
from members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
END = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)


@pytest.fixture
def members(store):
    return [MemberFactory(store=store) for _ in range(12)]


def test_nps_is_promoters_minus_detractors_in_percent(members, store, other_store):
    survey = survey_make()
    inside = START + dt.timedelta(days=3)
    # 10 answers in March: promoters 10, 9, 9, 10 (4); passives 8, 7 (2);
    # detractors 6, 0, 3, 5 (4) -> 40% - 40% = 0.0.  Store "main": 10, 9, 9, 8, 6
    # -> promoters 3/5, detractors 1/5 -> 60 - 20 = 40.0.
    scores = [
        (10, store),
        (9, store),
        (9, store),
        (8, store),
        (6, store),
        (10, other_store),
        (7, other_store),
        (0, other_store),
        (3, other_store),
        (5, other_store),
    ]
    for member, (score, where) in zip(members, scores, strict=False):
        response_make(
            survey=survey, member=member, score=score, when=inside, store=where
        )
    # Outside the period: the day before, and END itself (the period is [start, end)).
    response_make(
        survey=survey, member=members[10], score=0, when=START - dt.timedelta(seconds=1)
    )
    response_make(survey=survey, member=members[11], score=0, when=END)

    result = nps_for_period(start=START, end=END)
    assert (result.responses, result.promoters, result.passives, result.detractors) == (
        10,
        4,
        2,
        4,
    )
    assert result.score == 0.0
    main = nps_for_period(start=START, end=END, store=store)
    assert (main.responses, main.score) == (5, 40.0)


def test_nps_rounds_to_one_place_and_is_none_without_answers(members):
    survey = survey_make()
    when = START + dt.timedelta(days=1)
    for member, score in zip(members[:3], [10, 10, 0], strict=True):
        response_make(survey=survey, member=member, score=score, when=when)
    # 2/3 - 1/3 = 33.333...
    assert nps_for_period(start=START, end=END).score == 33.3
    assert nps_for_period(start=END, end=END + dt.timedelta(days=30)).score is None


def test_nps_ignores_satisfaction_answers(members):
    nps = survey_make()
    sat = survey_make(name="Sat", kind=SurveyKind.SATISFACTION)
    when = START + dt.timedelta(days=1)
    response_make(survey=nps, member=members[0], score=10, when=when)
    response_make(survey=sat, member=members[1], score=1, when=when)
    assert nps_for_period(start=START, end=END).responses == 1
    assert satisfaction_for_period(start=START, end=END).responses == 1


def test_satisfaction_average_for_a_period_and_store(members, store, other_store):
    survey = survey_make(name="Sat", kind=SurveyKind.SATISFACTION)
    when = START + dt.timedelta(days=10)
    # 5, 4, 4, 2 at main -> 15/4 = 3.75; 1 elsewhere -> all 16/5 = 3.2
    for member, (score, where) in zip(
        members,
        [(5, store), (4, store), (4, store), (2, store), (1, other_store)],
        strict=False,
    ):
        response_make(survey=survey, member=member, score=score, when=when, store=where)
    everything = satisfaction_for_period(start=START, end=END)
    assert (everything.responses, everything.average) == (5, 3.2)
    assert satisfaction_for_period(start=START, end=END, store=store).average == 3.75
    assert satisfaction_for_period(start=END, end=END).average is None


def test_selectors_are_one_query_each(members, django_assert_num_queries):
    survey = survey_make()
    response_make(survey=survey, member=members[0], score=9, when=START)
    with django_assert_num_queries(1):
        nps_for_period(start=START, end=END)
    with django_assert_num_queries(1):
        satisfaction_for_period(start=START, end=END)


def test_prompt_asks_about_the_latest_unanswered_purchase(member, store):
    survey = survey_make()
    purchase_make(member=member, store=store, ago=dt.timedelta(days=2))
    latest = purchase_make(member=member, store=store, ago=dt.timedelta(hours=1))
    assert survey_prompt_for_member(member=member) == (survey, latest)
    survey_response_submit(survey=survey, member=member, purchase=latest, score=9)
    assert survey_prompt_for_member(member=member) is None


def test_no_prompt_without_a_recent_purchase_or_survey(member, store):
    assert survey_prompt_for_member(member=member) is None
    survey_make(link_valid_days=7)
    purchase_make(member=member, store=store, ago=dt.timedelta(days=10))
    assert survey_prompt_for_member(member=member) is None
