"""Member 360's summary agrees with its timeline: the last purchase, the count
and the net spend are read live from the purchases the timeline lists, not from
the nightly RFM snapshot (which said "3 days ago" above purchases of today)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.models import MemberRFM
from analytics.selectors.member360 import member_purchase_facts
from analytics.services.rfm import rfm_refresh
from members.formatting import money_format
from members.templatetags.loyalty_format import datetime as datetime_filter
from rewards.services import purchase_record, purchase_return_record

pytestmark = pytest.mark.django_db


def _buy(member, store, receipt, total, when):
    return purchase_record(
        store=store,
        member=member,
        receipt_id=receipt,
        total=Decimal(total),
        occurred_at=when,
        recorded_at=when,
    )[0]


def _summary(client, member) -> tuple[str, object]:
    response = client.get(reverse("admin:member360", args=[member.pk]))
    assert response.status_code == 200
    return response.content.decode(), response.context


def test_summary_shows_todays_purchase_after_an_older_snapshot(
    client, manager, member, store
):
    now = timezone.now()
    _buy(member, store, "old", "100.00", now - dt.timedelta(days=5))
    rfm_refresh(now=now - dt.timedelta(days=3))  # last night's run, days ago
    assert MemberRFM.objects.get(member=member).recency_days == 2
    first = _buy(member, store, "today-1", "40.00", now - dt.timedelta(minutes=30))
    purchase_return_record(
        purchase=first, store=store, receipt_id="ret-1", amount="15.00"
    )
    latest = _buy(member, store, "today-2", "60.00", now - dt.timedelta(minutes=5))
    client.force_login(manager)

    page, context = _summary(client, member)

    purchases = [i for i in context["timeline"].items if i.kind == "purchase"]
    facts = context["facts"]
    assert facts.last_at == purchases[0].at == latest.occurred_at
    assert facts.purchases == len(purchases) == 3
    assert facts.net_spend == Decimal("185.00")  # 100 + 40 − 15 + 60
    assert facts.days_since_last == 0
    last = page.split('id="m360-last-purchase">', 1)[1].split("</dd>", 1)[0]
    assert datetime_filter(latest.occurred_at) in last
    assert "today" in last and "ago" not in last
    assert money_format(Decimal("185.00"), "UAH") in page
    assert "2 days ago" not in page


@pytest.mark.parametrize("days", [1, 3, 40])
def test_days_since_the_last_purchase_are_calendar_days(member, store, days):
    when = timezone.now() - dt.timedelta(days=days)
    _buy(member, store, f"d{days}", "10.00", when)
    facts = member_purchase_facts(member_id=member.pk)
    assert (
        facts.days_since_last == (timezone.localdate() - timezone.localdate(when)).days
    )


def test_a_member_without_purchases_reads_none_yet(client, manager, member):
    client.force_login(manager)
    page, context = _summary(client, member)
    assert context["facts"].last_at is None
    assert context["facts"].purchases == 0
    assert "none yet" in page.split('id="m360-last-purchase">', 1)[1]
