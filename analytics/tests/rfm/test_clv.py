"""Predicted value and churn risk on a hand-worked fixture."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest

from analytics.models import ChurnRisk, MemberRFM
from analytics.selectors.clv import PRIOR_GAP_DAYS, member_value
from analytics.services.rfm import rfm_refresh
from analytics.tests.recs_data import NOW, Line, members_make, purchases_make


def test_regular_customer_within_their_usual_gap():
    # 11 purchases over 240 days: usual gap (240 + 60) / 11 = 27.27 days;
    # last one 10 days ago: alive; 365 / 27.27 = 13.38 purchases; AOV 50.
    value = member_value(
        purchases=11, span_days=240, gap_days=10, historic_value=Decimal("550")
    )
    assert value.usual_gap_days == 27.3
    assert value.expected_purchases == 13.38
    assert value.predicted_value == Decimal("669.17")
    assert value.churn_risk == ChurnRisk.LOW


def test_customer_two_usual_gaps_late_decays_and_is_medium_risk():
    # usual gap (90 + 60) / 3 = 50; 100 days since: alive = e^-1.
    value = member_value(
        purchases=3, span_days=90, gap_days=100, historic_value=Decimal("300")
    )
    expected = 365 / 50 * math.exp(-1)
    assert value.expected_purchases == round(expected, 2)
    assert value.predicted_value == (
        Decimal("100") * Decimal(str(round(expected, 6)))
    ).quantize(Decimal("0.01"))
    assert value.churn_risk == ChurnRisk.MEDIUM


def test_one_time_buyer_uses_the_prior_gap_and_goes_high_risk():
    value = member_value(
        purchases=1, span_days=0, gap_days=200, historic_value=Decimal("80")
    )
    assert value.usual_gap_days == PRIOR_GAP_DAYS
    assert value.churn_risk == ChurnRisk.HIGH  # 200 / 60 > 3
    assert value.expected_purchases < 1


def test_two_purchases_the_same_day_do_not_make_a_daily_customer():
    value = member_value(
        purchases=2, span_days=0, gap_days=0, historic_value=Decimal("20")
    )
    assert value.usual_gap_days == 30  # (0 + 60) / 2
    assert value.expected_purchases == round(365 / 30, 2)


def test_no_purchases_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        member_value(purchases=0, span_days=0, gap_days=0, historic_value=Decimal(0))


@pytest.mark.django_db
def test_refresh_stores_value_and_churn_next_to_the_scores(store):
    (member,) = members_make(1, store)
    days_ago = [250, 190, 130, 70, 10]
    purchases_make(
        store,
        [
            (member, NOW - dt.timedelta(days=d), Decimal("40"), [Line("A")], None)
            for d in days_ago
        ]
        # a later return halves one receipt: net spend counts what was kept
        + [
            (
                member,
                NOW - dt.timedelta(days=400),
                Decimal("40"),
                [Line("A")],
                Decimal("20"),
            )
        ],
    )
    rfm_refresh(now=NOW)
    row = MemberRFM.objects.get(member=member)
    assert row.historic_value == Decimal("220")  # 5 × 40 + 20 kept
    assert row.monetary == Decimal("200")  # inside the 365-day window
    assert row.frequency == 5 and row.purchases_total == 6
    assert row.recency_days == 10
    # span 390 days, 6 purchases: usual gap (390 + 60) / 6 = 75; 10 days: alive
    assert row.usual_gap_days == Decimal("75.0")
    assert row.expected_purchases == Decimal("4.87")  # 365 / 75
    assert row.predicted_value == Decimal("178.44")  # 220 / 6 × 4.866667
    assert row.churn_risk == ChurnRisk.LOW


@pytest.mark.django_db
def test_demo_seed_hook_maps_rewards_and_fills_the_tables(store):
    from io import StringIO
    from types import SimpleNamespace

    from analytics.models import CoPurchase, RewardCategory
    from demo import seed_recommendations as demo_recs
    from demo.texts import translations
    from rewards.tests.factories import RewardFactory

    (member,) = members_make(1, store)
    purchases_make(
        store,
        [
            (
                member,
                NOW - dt.timedelta(days=1),
                None,
                [Line("A", "coffee"), Line("B")],
                None,
            )
        ],
    )
    # Made as the demo makes it: the demo text in every language.
    coffee = RewardFactory(**translations("name", "Безкоштовна кава"))
    out = StringIO()
    command = SimpleNamespace(rewards=[coffee], end=NOW, stdout=out)
    demo_recs.seed(command=command)
    assert set(RewardCategory.objects.values_list("reward_id", "category")) == {
        (coffee.pk, "coffee"),
        (coffee.pk, "beans"),
    }
    assert MemberRFM.objects.count() == 1
    assert CoPurchase.objects.count() == 2
    assert "RFM: 1 members scored" in out.getvalue()
