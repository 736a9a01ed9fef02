"""Acquisition cost per store: only acquisition spend counts; a store's cost is
its own spend plus the program-wide spend allocated by its share of the new
members. Figures worked out by hand on the history in conftest.py.

Period M2..M1 (the previous one M4..M3). New members: B (S1, M2), C and D (S2,
M1); before: A (S1, M3). Acquisition spend in the period: program-wide
1000 (M1) + 300 (M2) + 200 (M2) = 1500; S1 200 (M1); S2 95 (M1). Retention
spend (never counted): program-wide 5000 (M1), S1 700 (M2).
"""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.models import MarketingSpend, SpendKind
from analytics.selectors.acquisition import acquisition_spend
from analytics.selectors.kpis import kpis
from analytics.selectors.periods import Period
from analytics.services.snapshots import snapshots_refresh_range
from members.models import Store

pytestmark = pytest.mark.django_db


@pytest.fixture
def period(history):
    h = history
    MarketingSpend.objects.create(month=h.m2, amount=Decimal("200"))
    MarketingSpend.objects.create(month=h.m1, amount=Decimal("200"), store=h.s1)
    MarketingSpend.objects.create(month=h.m1, amount=Decimal("95"), store=h.s2)
    MarketingSpend.objects.create(
        month=h.m1, amount=Decimal("5000"), kind=SpendKind.RETENTION
    )
    MarketingSpend.objects.create(
        month=h.m2, amount=Decimal("700"), store=h.s1, kind=SpendKind.RETENTION
    )
    snapshots_refresh_range(day_from=h.m3, day_to=timezone.localdate())
    return Period(h.m2, h.m1)


def cac(period, store_id=None):
    k = kpis(period, store_id, ["acquisition_cost"])["acquisition_cost"]
    return k.value, k.previous


def test_all_stores_divide_acquisition_spend_only(period):
    # (1500 + 200 + 95) / 3 new members; before: no spend, A enrolled.
    assert cac(period) == (Decimal("598.33"), Decimal("0.00"))


def test_store_pays_own_spend_and_its_share_of_program_wide(period, history):
    # S1: 200 own + 1500 × 1/3 = 700, over B alone. Before: A, no spend.
    assert cac(period, history.s1.pk) == (Decimal("700.00"), Decimal("0.00"))
    # S2: 95 own + 1500 × 2/3 = 1095, over C and D; no new members before.
    assert cac(period, history.s2.pk) == (Decimal("547.50"), None)


def test_spend_parts_name_the_allocation(period, history):
    spend = acquisition_spend(period, history.s2.pk)["cur"]
    assert (spend.own, spend.program_wide, spend.allocated) == (
        Decimal("95"),
        Decimal("1500"),
        Decimal("1000.00"),
    )


def test_every_store_share_adds_up_to_the_program_spend(period):
    """Each store's own spend plus its allocation, over every store, is the
    program's acquisition spend (every member here has a home store), so no
    store is charged the whole program's spend."""
    whole = acquisition_spend(period, None)["cur"].total
    parts = sum(
        acquisition_spend(period, pk)["cur"].total
        for pk in Store.objects.values_list("pk", flat=True)
    )
    assert whole == parts == Decimal("1795")


def test_overview_names_the_allocation_for_a_store(client, manager, period, history):
    client.force_login(manager)
    query = {"from": f"{history.m2:%Y-%m}", "to": f"{history.m1:%Y-%m}"}
    page = client.get(
        reverse("admin:analytics_overview"), {**query, "store": history.s2.pk}
    ).content.decode()
    assert "allocated by share of new members" in page
    assert "1,000.00\u00a0UAH of the program-wide spend (1,500.00\u00a0UAH)" in page
    whole = client.get(reverse("admin:analytics_overview"), query).content.decode()
    assert "allocated by share of new members" not in whole
