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
