"""Automatic renewal of the paid membership, opt-in: the member's switch,
and the nightly job that charges the next period to the card an online
payment saved (rewards.services.payments takes the provider's answer)."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from members.errors import Conflict
from members.links import absolute_url
from members.models import User
from rewards.locks import account_lock, subscription_lock
from rewards.models import (
    Payment,
    PaymentPurpose,
    PaymentStatus,
    Subscription,
    SubscriptionEvent,
    SubscriptionEventKind,
    SubscriptionStatus,
)
from rewards.payments import ProviderUnavailable, provider_get
from rewards.selectors.payments import (
    payment_saved_card_get,
    subscription_can_auto_renew,
)
from rewards.selectors.program import program_settings_get
from rewards.services.payments import payment_callback_receive

log = logging.getLogger(__name__)


def subscription_auto_renew_set(
    *, subscription: Subscription, on: bool, by: User | None = None
) -> Subscription:
    """Opt in to (or out of) automatic renewal of an active membership: the
    nightly job (payments_renew_due below) then charges
    the next period to the card saved by an online payment, shortly before
    this one ends. Turning it on without such a card (and with a real
    provider) is a Conflict, as is an ended membership; a no-op when the flag
    is already so. Locks the
    member's account, then the subscription. Queues nothing."""
    with transaction.atomic(durable=True):
        account_lock(member_id=subscription.member_id)
        locked = subscription_lock(subscription_id=subscription.pk)
        if locked.status != SubscriptionStatus.ACTIVE:
            raise Conflict(
                _("This membership has ended; it cannot renew."), field="auto_renew"
            )
        if locked.auto_renew == on:
            return locked
        if on and not subscription_can_auto_renew(subscription=locked):
            raise Conflict(
                _(
                    "Automatic renewal needs a card saved by paying online: pay "
                    "for the next period online with “Renew automatically” ticked."
                ),
                field="auto_renew",
            )
        locked.auto_renew = on
        locked.save(update_fields=["auto_renew"])
        SubscriptionEvent.objects.create(
            subscription=locked,
            kind=(
                SubscriptionEventKind.AUTO_RENEW_ON
                if on
                else SubscriptionEventKind.AUTO_RENEW_OFF
            ),
            period_end=locked.current_period_end,
            created_by=by,
            created_at=timezone.now(),
        )
        return locked


def payments_renew_due(*, now: dt.datetime | None = None) -> int:
    """Nightly: start the renewal payment of each active membership with
    automatic renewal on that ends within PAYMENT_RENEW_DAYS_BEFORE days
    (payment_renewal_start). Returns how many were started; their results
    arrive as callbacks. Safe to run twice. Locks: see payment_renewal_start."""
    now = now or timezone.now()
    window = dt.timedelta(days=settings.PAYMENT_RENEW_DAYS_BEFORE)
    due = (
        Subscription.objects.filter(
            status=SubscriptionStatus.ACTIVE,
            auto_renew=True,
            current_period_end__gt=now,
            current_period_end__lte=now + window,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    started = 0
    for subscription_id in due.iterator(chunk_size=500):
        started += (
            payment_renewal_start(subscription_id=subscription_id, now=now) is not None
        )
    return started


def payment_renewal_start(
    *, subscription_id: int, now: dt.datetime | None = None
) -> Payment | None:
    """Charge the next period of an auto-renewing membership to the card its
    last online payment saved (LiqPay's card token, Stripe's off-session
    PaymentIntent; the test provider plays a card that pays). None when it is
    not due, a renewal is already pending or paid for this period, or nothing
    was saved with the configured provider (then the usual reminder tells the
    member to renew). A failed charge is tried again the next night until
    the period ends.

    Locks the member's account, then the subscription, while it checks and
    creates the renewal payment; the provider is called after commit of that
    transaction (a network call), and its answer arrives as a callback."""
    now = now or timezone.now()
    window = dt.timedelta(days=settings.PAYMENT_RENEW_DAYS_BEFORE)
    try:
        adapter = provider_get()
    except LookupError:
        return None
    member_id = (
        Subscription.objects.filter(pk=subscription_id)
        .values_list("member_id", flat=True)
        .first()
    )
    if member_id is None:
        return None
    with transaction.atomic(durable=True):
        account_lock(member_id=member_id)
        sub = subscription_lock(subscription_id=subscription_id)
        if (
            sub.status != SubscriptionStatus.ACTIVE
            or not sub.auto_renew
            or not (now < sub.current_period_end <= now + window)
        ):
            return None
        if Payment.objects.filter(
            subscription=sub,
            purpose=PaymentPurpose.RENEWAL,
            status__in=[PaymentStatus.PENDING, PaymentStatus.PAID],
            created_at__gte=sub.current_period_end - window,
        ).exists():
            return None
        previous = payment_saved_card_get(subscription=sub, provider=adapter.name)
        if previous is None and adapter.name != "test":
            return None
        payment = Payment.objects.create(
            order_id=f"m{member_id}-{uuid.uuid4().hex[:20]}",
            member_id=member_id,
            plan_id=sub.plan_id,
            purpose=PaymentPurpose.RENEWAL,
            provider=adapter.name,
            amount=sub.plan.price,
            currency=program_settings_get().currency,
            auto_renew=True,
            subscription=sub,
            created_at=now,
        )
    try:
        delivery = adapter.charge_saved(
            payment=payment,
            previous=previous or payment,
            callback_url=absolute_url(
                reverse("payments:callback", args=[adapter.name])
            ),
        )
    except ProviderUnavailable as exc:
        log.warning("renewal %s: %s", payment.order_id, exc)
        Payment.objects.filter(pk=payment.pk, status=PaymentStatus.PENDING).update(
            status=PaymentStatus.FAILED, note=str(exc)[:255]
        )
        return Payment.objects.get(pk=payment.pk)
    if delivery is not None:
        payment_callback_receive(
            provider=adapter.name, body=delivery.body, headers=delivery.headers
        )
    return Payment.objects.get(pk=payment.pk)
