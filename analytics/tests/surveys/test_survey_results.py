"""The survey results page: a chart and a table per score or choice question,
the NPS split of an NPS question, free texts escaped, the rewards wished for
next to those redeemed; all answers as CSV (cells that look like formulas
neutralised); only for staff with the dashboards' right."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.selectors.surveys import (
    survey_results,
    survey_wishes_vs_redemptions,
)
from campaigns.feedback.surveys import survey_response_submit
from campaigns.models import QuestionKind, SurveyKind
from campaigns.tests.factories import question_make, survey_make, wishes_survey_make
from members.tests.factories import MemberFactory
from rewards.models import Voucher, VoucherSource
from rewards.tests.factories import RewardFactory

pytestmark = pytest.mark.django_db


_codes = itertools.count(1)


def _voucher(*, reward, member, source):
    code = f"SV{next(_codes):06d}"
    return Voucher.objects.create(
        reward=reward,
        member=member,
        source=source,
        code=code,
        idempotency_key=code,
        points_spent=reward.points_cost if source == VoucherSource.REDEEMED else 0,
        expires_at=timezone.now() + dt.timedelta(days=30),
    )


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def answered(store):
    coffee = RewardFactory(name="Coffee")
    cake = RewardFactory(name="Cake")
    survey, wish, often, happy, other = wishes_survey_make(
        wish_choices=(("Coffee", coffee), ("Cake", cake), "Cinema")
    )
    ids = {c.text_en: c.pk for c in wish.choices.all()}
    monthly, yearly = often.choices.order_by("order").values_list("pk", flat=True)
    rows = [
        (["Coffee", "Cake"], monthly, 5, "<script>alert(1)</script>"),
        (["Cake"], monthly, 4, '=HYPERLINK("http://x")'),
        (["Cake", "Cinema"], yearly, 2, ""),
    ]
    for wishes, freq, score, text in rows:
        survey_response_submit(
            survey=survey,
            member=MemberFactory(store=store),
            purchase=None,
            answers={
                wish.pk: [ids[w] for w in wishes],
                often.pk: freq,
                happy.pk: score,
                other.pk: text,
            },
        )
    buyer = MemberFactory(store=store)
    for _ in range(3):
        _voucher(reward=coffee, member=buyer, source=VoucherSource.REDEEMED)
    _voucher(reward=cake, member=buyer, source=VoucherSource.REDEEMED)
    _voucher(reward=cake, member=buyer, source=VoucherSource.BIRTHDAY)
    return survey, wish, often, happy, other


def _chart(html: str, element_id: str) -> dict:
    found = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>', html
    )
    return json.loads(found.group(1))


class TestSelectors:
    def test_counts_per_choice_and_score_and_texts(self, answered):
        survey, wish, often, happy, other = answered
        responses, results = survey_results(survey=survey)
        assert responses == 3
        by_q = {r.question.pk: r for r in results}
        assert [(r.label, r.count) for r in by_q[wish.pk].rows] == [
            ("Coffee", 1),
            ("Cake", 3),
            ("Cinema", 1),
        ]
        assert by_q[wish.pk].rows[1].percent == 100.0
        assert [r.count for r in by_q[often.pk].rows] == [2, 1]
        assert [r.count for r in by_q[happy.pk].rows] == [0, 1, 0, 1, 1]
        assert by_q[happy.pk].average == pytest.approx(3.67)
        assert [t["text"] for t in by_q[other.pk].texts] == [
            '=HYPERLINK("http://x")',
            "<script>alert(1)</script>",
        ]

    def test_nps_question_splits_promoters_and_detractors(self, store):
        survey = survey_make(kind=SurveyKind.NPS)
        nps = question_make(survey, QuestionKind.NPS, text="Recommend?")
        for score in (10, 9, 7, 3):
            survey_response_submit(
                survey=survey,
                member=MemberFactory(store=store),
                purchase=None,
                answers={nps.pk: score},
            )
        (_n, [result]) = survey_results(survey=survey)
        assert (result.nps.promoters, result.nps.passives, result.nps.detractors) == (
            2,
            1,
            1,
        )
        assert result.nps.score == 25.0

    def test_wished_next_to_redeemed_with_points(self, answered):
        rows = survey_wishes_vs_redemptions(survey=answered[0])
        assert [(r.reward, r.wished, r.redeemed) for r in rows] == [
            ("Cake", 3, 1),  # the birthday gift is not a redemption
            ("Coffee", 1, 3),
        ]
        assert (rows[0].wished_percent, rows[0].redeemed_percent) == (100.0, 25.0)

    def test_results_cost_a_fixed_number_of_queries(
        self, answered, store, django_assert_max_num_queries
    ):
        with django_assert_max_num_queries(6):
            survey_results(survey=answered[0])


class TestPages:
    def test_results_page_draws_charts_and_escapes_free_text(
        self, manager_client, answered
    ):
        survey, wish, *_ = answered
        url = reverse("admin:analytics_survey_results", args=[survey.pk])
        response = manager_client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        chart = _chart(html, f"chart-data-q{wish.pk}")
        assert chart["labels"] == ["Coffee", "Cake", "Cinema"]
        assert chart["datasets"][0]["data"] == [1, 3, 1]
        wishes = _chart(html, "chart-data-wishes")
        assert [d["data"] for d in wishes["datasets"]] == [[3, 1], [1, 3]]
        assert html.count('data-testid="question-result"') == 4

    def test_survey_list_links_results(self, manager_client, answered):
        response = manager_client.get(reverse("admin:analytics_surveys"))
        assert response.status_code == 200
        assert (
            reverse("admin:analytics_survey_results", args=[answered[0].pk])
            in response.content.decode()
        )

    def test_csv_has_a_column_per_question_and_neutralises_formulas(
        self, manager_client, answered
    ):
        survey = answered[0]
        url = reverse("admin:analytics_survey_answers_csv", args=[survey.pk])
        response = manager_client.get(url)
        assert response.status_code == 200
        text = response.content.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0][3:] == [
            "Which rewards?",
            "How often?",
            "How happy?",
            "Anything else?",
            "comment",
            "campaign",
        ]
        assert len(rows) == 4
        assert rows[1][3:7] == [
            "Coffee; Cake",
            "Monthly",
            "5",
            "<script>alert(1)</script>",
        ]
        assert rows[2][6].startswith("'=")

    def test_cashier_may_not_see_results(self, client, cashier, answered):
        client.force_login(cashier)
        url = reverse("admin:analytics_survey_results", args=[answered[0].pk])
        assert client.get(url).status_code == 403
        csv_url = reverse("admin:analytics_survey_answers_csv", args=[answered[0].pk])
        assert client.get(csv_url).status_code == 403

    def test_unknown_survey_is_a_404(self, manager_client):
        url = reverse("admin:analytics_survey_results", args=[999999])
        assert manager_client.get(url).status_code == 404


def test_member360_timeline_shows_an_answer_without_a_headline_score(answered):
    from analytics.selectors.timeline_campaigns import survey_answers_source
    from campaigns.models import SurveyResponse

    response = SurveyResponse.objects.order_by("pk").first()
    [item] = survey_answers_source(response.member, 10)
    assert item.title == "Wishes"
