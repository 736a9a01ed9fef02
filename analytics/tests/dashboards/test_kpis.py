"""Each metric against values worked out by hand on the history in conftest.py."""

from decimal import Decimal

import pytest
from django.utils import timezone

from analytics.selectors.kpis import PROGRAM_KPIS, kpis
from analytics.selectors.periods import Period
from analytics.selectors.tables import program_state_latest
from analytics.services.period_stats import period_member_figures_keep
from analytics.services.snapshots import snapshots_refresh_range

pytestmark = pytest.mark.django_db


@pytest.fixture
def cards(history, settings):
    settings.ANALYTICS_CHURN_DAYS = 30
    snapshots_refresh_range(day_from=history.m3, day_to=timezone.localdate())
    return kpis(Period(history.m1, history.m1))


def value(cards, key):
    return cards[key].value, cards[key].previous


def test_active_members_and_enrollments(cards):
    assert value(cards, "active_members") == (2, 2)  # A, C against A, B
    assert value(cards, "enrollments") == (2, 1)  # C, D against B


def test_retention_is_share_of_last_periods_buyers_who_bought_again(cards):
    # M1: of {A, B} only A came back. M2: of {A} A came back.
    assert value(cards, "retention") == (Decimal("50.00"), Decimal("100.00"))


def test_churn_counts_buyers_silent_for_n_days(cards):
    # N = 30: at the end of M1 B last bought on M2-12; at the end of M2 nobody.
    assert value(cards, "churn") == (Decimal("33.33"), Decimal("0.00"))


def test_repeat_rate_frequency_and_order_value(cards):
    assert value(cards, "repeat_rate") == (Decimal("50.00"), Decimal("0.00"))
    assert value(cards, "frequency") == (Decimal("1.50"), Decimal("1.00"))
    assert value(cards, "aov") == (Decimal("160.00"), Decimal("175.00"))
    assert value(cards, "sales") == (Decimal("480"), Decimal("350"))


def test_days_between_purchases(cards):
    # A bought on M1-10 and M1-20; nobody bought twice in M2.
    assert value(cards, "days_between") == (Decimal("10.0"), None)


def test_historical_lifetime_value(cards):
    # (930 sold - 100 returned) / 3 buyers; at the end of M2: 450 / 2.
    assert value(cards, "clv") == (Decimal("276.67"), Decimal("225.00"))


def test_acquisition_cost_and_participation(cards):
    assert value(cards, "acquisition_cost") == (Decimal("500.00"), Decimal("300.00"))
    # 480 of the 1920 the stores entered; nothing entered for M2.
    assert value(cards, "participation") == (Decimal("25.00"), None)


def test_points_issued_redeemed_and_liability(cards):
    assert value(cards, "points_issued") == (500, 350)  # 480 earned + 20 by hand
    assert value(cards, "points_redeemed") == (50, 0)
    assert value(cards, "redemption_rate") == (Decimal("10.00"), Decimal("0.00"))
    assert value(cards, "points_expired") == (0, 0)
    assert value(cards, "breakage") == (Decimal("0.00"), Decimal("0.00"))
    # 930 earned + 20 - 50 redeemed - 100 taken back by the return.
    assert value(cards, "liability_points") == (800, 450)
    assert value(cards, "liability_money") == (Decimal("80.00"), Decimal("45.00"))


def test_change_is_percent_for_counts_and_points_for_shares(cards):
    assert cards["aov"].change == Decimal("-8.6")  # 160 against 175
    assert cards["aov"].change_unit == "%"
    assert cards["retention"].change == Decimal("-50.0")
    assert cards["retention"].change_unit == "pp"
    assert cards["days_between"].change is None


def test_a_store_sees_its_own_members_and_sales(history, settings):
    snapshots_refresh_range(day_from=history.m3, day_to=timezone.localdate())
    s2 = kpis(Period(history.m1, history.m1), history.s2.pk)
    assert s2["active_members"].value == 1
    assert s2["enrollments"].value == 2
    assert s2["sales"].value == Decimal("80")
    assert s2["participation"].value == Decimal("19.05")  # 80 / 420


def test_returns_into_debt_are_counted(history):
    from analytics.tests.conftest import at, buy
    from members.tests.factories import MemberFactory
    from rewards.services import points_redeem, purchase_return_record

    m = MemberFactory(store=history.s1, enrolled_at=at(history.m1, 1))
    p = buy(m, history.s1, at(history.m1, 3), "100")
    points_redeem(
        member=m,
        store=history.s1,
        points=80,
        receipt_id="R-D",
        recorded_at=at(history.m1, 4),
    )
    purchase_return_record(
        purchase=p,
        store=history.s1,
        receipt_id="RET-D",
        amount=Decimal("100"),
        recorded_at=at(history.m1, 6),
    )
    snapshots_refresh_range(day_from=history.m3, day_to=timezone.localdate())
    cards = kpis(Period(history.m1, history.m1))
    # Balance 20 before the return took 100: 80 owed.
    assert cards["debt_clawbacks"].value == 1
    assert cards["debt_points"].value == 80
    state = program_state_latest()
    assert state.accounts_negative == 1
    assert state.points_negative == 80


def test_kept_period_figures_go_with_the_next_refresh(history):
    from analytics.models import PeriodMemberStats
    from analytics.tests.conftest import at, buy

    today = timezone.localdate()
    snapshots_refresh_range(day_from=history.m3, day_to=today)
    period = Period(history.m1, history.m1)
    figures = period_member_figures_keep(period=period, store_id=None)
    assert kpis(period, member_figures=figures)["active_members"].value == 2
    assert PeriodMemberStats.objects.count() == 1
    buy(history.d, history.s2, at(history.m1, 22), "40")
    snapshots_refresh_range(day_from=history.m1, day_to=today)
    assert kpis(period)["active_members"].value == 3


def test_kpis_read_the_kept_figures_and_never_keep_them(history):
    from analytics.models import MemberMonthActivity, PeriodMemberStats

    snapshots_refresh_range(day_from=history.m3, day_to=timezone.localdate())
    period = Period(history.m1, history.m1)
    assert kpis(period)["active_members"].value == 2
    assert not PeriodMemberStats.objects.exists()
    period_member_figures_keep(period=period, store_id=None)
    # Read from what is kept, not counted again from the member months.
    MemberMonthActivity.objects.all().delete()
    assert kpis(period)["active_members"].value == 2
    assert PeriodMemberStats.objects.count() == 1


def test_program_cards_skip_the_member_figures(history, django_assert_max_num_queries):
    from analytics.models import PeriodMemberStats

    snapshots_refresh_range(day_from=history.m3, day_to=timezone.localdate())
    with django_assert_max_num_queries(5):
        cards = kpis(Period(history.m1, history.m1), None, PROGRAM_KPIS)
    assert cards["points_issued"].value == 500
    assert not PeriodMemberStats.objects.exists()
