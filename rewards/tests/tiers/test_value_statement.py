"""The tier value after each purchase, read by a statement written once on
PostgreSQL (rewards.selectors.tiers._tier_value_sql), equals the ORM's
aggregate for every qualification: spend kept after a return, visits, points
earned, the oldest counted moment, and a member with nothing in the window."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from members.tests.factories import MemberFactory
from rewards.models import TierQualification
from rewards.selectors.tiers import _tier_value_one, _tier_value_orm
from rewards.services import purchase_record, purchase_return_record
from rewards.tests.factories import TierFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("qualification", TierQualification.values)
def test_the_statement_equals_the_orm(qualification, member, store):
    tier = TierFactory(name="Silver", rank=2, threshold=Decimal("1000"))
    tier.qualification = qualification
    now = timezone.now()
    for i, total in enumerate(["120.40", "99.99", "310.05"]):
        purchase, _ = purchase_record(
            store=store,
            member=member,
            receipt_id=f"v{i}",
            total=total,
            occurred_at=now - dt.timedelta(days=40 - 10 * i),
        )
    purchase_return_record(
        purchase=purchase, store=store, receipt_id="back", amount="10.05"
    )
    nobody = MemberFactory(store=store)

    for who in (member, nobody):
        for start in (now - dt.timedelta(days=35), now - dt.timedelta(days=90)):
            with CaptureQueriesContext(connection) as queries:
                fast = _tier_value_one(tier, who.pk, start)
            assert fast == _tier_value_orm(tier, who.pk, start)
            assert len(queries) == 1
    assert (
        _tier_value_orm(tier, member.pk, now - dt.timedelta(days=90))[member.pk].value
        > 0
    )
    if connection.vendor == "postgresql":  # the statement, not the ORM's
        sql = queries[0]["sql"]
        assert '"rewards_purchase".' not in sql
        assert '"rewards_ledgerentry".' not in sql


@pytest.mark.parametrize("qualification", TierQualification.values)
@pytest.mark.parametrize("days_ago", [0, 20, 400])  # today, in the window, before it
def test_the_value_read_with_the_write_equals_the_value_read_after_it(
    qualification, days_ago, member, store
):
    """A purchase reads the member's tier values in the statement that writes it
    (tier_value_subqueries), which does not see its own rows; it adds them as
    the aggregate counts them (tier_values_found). The same as reading after
    the write, for every qualification, including a purchase dated before the
    window (it counts for points earned, which go by the entry's date)."""
    from rewards.models import LedgerEntry, Purchase, TierHistory
    from rewards.selectors.tiers import tier_values

    now = timezone.now()
    for i, total in enumerate(["120.00", "80.00"]):
        purchase_record(
            store=store,
            member=member,
            receipt_id=f"h{i}",
            total=total,
            occurred_at=now - dt.timedelta(days=30 - 10 * i),
        )
    after = {
        TierQualification.SPEND: Decimal("200.00") + (50 if days_ago < 365 else 0),
        TierQualification.VISITS: Decimal(2 + (1 if days_ago < 365 else 0)),
        TierQualification.POINTS_EARNED: Decimal(250),
    }[qualification]
    # Qualifies exactly with this purchase: one unit below without it.
    gold = TierFactory(
        name="Gold", rank=3, threshold=after, qualification=qualification
    )
    higher = TierFactory(
        name="Platinum", rank=4, threshold=after + 1, qualification=qualification
    )

    purchase, _ = purchase_record(
        store=store,
        member=member,
        receipt_id="crossing",
        total="50.00",
        occurred_at=now - dt.timedelta(days=days_ago),
    )

    read_after = tier_values(member_ids=[member.pk], tiers=[gold, higher], at=now)
    assert read_after[gold.pk][member.pk].value == after
    member.account.refresh_from_db()
    assert member.account.tier_id == gold.pk
    history = TierHistory.objects.get(member=member, to_tier=gold)
    assert history.value == after
    assert Purchase.objects.filter(member=member).count() == 3
    assert LedgerEntry.objects.filter(purchase=purchase).count() == 1


def test_a_purchase_below_the_top_tier_reads_its_tier_values_with_its_write(
    member, store
):
    """Two statements under the lock on PostgreSQL, tiers or none: the lock
    with its reads, then the write that also answers the tier values."""
    TierFactory(name="Silver", rank=2, threshold=Decimal("100000"))
    TierFactory(
        name="Frequent",
        rank=3,
        threshold=Decimal("500"),
        qualification=TierQualification.VISITS,
    )
    purchase_record(store=store, member=member, receipt_id="w1", total="10.00")
    with CaptureQueriesContext(connection) as captured:
        purchase_record(store=store, member=member, receipt_id="w2", total="10.00")
    sent = [
        q["sql"]
        for q in captured.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]
    statements = [sql.split()[0] for sql in sent]
    if connection.vendor == "postgresql":
        assert statements == ["SELECT", "WITH"]
        assert "SUM(" in sent[-1] and "COUNT(" in sent[-1]
    else:  # the write in turn, then one aggregate per kind of value
        assert statements[-2:] == ["SELECT", "SELECT"]
