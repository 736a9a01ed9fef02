"""Partners of the coalition: the monthly settlement against figures computed by
hand on a small fixture, its page and its CSV export."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from members.tests.factories import MemberFactory, PartnerFactory, StoreFactory
from rewards.models import Purchase
from rewards.selectors.partners import partner_settlement, partner_settlements
from rewards.services import (
    points_redeem,
    purchase_record,
    purchase_return_record,
    reward_redeem,
    voucher_consume,
    voucher_grant,
)
from rewards.tests.factories import RewardFactory

pytestmark = pytest.mark.django_db

OCT = dt.date(2026, 10, 1)


def _at(day: int, month: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, 12, 0, tzinfo=dt.UTC)


def _buy(member, store, total, receipt, at):
    purchase, _r = purchase_record(
        store=store,
        member=member,
        receipt_id=receipt,
        total=total,
        occurred_at=at,
        recorded_at=at,
        source=Purchase.Source.IMPORT,
    )
    return purchase


@pytest.fixture
def world(store):
    """Bakery (0.20 a point) with one store; Florist with no activity."""
    bakery = PartnerFactory(name="Partner bakery", point_value=Decimal("0.20"))
    florist = PartnerFactory(name="Florist", point_value=None)
    shop = StoreFactory(code="bakery", name="Bakery", partner=bakery)
    member = MemberFactory(store=store)

    # Issued at the bakery: 200 + 50 earned, 50 taken back by a return.
    first = _buy(member, shop, "200.00", "B-1", _at(3))
    _buy(member, shop, "50.00", "B-2", _at(4))
    purchase_return_record(
        purchase=first,
        store=store,  # returned at our store: still the bakery's purchase
        receipt_id="RET-1",
        amount="50.00",
        recorded_at=_at(5),
    )
    # Not the bakery's: our own store; and the bakery next month.
    _buy(member, store, "1000.00", "O-1", _at(6))
    _buy(member, shop, "70.00", "B-3", _at(2, month=11))

    # Redeemed at the bakery's till: 30; at ours: 40 (not counted).
    points_redeem(
        member=member, store=shop, points=30, receipt_id="D-1", recorded_at=_at(7)
    )
    points_redeem(
        member=member, store=store, points=40, receipt_id="D-2", recorded_at=_at(7)
    )

    # Vouchers: bakery-funded croissant used at our store (100 points) ...
    croissant = RewardFactory(name="Croissant", points_cost=100, funded_by=bakery)
    v1, _r = reward_redeem(
        member=member, reward=croissant, idempotency_key="v1", recorded_at=_at(8)
    )
    voucher_consume(code=v1.code, store=store, receipt_id="U-1", recorded_at=_at(9))
    # ... our reward used at the bakery (60 points) ...
    mug = RewardFactory(name="Mug", points_cost=60)
    v2, _r = reward_redeem(
        member=member, reward=mug, idempotency_key="v2", recorded_at=_at(8)
    )
    voucher_consume(code=v2.code, store=shop, receipt_id="U-2", recorded_at=_at(10))
    # ... a free croissant given by the program, used at the bakery (0 points) ...
    v3, _r = voucher_grant(
        member=member,
        reward=croissant,
        source="goodwill",
        idempotency_key="v3",
        at=_at(8),
    )
    voucher_consume(code=v3.code, store=shop, receipt_id="U-3", recorded_at=_at(11))
    # ... and a croissant bought but not used (not counted).
    reward_redeem(
        member=member, reward=croissant, idempotency_key="v4", recorded_at=_at(12)
    )
    return {"bakery": bakery, "florist": florist}


def test_settlement_matches_the_hand_computed_figures(world):
    s = partner_settlement(partner=world["bakery"], month=OCT)

    assert s.points_earned == 250
    assert s.points_clawed_back == -50
    assert s.points_issued == 200
    assert s.points_redeemed_at_till == 30
    assert s.voucher_count == 3
    assert s.voucher_points == 160
    assert s.points_redeemed == 190
    assert s.point_value == Decimal("0.20")
    assert s.issued_value == Decimal("40.00")
    assert s.redeemed_value == Decimal("38.00")
    assert s.net_value == Decimal("2.00")


def test_partner_without_activity_has_zeros_at_the_program_point_value(world):
    s = partner_settlement(partner=world["florist"], month=OCT)

    assert (s.points_issued, s.points_redeemed, s.voucher_count) == (0, 0, 0)
    assert s.point_value == Decimal("0.10")
    assert s.net_value == Decimal("0.00")


def test_next_month_counts_only_its_own_events(world):
    s = partner_settlement(partner=world["bakery"], month=dt.date(2026, 11, 1))

    assert s.points_issued == 70
    assert s.points_redeemed == 0


def test_all_partners_in_a_fixed_number_of_queries(
    world, django_assert_max_num_queries
):
    with django_assert_max_num_queries(4):
        rows = partner_settlements(month=OCT)

    assert [r.partner.name for r in rows] == ["Florist", "Partner bakery"]


@pytest.fixture
def su_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_settlement_page_shows_the_table(su_client, world):
    response = su_client.get(
        reverse("admin:members_partner_settlement"), {"month": "2026-10"}
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Partner bakery" in page
    assert "Net (positive: partner pays)" in page
    assert "38.00" in page


def test_settlement_page_defaults_to_last_month_on_bad_input(su_client, world):
    response = su_client.get(
        reverse("admin:members_partner_settlement"), {"month": "garbage"}
    )

    assert response.status_code == 200


def test_csv_export(su_client, world):
    response = su_client.get(
        reverse("admin:members_partner_settlement_csv"), {"month": "2026-10"}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "partner-settlement-2026-10.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Month", "Partner", "Points earned at its stores"]
    bakery = next(r for r in rows if r[1] == "Partner bakery")
    assert bakery == [
        "2026-10",
        "Partner bakery",
        "250",
        "-50",
        "200",
        "30",
        "3",
        "160",
        "190",
        "0.2000",
        "40.00",
        "38.00",
        "2.00",
    ]


def test_settlement_needs_the_partner_view_right(client, cashier, manager):
    client.force_login(cashier)
    assert client.get(reverse("admin:members_partner_settlement")).status_code == 403
    client.force_login(manager)
    assert (
        client.get(reverse("admin:members_partner_settlement_csv")).status_code == 200
    )


def test_partner_admin_smoke(su_client, world):
    changelist = su_client.get(
        reverse("admin:members_partner_changelist"), {"q": "bakery"}
    )
    assert list(changelist.context["cl"].result_list) == [world["bakery"]]
    assert "Monthly settlement" in changelist.content.decode()
    add = su_client.post(
        reverse("admin:members_partner_add"),
        {"name": "Cinema", "contact_email": "", "contact_phone": "", "point_value": ""},
    )
    assert add.status_code == 302
    change = su_client.get(
        reverse("admin:members_partner_change", args=[world["bakery"].pk])
    )
    assert change.status_code == 200
