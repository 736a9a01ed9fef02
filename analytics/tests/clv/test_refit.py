"""The nightly refit on the program's own purchases: who gets the model and
who the heuristic, what is stored, the P(alive) segment condition, the
win-back journey limited to a segment, and the pages that show it."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.models import CLVMethod, CLVModelFit, MemberCLV
from analytics.selectors import clv_model as cm
from analytics.selectors.clv import member_value
from analytics.services.clv import clv_model_refit
from analytics.tasks import clv_refit
from analytics.tests.recs_data import Line, members_make, purchases_make
from campaigns.journeys.services import journey_due
from campaigns.models import Journey, JourneyKind, Segment, SegmentKind
from campaigns.segments.definition import SegmentError, segment_q
from members.models import Member

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(dt.datetime(2026, 6, 1, 12, 0))


def _history(store, n_members: int, *, new_members: int = 0, seed: int = 16):
    """Purchases drawn as BG/NBD assumes (seeded): per member a weekly rate
    λ ~ Gamma(0.5, 1/3), a dropout chance p ~ Beta(1, 3) after each purchase,
    the first purchase 20 to 300 days ago, spend as Gamma-Gamma assumes. `new_members` more bought once
    3 days ago."""
    rng = random.Random(seed)
    members = members_make(n_members + new_members, store)
    specs = []
    for member in members[:n_members]:
        rate = rng.gammavariate(0.5, 1 / 3)  # purchases per week
        dropout = rng.betavariate(1, 3)
        spend_rate = rng.gammavariate(4, 1 / 15)  # Gamma-Gamma: q = 4, γ = 15
        at = NOW - dt.timedelta(days=rng.uniform(20, 300))
        while at < NOW:
            spend = max(round(rng.gammavariate(6, 1 / spend_rate), 2), 0.5)  # p = 6
            specs.append((member, at, Decimal(str(spend)), [Line("A")], None))
            if rng.random() < dropout or rate <= 0:
                break
            at += dt.timedelta(weeks=rng.expovariate(rate))
    for member in members[n_members:]:
        specs.append(
            (member, NOW - dt.timedelta(days=3), Decimal("25"), [Line("A")], None)
        )
    purchases_make(store, specs)
    return members


def _expected_summary(members, now=NOW):
    from analytics.services.clv import purchase_rows

    rows = purchase_rows(now=now)
    return cm.summarize(rows, end=timezone.localdate(now))


def test_too_little_history_gives_every_member_the_heuristic(store):
    (member,) = members_make(1, store)
    purchases_make(
        store,
        [
            (
                member,
                NOW - dt.timedelta(days=60 - 9 * k),
                Decimal("15"),
                [Line("A")],
                None,
            )
            for k in range(6)
        ],
    )
    fit = clv_model_refit(now=NOW)

    assert fit.fitted is False and fit.parameters == {} and fit.holdout == {}
    assert (fit.members_model, fit.members_heuristic) == (0, 1)
    row = MemberCLV.objects.get(member=member)
    assert row.method == CLVMethod.HEURISTIC
    expected = member_value(
        purchases=6, span_days=45, gap_days=15, historic_value=Decimal("90")
    )
    assert row.expected_purchases == Decimal(str(expected.expected_purchases))
    assert row.predicted_value == expected.predicted_value
    assert row.p_alive == Decimal("1.0000")  # within its usual gap


def test_enough_history_fits_and_serves_members_with_two_weeks_of_history(store):
    members = _history(store, 120, new_members=3)
    fit = clv_model_refit(now=NOW)

    assert fit.fitted is True
    assert set(fit.parameters) == {"bgnbd", "gamma_gamma"}
    summary = _expected_summary(members)
    assert fit.customers == len(summary) == 123 and fit.log_likelihood < 0
    assert fit.spend_customers == int((summary.x > 0).sum())
    assert (fit.members_model, fit.members_heuristic) == (120, 3)
    for member in members[120:]:
        assert MemberCLV.objects.get(member=member).method == CLVMethod.HEURISTIC

    # A member's figures are the stored parameters' BG/NBD on their history.
    model = cm.BGNBD(**fit.parameters["bgnbd"])
    alive = model.p_alive(summary.x, summary.t_x, summary.T)
    expected = model.expected_purchases(365 / 7, summary.x, summary.t_x, summary.T)
    by_member = {r.member_id: r for r in MemberCLV.objects.all()}
    served = 0
    for i, member_id in enumerate(summary.ids):
        row = by_member[member_id]
        if row.method == CLVMethod.MODEL:
            served += 1
            assert float(row.p_alive) == pytest.approx(alive[i], abs=1e-4)
            assert float(row.expected_purchases) == pytest.approx(expected[i], abs=0.01)
            if summary.x[i] == 0:  # BG/NBD: no repeat purchase, no dropout yet
                assert row.p_alive == Decimal("1.0000")
    assert served == 120
    assert any(r.p_alive < Decimal("0.5") for r in by_member.values())


def test_holdout_check_compares_predictions_with_the_last_weeks(store):
    _history(store, 120)
    fit = clv_model_refit(now=NOW, holdout_days=28)

    holdout = fit.holdout
    assert holdout["end"] == "2026-06-01" and holdout["start"] == "2026-05-05"
    # The calibration customers: everyone (the first purchases are 20+ days ago,
    # so some fall inside the holdout and are left out).
    assert 0 < holdout["customers"] < 120
    bins = holdout["bins"]
    assert [b["repeat"] for b in bins] == list(range(8))
    assert sum(b["actual"] for b in bins) == holdout["model"]["actual"] > 0
    assert sum(b["model"] for b in bins) == pytest.approx(holdout["model"]["predicted"])
    assert holdout["model"]["mae"] >= 0 and holdout["heuristic"]["mae"] >= 0


def test_rerun_rewrites_the_rows_and_drops_members_without_purchases(store):
    members = _history(store, 10, new_members=0)
    clv_model_refit(now=NOW)
    members[0].purchases.all().delete()
    clv_model_refit(now=NOW + dt.timedelta(hours=1))
    assert MemberCLV.objects.count() == 9
    assert not MemberCLV.objects.filter(member=members[0]).exists()
    assert CLVModelFit.objects.count() == 2


def test_a_fully_returned_purchase_is_not_a_purchase(store):
    (member,) = members_make(1, store)
    purchases_make(
        store,
        [
            (member, NOW - dt.timedelta(days=20), Decimal("10"), [Line("A")], None),
            (
                member,
                NOW - dt.timedelta(days=10),
                Decimal("10"),
                [Line("A")],
                Decimal("10"),
            ),
        ],
    )
    clv_model_refit(now=NOW)
    row = MemberCLV.objects.get(member=member)
    assert row.expected_spend == Decimal("10.00")
    expected = member_value(
        purchases=1, span_days=0, gap_days=20, historic_value=Decimal("10")
    )
    assert row.expected_purchases == Decimal(str(expected.expected_purchases))


def test_the_task_refits(store, settings):
    _history(store, 5)
    result = clv_refit.apply().get()
    assert result["fitted"] is False and result["members_heuristic"] == 5
    assert "clv-refit-nightly" in settings.CELERY_BEAT_SCHEDULE


def _p_alive_segment(threshold: str) -> dict:
    return {
        "op": "and",
        "conditions": [{"field": "p_alive", "op": "lt", "value": threshold}],
    }


def test_segment_condition_p_alive_below(store):
    members = _history(store, 120)
    clv_model_refit(now=NOW)
    low = set(
        MemberCLV.objects.filter(p_alive__lt=Decimal("0.5")).values_list(
            "member_id", flat=True
        )
    )
    assert low and len(low) < 120
    found = set(
        Member.objects.filter(segment_q(_p_alive_segment("0.5"), now=NOW)).values_list(
            "pk", flat=True
        )
    )
    assert found == low
    (never,) = members_make(1, store)  # no purchase, no P(alive): not matched
    assert not Member.objects.filter(
        segment_q(_p_alive_segment("1"), now=NOW), pk=never.pk
    ).exists()
    assert members


@pytest.mark.parametrize("value", ["0", "1.5", "x"])
def test_segment_condition_refuses_a_value_that_is_no_probability(value):
    with pytest.raises(SegmentError) as caught:
        segment_q(_p_alive_segment(value))
    assert caught.value.field == "p_alive" or "p_alive" in str(caught.value.as_dict())


def test_win_back_journey_goes_only_to_its_segment(store):
    members = _history(store, 120)
    clv_model_refit(now=NOW)
    segment = Segment.objects.create(
        name="Fading", kind=SegmentKind.RULES, definition=_p_alive_segment("0.5")
    )
    journey = Journey.objects.create(
        kind=JourneyKind.WIN_BACK, enabled=True, days=30, body="Back?"
    )
    everyone = {row[0] for row in journey_due(journey=journey, now=NOW)}
    journey.segment = segment
    journey.save()
    fading = {row[0] for row in journey_due(journey=journey, now=NOW)}
    low = set(
        MemberCLV.objects.filter(p_alive__lt=Decimal("0.5")).values_list(
            "member_id", flat=True
        )
    )
    assert fading == everyone & low
    assert fading and fading != everyone
    assert members


def test_rfm_page_shows_the_fit_and_the_holdout_chart(client, manager, store):
    _history(store, 120)
    clv_model_refit(now=NOW, holdout_days=28)
    client.force_login(manager)
    response = client.get(reverse("admin:analytics_memberrfm_overview"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="clv-parameters"' in page and 'id="chart-data-clv-holdout"' in page
    chart = response.context["clv_chart"]
    assert chart["unit"] == "count" and len(chart["datasets"]) == 3
    actual = [b["actual"] for b in CLVModelFit.objects.get().holdout["bins"]]
    assert chart["datasets"][0]["data"] == actual


def test_rfm_page_without_a_fit_says_so(client, manager):
    client.force_login(manager)
    response = client.get(reverse("admin:analytics_memberrfm_overview"))
    assert response.status_code == 200 and response.context["clv_chart"] is None


def test_member_360_shows_p_alive(client, manager, store):
    members = _history(store, 10)
    clv_model_refit(now=NOW)
    row = MemberCLV.objects.get(member=members[3])
    client.force_login(manager)
    response = client.get(reverse("admin:member360", args=[members[3].pk]))
    assert response.status_code == 200
    assert 'id="m360-p-alive"' in response.content.decode()
    assert response.context["clv"] == row
