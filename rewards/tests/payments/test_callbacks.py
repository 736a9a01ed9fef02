"""Callback rules, each for LiqPay and for Stripe (the `provider` fixture is
parametrized): success, replay, bad signature, wrong amount and currency,
failure, refund (at once and at the period end), unknown order."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rewards.models import (
    LedgerEntry,
    Payment,
    PaymentCallback,
    PaymentStatus,
    RefundEnds,
    Subscription,
    SubscriptionEvent,
    SubscriptionStatus,
    Voucher,
)
from rewards.tests.factories import RewardFactory

pytestmark = pytest.mark.django_db


def _counts():
    return (
        Subscription.objects.count(),
        SubscriptionEvent.objects.count(),
        LedgerEntry.objects.count(),
        Voucher.objects.count(),
        PaymentCallback.objects.count(),
    )


def test_confirmed_payment_starts_the_membership(provider, checkout, member, plan):
    assert checkout.status == PaymentStatus.PENDING
    assert not Subscription.objects.filter(member=member).exists()

    response = provider.paid(checkout)

    assert response.status_code == 200
    checkout.refresh_from_db()
    assert checkout.status == PaymentStatus.PAID
    sub = Subscription.objects.get(member=member)
    assert sub.status == SubscriptionStatus.ACTIVE and sub.plan == plan
    assert checkout.subscription == sub
    event = sub.events.get(kind="started")
    assert event.receipt_id == checkout.order_id
    assert event.store.code == "online"
    assert checkout.provider_payment_id  # LiqPay's payment_id, Stripe's PaymentIntent


def test_replayed_callback_changes_nothing(provider, checkout, member, plan):
    plan.monthly_reward = RewardFactory()
    plan.save()
    provider.paid(checkout)
    before = _counts()
    period_end = Subscription.objects.get(member=member).current_period_end

    again = provider.paid(checkout)

    assert again.status_code == 200
    assert _counts() == before
    assert Subscription.objects.get(member=member).current_period_end == period_end
    assert Voucher.objects.filter(member=member).count() == 1


def test_bad_signature_is_refused_and_changes_nothing(provider, checkout, member):
    before = _counts()

    response = provider.paid_badly_signed(checkout)

    assert response.status_code == 400
    assert _counts() == before
    checkout.refresh_from_db()
    assert checkout.status == PaymentStatus.PENDING


def test_tampered_body_fails_the_signature(provider, checkout, member):
    before = _counts()

    response = provider.paid_tampered(checkout)

    assert response.status_code == 400
    assert _counts() == before
    assert Payment.objects.get(pk=checkout.pk).status == PaymentStatus.PENDING


def test_wrong_amount_does_not_start_the_membership(provider, checkout, member):
    response = provider.paid(checkout, amount=Decimal("1.00"))

    assert response.status_code == 400
    checkout.refresh_from_db()
    assert checkout.status == PaymentStatus.MISMATCH
    assert "amount 1.00 is not 99.00" in checkout.note
    assert not Subscription.objects.filter(member=member).exists()
    assert PaymentCallback.objects.get().outcome == "mismatch"
    # A later, correct delivery does not start it either: staff look first.
    provider.paid(checkout, event="later")
    assert not Subscription.objects.filter(member=member).exists()


def test_wrong_currency_does_not_start_the_membership(provider, checkout, member):
    response = provider.paid(checkout, currency="USD")

    assert response.status_code == 400
    checkout.refresh_from_db()
    assert checkout.status == PaymentStatus.MISMATCH
    assert "currency USD is not UAH" in checkout.note
    assert not Subscription.objects.exists()


def test_failed_payment_starts_nothing(provider, checkout, member):
    response = provider.failed(checkout)

    assert response.status_code == 200
    checkout.refresh_from_db()
    assert checkout.status == PaymentStatus.FAILED
    assert not Subscription.objects.exists()


def test_refund_ends_the_membership_at_once(provider, checkout, member, plan):
    assert plan.refund_ends == RefundEnds.AT_ONCE
    provider.paid(checkout)

    response = provider.refunded(checkout)

    assert response.status_code == 200
    checkout.refresh_from_db()
    assert checkout.status == PaymentStatus.REFUNDED
    assert checkout.refunded_amount == Decimal("99.00")
    sub = Subscription.objects.get(member=member)
    assert sub.status == SubscriptionStatus.CANCELLED
    assert sub.ended_at is not None
    assert list(sub.events.values_list("kind", flat=True)[:2]) == [
        "cancelled",
        "refunded",
    ]
    # The refund delivered again ends nothing twice.
    before = _counts()
    assert provider.refunded(checkout).status_code == 200
    assert _counts() == before


def test_refund_lets_the_period_run_out_when_the_plan_says_so(
    provider, checkout, member, plan
):
    plan.refund_ends = RefundEnds.PERIOD_END
    plan.save()
    provider.paid(checkout)
    sub = Subscription.objects.get(member=member)
    sub.auto_renew = True
    sub.save()

    provider.refunded(checkout)

    sub.refresh_from_db()
    assert sub.status == SubscriptionStatus.ACTIVE
    assert sub.auto_renew is False
    assert Payment.objects.get(pk=checkout.pk).status == PaymentStatus.REFUNDED


def test_refund_of_an_unpaid_payment_changes_nothing(provider, checkout, member):
    response = provider.refunded(checkout)

    # LiqPay names our order: nothing to refund, taken. Stripe names only a
    # PaymentIntent, which an unpaid payment does not have yet: no such order.
    assert response.status_code == (200 if provider.name == "liqpay" else 400)
    assert Payment.objects.get(pk=checkout.pk).status == PaymentStatus.PENDING
    assert not Subscription.objects.exists()


def test_auto_renew_chosen_at_checkout_is_set_once_paid(provider, member, plan):
    from rewards.services.payments import payment_checkout_start

    payment, _checkout = payment_checkout_start(
        member=member, plan=plan, auto_renew=True
    )
    provider.paid(payment)

    assert Subscription.objects.get(member=member).auto_renew is True


def test_paying_again_renews_for_one_more_period(provider, checkout, member, plan):
    from rewards.services.payments import payment_checkout_start

    provider.paid(checkout)
    end = Subscription.objects.get(member=member).current_period_end
    second, _checkout = payment_checkout_start(member=member, plan=plan)

    provider.paid(second, event="second")

    sub = Subscription.objects.get(member=member)
    assert sub.current_period_end > end
    assert sub.events.filter(kind="renewed").count() == 1
    assert Subscription.objects.count() == 1
