"""Concurrent writers on bonuses: each bonus is credited once, however many race.

PostgreSQL only (see rewards/tests/ledger/test_races.py): SQLite serializes writers.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from members.services import member_enroll
from members.tests.factories import MemberFactory, StoreFactory
from rewards.models import (
    BonusSettings,
    LedgerEntry,
    LedgerKind,
    Referral,
    ReferralStatus,
)
from rewards.services import points_bonus_grant, purchase_record
from rewards.tests.ledger.test_races import assert_ledger_exact, run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 10


@pytest.fixture
def store(db):
    return StoreFactory(code="race", name="Race Street")


def test_concurrent_first_purchases_credit_the_referrer_once(store):
    BonusSettings.objects.update_or_create(
        pk=1,
        defaults={
            "referee_points": 40,
            "referrer_points": 60,
            "referral_min_purchase": Decimal("10"),
        },
    )
    referrer = MemberFactory(store=store)
    friend = member_enroll(phone="+380672220001", referral_code=referrer.referral_code)

    results = run_together(
        THREADS,
        lambda i: purchase_record(
            store=store, member=friend, receipt_id=f"R{i}", total="100.00"
        ),
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    assert Referral.objects.get(referee=friend).status == ReferralStatus.QUALIFIED
    assert assert_ledger_exact(referrer) == 60
    assert assert_ledger_exact(friend) == 40 + 100 * THREADS


def test_concurrent_grants_with_one_key_credit_once(store):
    member = MemberFactory(store=store)

    results = run_together(
        THREADS,
        lambda i: points_bonus_grant(
            member=member, points=25, reason="Birthday bonus", idempotency_key="k:1"
        ),
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r.pk for r in results}) == 1
    assert LedgerEntry.objects.filter(kind=LedgerKind.BONUS).count() == 1
    assert assert_ledger_exact(member) == 25
