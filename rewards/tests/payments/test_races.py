"""Concurrent provider callbacks for one payment: PostgreSQL only (row locks),
threads released together, each on its own connection, as a provider's
retries racing each other would."""

from __future__ import annotations

import pytest

from members.tests.factories import MemberFactory, StoreFactory
from rewards.models import (
    Payment,
    PaymentCallback,
    PaymentStatus,
    Subscription,
    SubscriptionEvent,
    Voucher,
)
from rewards.payments import provider_get
from rewards.services.payments import payment_callback_receive, payment_checkout_start
from rewards.tests.factories import MembershipPlanFactory, RewardFactory
from rewards.tests.ledger.test_races import THREADS, run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def paying(settings):
    settings.PAYMENT_PROVIDER = "test"
    member = MemberFactory(store=StoreFactory(code="race", name="Race Street"))
    plan = MembershipPlanFactory(name="Club", monthly_reward=RewardFactory())
    payment, _c = payment_checkout_start(member=member, plan=plan)
    return payment


def _deliver(delivery):
    return payment_callback_receive(
        provider="test", body=delivery.body, headers=delivery.headers
    )


def test_one_event_delivered_by_many_threads_sells_once(paying):
    delivery = provider_get("test").callback_make(payment=paying, status="success")

    results = run_together(THREADS, lambda i: _deliver(delivery))

    assert all(r.status_code == 200 for r in results), results
    assert sum(1 for r in results if not r.replayed) == 1
    assert PaymentCallback.objects.count() == 1
    assert Subscription.objects.count() == 1
    assert SubscriptionEvent.objects.filter(kind="started").count() == 1
    assert Voucher.objects.count() == 1
    assert Payment.objects.get().status == PaymentStatus.PAID


def test_different_success_events_for_one_payment_sell_once(paying):
    provider = provider_get("test")
    deliveries = [
        provider.callback_make(payment=paying, status="success")
        for _i in range(THREADS)
    ]

    results = run_together(THREADS, lambda i: _deliver(deliveries[i]))

    assert all(r.status_code == 200 for r in results), results
    outcomes = sorted(PaymentCallback.objects.values_list("outcome", flat=True))
    assert outcomes == ["applied"] + ["ignored"] * (THREADS - 1)
    assert Subscription.objects.get().events.filter(kind="started").count() == 1
    assert not SubscriptionEvent.objects.filter(kind="renewed").exists()
