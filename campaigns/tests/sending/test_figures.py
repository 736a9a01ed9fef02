"""Per-campaign figures against values worked out by hand; the campaign bonus."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.models import (
    CampaignRecipient,
    CampaignRun,
    CampaignVariant,
    Message,
    MessageStatus,
)
from campaigns.sending.chunks import campaign_bonuses_grant_due
from campaigns.sending.selectors import run_figures
from campaigns.tests.factories import campaign_make, segment_all
from members.models import ConsentEvent, ConsentSource
from members.tests.factories import MemberFactory
from rewards.models import LedgerEntry, Purchase, VoucherSource
from rewards.services import (
    purchase_record,
    purchase_return_record,
    voucher_consume,
    voucher_grant,
)
from rewards.tests.factories import RewardFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(store):
    """Eight members: A = m0..m2, B = m3..m4, holdout = m5..m7, started 3 days ago."""
    members = [MemberFactory(store=store) for _ in range(8)]
    campaign = campaign_make(
        segment=segment_all(), body_b="B", variant_b_percent=40, holdout_percent=30
    )
    a, b = CampaignVariant.objects.filter(campaign=campaign).order_by("label")
    start = timezone.now() - dt.timedelta(days=3)
    run = CampaignRun.objects.create(
        campaign=campaign,
        number=1,
        key=f"campaign:{campaign.pk}",
        started_at=start,
        status="sent",
    )
    groups = [a, a, a, b, b, None, None, None]
    for member, variant in zip(members, groups, strict=True):
        CampaignRecipient.objects.create(
            run=run,
            member=member,
            holdout=variant is None,
            variant=variant,
            processed=True,
        )
        if variant is not None:
            Message.objects.create(
                member=member,
                key=run.key,
                kind="campaign",
                channel="email",
                to=member.email,
                language="en",
                body="x",
                campaign=campaign,
                variant=variant,
                status=MessageStatus.SENT,
            )
    return campaign, run, members, start


def _buy(store, member, receipt, total, at):
    purchase_record(
        store=store, member=member, receipt_id=receipt, total=total, occurred_at=at
    )


def test_figures_match_hand_computed_values(setup, store):
    campaign, run, m, start = setup
    inside = start + dt.timedelta(days=1)
    Message.objects.filter(member=m[0], key=run.key).update(
        opened_at=inside, clicked_at=inside
    )
    Message.objects.filter(member=m[1], key=run.key).update(opened_at=inside)
    Message.objects.filter(member=m[3], key=run.key).update(status=MessageStatus.FAILED)
    # A: m0 buys twice (100 + 50), m1 once (30); B: m4 once (200); holdout: m5 once (40).
    _buy(store, m[0], "R1", "100.00", inside)
    _buy(store, m[0], "R2", "50.00", inside)
    _buy(store, m[1], "R3", "30.00", inside)
    _buy(store, m[4], "R4", "200.00", inside)
    _buy(store, m[5], "R5", "40.00", inside)
    # Outside the window: before the start, and by m2 who is in A.
    _buy(store, m[2], "R6", "999.00", start - dt.timedelta(hours=1))
    ConsentEvent.objects.create(
        member=m[2],
        channel="email",
        granted=False,
        source=ConsentSource.UNSUBSCRIBE,
        created_at=inside,
    )

    figures = run_figures(run=run)

    a, b = figures.variants
    assert (a.name, a.members, a.sent, a.opened, a.clicked, a.unsubscribed) == (
        "A",
        3,
        3,
        2,
        1,
        1,
    )
    assert (a.buyers, a.purchases, a.revenue) == (2, 3, Decimal("180.00"))
    assert (b.name, b.members, b.sent, b.failed, b.buyers, b.revenue) == (
        "B",
        2,
        1,
        1,
        1,
        Decimal("200.00"),
    )
    assert (figures.recipients.members, figures.recipients.buyers) == (5, 3)
    assert figures.recipients.revenue == Decimal("380.00")
    assert (
        figures.holdout.members,
        figures.holdout.buyers,
        figures.holdout.revenue,
    ) == (3, 1, Decimal("40.00"))
    # Conversion 3/5 = 60 % against 1/3 = 33.3 %: +26.7 points, +80 %.
    assert figures.uplift == pytest.approx(100 * (3 / 5 - 1 / 3))
    assert figures.uplift_relative == pytest.approx(0.8)
    # Revenue per member 76.00 against 13.33.
    assert figures.revenue_uplift_per_member == Decimal("62.67")


def _return(store, receipt, amount):
    purchase_return_record(
        purchase=Purchase.objects.get(receipt_id=receipt),
        store=store,
        receipt_id=f"back-{receipt}",
        amount=amount,
    )


def test_revenue_is_net_of_returns_for_recipients_and_holdout(
    setup, store, django_assert_num_queries
):
    campaign, run, m, start = setup
    inside = start + dt.timedelta(hours=1)
    # A: m0 buys 100 and brings back 30 (today, after the window) → 70.
    _buy(store, m[0], "R1", "100.00", inside)
    # B: m3 buys 200 and brings it all back → 0, but m3 still bought.
    _buy(store, m[3], "R2", "200.00", inside)
    # Holdout: m5 buys 40 and returns 15 → 25; m6 buys 60, keeps it.
    _buy(store, m[5], "R3", "40.00", inside)
    _buy(store, m[6], "R4", "60.00", inside)
    # Before the window: neither the purchase nor its return counts.
    _buy(store, m[1], "R5", "500.00", start - dt.timedelta(hours=1))
    campaign.window_days = 1
    campaign.save()
    for receipt, amount in [("R1", "30.00"), ("R2", "200.00"), ("R3", "15.00")]:
        _return(store, receipt, amount)
    _return(store, "R5", "100.00")

    with django_assert_num_queries(4):  # four grouped queries, as before
        figures = run_figures(run=run)

    a, b = figures.variants
    assert (a.purchases, a.revenue) == (1, Decimal("70.00"))
    assert (b.buyers, b.revenue) == (1, Decimal("0.00"))
    assert figures.recipients.revenue == Decimal("70.00")
    assert (figures.holdout.buyers, figures.holdout.revenue) == (2, Decimal("85.00"))
    # Net revenue per member: 70 / 5 = 14.00 against 85 / 3 = 28.33.
    assert figures.revenue_uplift_per_member == Decimal("-14.33")


def test_purchases_after_the_window_do_not_count(setup, store):
    campaign, run, m, start = setup
    campaign.window_days = 1
    campaign.save()
    _buy(store, m[0], "R1", "10.00", start + dt.timedelta(days=2))

    assert run_figures(run=run).recipients.buyers == 0


def test_coupon_uses_are_counted(setup, store):
    campaign, run, m, _start = setup
    reward = RewardFactory()
    for member in m[:2]:
        voucher, _ = voucher_grant(
            member=member,
            reward=reward,
            source=VoucherSource.CAMPAIGN,
            idempotency_key=f"t:{member.pk}",
        )
        CampaignRecipient.objects.filter(run=run, member=member).update(voucher=voucher)
    voucher_consume(code=voucher.code, store=store, receipt_id="C1")

    assert run_figures(run=run).variants[0].coupons_used == 1


def test_bonus_goes_once_to_recipients_who_bought_in_the_window(setup, store):
    campaign, run, m, start = setup
    campaign.promotion = "bonus"
    campaign.bonus_points = 25
    campaign.save()
    inside = start + dt.timedelta(days=1)
    _buy(store, m[0], "R1", "10.00", inside)
    _buy(store, m[0], "R2", "10.00", inside)
    _buy(store, m[5], "R3", "10.00", inside)  # held out: no bonus

    assert campaign_bonuses_grant_due() == 1
    assert campaign_bonuses_grant_due() == 0

    bonus = LedgerEntry.objects.filter(
        idempotency_key=f"campaign-bonus:{run.pk}:{m[0].pk}"
    )
    assert bonus.count() == 1 and bonus.get().points == 25
    assert not LedgerEntry.objects.filter(
        idempotency_key__startswith="campaign-bonus:", account__member=m[5]
    ).exists()
