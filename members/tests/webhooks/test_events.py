"""Each event type is recorded by the service where it happens, in its
transaction, numbered in the member's sequence."""

from __future__ import annotations

from decimal import Decimal

import pytest

from members.models import WebhookEvent, WebhookEventType
from members.services import webhook_endpoint_create
from members.tests.factories import MemberFactory
from rewards.models import Voucher
from rewards.services import (
    points_bonus_grant,
    points_redeem,
    purchase_record,
    purchase_return_record,
    reward_redeem,
    subscription_cancel,
    subscription_sell,
    voucher_consume,
)
from rewards.tests.factories import (
    MembershipPlanFactory,
    PromoCodeFactory,
    RewardFactory,
    TierFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(db):
    # Nothing listens: these tests read the outbox, not what was sent.
    return webhook_endpoint_create(
        url="http://127.0.0.1:9/hooks", events=list(WebhookEventType.values)
    )


def _events(member) -> list[tuple[str, dict]]:
    return [
        (event.type, event.data)
        for event in WebhookEvent.objects.filter(member=member).order_by("sequence")
    ]


def test_every_event_type_comes_from_its_service(endpoint, store):
    TierFactory(name="Silver", rank=1, threshold=Decimal("100"))
    member = MemberFactory(store=store)
    purchase, _ = purchase_record(
        store=store, member=member, receipt_id="R1", total="200.00"
    )
    purchase_return_record(
        purchase=purchase, store=store, receipt_id="B1", amount="100.00"
    )
    points_bonus_grant(member=member, points=500, reason="gift", idempotency_key="g")
    points_redeem(member=member, store=store, points=50, receipt_id="S1")
    voucher, _ = reward_redeem(
        member=member, reward=RewardFactory(points_cost=100), idempotency_key="v1"
    )
    voucher_consume(code=voucher.code, store=store, receipt_id="R2")
    subscription, _ = subscription_sell(
        member=member, plan=MembershipPlanFactory(), store=store, receipt_id="M1"
    )
    subscription_cancel(subscription=subscription, by=None)
    promo = PromoCodeFactory(code="SPRING", points=10)
    with_code, _ = purchase_record(
        store=store, member=member, receipt_id="R3", total="50.00", promo_code="spring"
    )

    events = _events(member)
    types = [kind for kind, _data in events]
    assert set(types) == set(WebhookEventType.values)
    assert types[0] == "member.enrolled"
    assert types[1:4] == ["points.earned", "tier.changed", "points.returned"]
    # Sequences run from 1 without gaps.
    assert list(
        WebhookEvent.objects.filter(member=member)
        .order_by("sequence")
        .values_list("sequence", flat=True)
    ) == list(range(1, len(events) + 1))
    data = dict(reversed(events))  # the first of each type
    assert data["points.earned"]["purchase_id"] == purchase.pk
    assert data["points.earned"]["points"] == purchase.points_earned
    assert data["points.returned"]["points"] < 0
    assert data["tier.changed"]["to_tier"] == "Silver"
    assert data["voucher.issued"]["code"] == voucher.code
    consumed = data["voucher.consumed"]
    assert (consumed["store"], consumed["receipt_id"]) == ("main", "R2")
    assert data["membership.ended"]["status"] == "cancelled"
    assert data["promo_code.used"] == {
        "promo_code_id": promo.pk,
        "code": "SPRING",
        "purchase_id": with_code.pk,
    }
    redeemed = [d for kind, d in events if kind == "points.redeemed"]
    assert [d["points"] for d in redeemed] == [-50, -100]
    assert redeemed[1]["voucher_id"] == Voucher.objects.get().pk


def test_a_replayed_purchase_records_no_second_event(endpoint, store, member):
    purchase_record(store=store, member=member, receipt_id="R1", total="200.00")
    purchase_record(store=store, member=member, receipt_id="R1", total="200.00")
    assert WebhookEvent.objects.filter(type="points.earned").count() == 1


def test_a_bulk_enrolment_records_each_members_enrolment(endpoint, store):
    from members.services import EnrollInput, members_enroll_many

    outcomes = members_enroll_many(
        rows=[
            EnrollInput(phone=f"+38067200{i:04d}", email=f"bulk{i}@example.com")
            for i in range(3)
        ],
        source="import",
    )
    members = [outcome.member for outcome in outcomes]
    assert all(members)
    for member in members:
        (event,) = WebhookEvent.objects.filter(member=member)
        assert (event.type, event.sequence) == ("member.enrolled", 1)
        assert event.data["card_number"] == member.card_number
        assert event.deliveries.count() == 1
    # Their next events follow on.
    points_bonus_grant(member=members[0], points=5, reason="x", idempotency_key="k")
    assert list(
        WebhookEvent.objects.filter(member=members[0]).values_list(
            "sequence", flat=True
        )
    ) == [2, 1]


def test_an_erasure_takes_the_card_number_out_of_the_enrolment_event(endpoint, store):
    from members.models import ErasureSource
    from members.privacy import member_anonymize

    member = MemberFactory(store=store)
    member_anonymize(member=member, actor=None, source=ErasureSource.PORTAL)
    event = WebhookEvent.objects.get(member=member, type="member.enrolled")
    assert event.data["card_number"] is None
    assert event.data["language"] == member.language


def test_a_bulk_enrolment_records_the_events_enrolling_one_by_one_records(endpoint):
    """Every event member_enroll records (the enrolment, the welcome and profile
    bonuses, and whatever an app's enrolment hook adds later) a bulk enrolment
    (members.imports) records too, numbered the same way."""
    import datetime as dt

    from members.services import EnrollInput, member_enroll, members_enroll_many
    from rewards.services import bonus_settings_update

    bonus_settings_update(welcome_points=50, profile_points=20)
    rows = [
        EnrollInput(
            phone=f"+38067300{i:04d}",
            email=f"row{i}@example.com",
            first_name="Олена" if i else "",
            last_name="Коваль",
            birthday=dt.date(1990, 5, i + 1),
        )
        for i in range(4)
    ]

    def shape(member) -> list[tuple]:
        return [
            (
                e.sequence,
                e.type,
                e.data.get("kind"),
                e.data.get("points"),
                e.data.get("balance_after"),
                e.deliveries.count(),
            )
            for e in WebhookEvent.objects.filter(member=member).order_by("sequence")
        ]

    one_by_one = [
        shape(
            member_enroll(
                **{
                    **vars(row),
                    "phone": row.phone[:-5] + "1" + row.phone[-4:],
                    "email": f"alone-{row.email}",
                }
            )
        )
        for row in rows
    ]
    bulk = [
        shape(outcome.member)
        for outcome in members_enroll_many(rows=rows, source="import")
    ]

    assert bulk == one_by_one
    # Not vacuous: the first has no full name, so no profile bonus.
    assert [len(events) for events in bulk] == [2, 3, 3, 3]
    assert bulk[1][1:] == [
        (2, "points.earned", "bonus", 50, 50, 1),
        (3, "points.earned", "bonus", 20, 70, 1),
    ]
