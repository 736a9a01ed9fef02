"""Paying for the membership online: starting a checkout, taking a provider's
callback, a staff refund, and the nightly automatic renewal.

The membership starts (or renews) only on a verified callback whose amount,
currency and order match the Payment: then subscription_sell_locked records
the sale at the online store (PAYMENT_STORE_CODE) with the order id as the
receipt, in the callback's transaction. A callback is idempotent on
(provider, event key): a redelivery finds its log row and changes nothing.
A bad signature is refused before anything is written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import uuid
from collections.abc import Mapping
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from members.errors import Conflict, ServiceError
from members.links import absolute_url
from members.models import Member, Store, User
from members.services.stores import store_get_or_create
from rewards.locks import account_lock, payment_lock, subscription_lock
from rewards.models import (
    CallbackOutcome,
    MembershipPlan,
    Payment,
    PaymentCallback,
    PaymentPurpose,
    PaymentStatus,
    RefundEnds,
    Subscription,
    SubscriptionEvent,
    SubscriptionEventKind,
    SubscriptionStatus,
)
from rewards.payments import (
    CallbackEvent,
    CallbackInvalid,
    Checkout,
    EventKind,
    ProviderUnavailable,
    SignatureError,
    provider_get,
)
from rewards.payments.base import CallbackDelivery
from rewards.reasons import system_reason
from rewards.reasons_stamps import SUBSCRIPTION_REFUNDED
from rewards.selectors.program import program_settings_get
from rewards.services.memberships import (
    subscription_cancel_locked,
    subscription_sell_locked,
)

log = logging.getLogger(__name__)

OUTCOME_STATUS = {
    CallbackOutcome.APPLIED: 200,
    CallbackOutcome.IGNORED: 200,
    CallbackOutcome.MISMATCH: 400,
    CallbackOutcome.UNKNOWN_ORDER: 400,
}


@dataclasses.dataclass(frozen=True)
class CallbackResult:
    """What the callback endpoint answers: the HTTP status and a short text."""

    status_code: int
    message: str
    replayed: bool = False


def online_store_get() -> Store:
    """The store online sales are recorded at, created on first use."""
    store, _created = store_get_or_create(
        code=settings.PAYMENT_STORE_CODE, name="Online"
    )
    return store


def _description(plan: MembershipPlan) -> str:
    return _("%(plan)s membership") % {"plan": plan.name}


# --- checkout ------------------------------------------------------------------------


def payment_checkout_start(
    *,
    member: Member,
    plan: MembershipPlan,
    auto_renew: bool = False,
    purpose: str = PaymentPurpose.BUY,
) -> tuple[Payment, Checkout]:
    """Start paying for a period of `plan`: a pending Payment with a new order
    id at the plan's price in the program's currency, then the provider's
    checkout (outside any transaction: it is a network call). Nothing about
    the membership changes until the provider confirms.

    Refused (Conflict) when online payment is off, the plan is not on sale,
    or the member's active membership is of another plan. A provider that
    cannot be reached marks the payment failed and raises ServiceError.
    Locks nothing. Queues nothing."""
    try:
        provider = provider_get()
    except LookupError:
        raise Conflict(
            _("Online payment is not available; buy the membership at a counter."),
            field="plan",
        ) from None
    if not plan.is_active:
        raise Conflict(
            _("The “%(plan)s” membership is not on sale.") % {"plan": plan.name},
            field="plan",
        )
    current = (
        Subscription.objects.filter(
            member_id=member.pk,
            status=SubscriptionStatus.ACTIVE,
            current_period_end__gt=timezone.now(),
        )
        .select_related("plan")
        .first()
    )
    if current is not None and current.plan_id != plan.pk:
        raise Conflict(
            _(
                "You already have the “%(plan)s” membership; cancel it before "
                "buying another plan."
            )
            % {"plan": current.plan.name},
            field="plan",
        )
    payment = Payment.objects.create(
        order_id=f"m{member.pk}-{uuid.uuid4().hex[:20]}",
        member=member,
        plan=plan,
        purpose=purpose,
        provider=provider.name,
        amount=plan.price,
        currency=program_settings_get().currency,
        auto_renew=auto_renew,
    )
    try:
        checkout = provider.checkout_start(
            payment=payment,
            description=_description(plan),
            return_url=absolute_url(
                reverse("payments:result", args=[payment.order_id])
            ),
            callback_url=absolute_url(
                reverse("payments:callback", args=[provider.name])
            ),
        )
    except ProviderUnavailable as exc:
        log.warning("payment %s: checkout failed: %s", payment.order_id, exc)
        Payment.objects.filter(pk=payment.pk).update(
            status=PaymentStatus.FAILED, note=str(exc)[:255]
        )
        raise ServiceError(
            _("The payment service could not be reached; please try again later.")
        ) from exc
    if checkout.session_id:
        Payment.objects.filter(pk=payment.pk).update(
            provider_session_id=checkout.session_id
        )
        payment.provider_session_id = checkout.session_id
    return payment, checkout


# --- callbacks -----------------------------------------------------------------------


def payment_callback_receive(
    *,
    provider: str,
    body: bytes,
    headers: Mapping[str, str],
    form: Mapping[str, str] | None = None,
) -> CallbackResult:
    """Take one provider callback: verify its signature (bad: 400, nothing
    written), then, once per (provider, event key), apply it to its Payment
    and log it (PaymentCallback, append-only) in one transaction.

    Paid with the right amount, currency and order: the payment is paid and
    the membership sold (or renewed). Wrong amount or currency: the payment is
    marked as a mismatch for staff, no membership, 400. Failed: the pending
    payment fails. Refunded in full: the payment is refunded and the
    membership ends as its plan says (`refund_ends`). A redelivered event
    answers as the first time and changes nothing. Locks the member's account,
    the payment, then the subscription. Queues nothing."""
    try:
        adapter = provider_get(provider)
    except LookupError:
        return CallbackResult(404, "unknown provider")
    try:
        event = adapter.callback_parse(body=body, headers=headers, form=form or {})
    except SignatureError as exc:
        log.warning("payment callback from %s refused: %s", provider, exc)
        return CallbackResult(400, "bad signature")
    except CallbackInvalid as exc:
        return CallbackResult(400, str(exc))

    first = _callback_logged(provider, event.event_key)
    if first is not None:
        return CallbackResult(OUTCOME_STATUS[first.outcome], first.outcome, True)
    payment = _payment_for_event(provider, event)
    raw = body.decode("utf-8", "replace") if body else _form_text(form)
    if payment is None:
        return _callback_log_only(provider, event, raw)
    store = online_store_get() if event.kind == EventKind.PAID else None
    try:
        with transaction.atomic(durable=True):
            account_lock(member_id=payment.member_id)
            locked = payment_lock(payment_id=payment.pk)
            if _callback_logged(provider, event.event_key) is not None:
                raise _Replayed
            outcome, detail = _event_apply(locked, event, store=store)
            PaymentCallback.objects.create(
                provider=provider,
                event_key=event.event_key,
                event_type=event.event_type[:64],
                payment=locked,
                outcome=outcome,
                detail=detail[:255],
                body=raw,
            )
    except (_Replayed, IntegrityError):
        first = _callback_logged(provider, event.event_key)
        if first is None:
            raise
        return CallbackResult(OUTCOME_STATUS[first.outcome], first.outcome, True)
    return CallbackResult(OUTCOME_STATUS[outcome], detail or outcome)


class _Replayed(Exception):
    pass


def _form_text(form: Mapping[str, str] | None) -> str:
    return "&".join(f"{k}={v}" for k, v in (form or {}).items())


def _callback_logged(provider: str, event_key: str) -> PaymentCallback | None:
    return PaymentCallback.objects.filter(
        provider=provider, event_key=event_key
    ).first()


def _payment_for_event(provider: str, event: CallbackEvent) -> Payment | None:
    if event.order_id:
        found = Payment.objects.filter(
            provider=provider, order_id=event.order_id
        ).first()
        if found is not None:
            return found
    if event.provider_payment_id:  # a Stripe refund names the PaymentIntent
        return Payment.objects.filter(
            provider=provider, provider_payment_id=event.provider_payment_id
        ).first()
    return None


def _callback_log_only(provider: str, event: CallbackEvent, raw: str) -> CallbackResult:
    """A signed event for no order of ours: logged once, 400 for an event that
    would have moved money, 200 for others (Stripe sends every event type)."""
    outcome = (
        CallbackOutcome.UNKNOWN_ORDER
        if event.kind != EventKind.OTHER
        else CallbackOutcome.IGNORED
    )
    try:
        with transaction.atomic(durable=True):
            PaymentCallback.objects.create(
                provider=provider,
                event_key=event.event_key,
                event_type=event.event_type[:64],
                outcome=outcome,
                detail=f"order {event.order_id!r}"[:255],
                body=raw,
            )
    except IntegrityError:
        pass
    return CallbackResult(OUTCOME_STATUS[outcome], outcome)


def _matches(payment: Payment, event: CallbackEvent, *, refund: bool = False) -> str:
    """Why the event does not fit the payment, or "" when it does."""
    if event.order_id and event.order_id != payment.order_id:
        return f"order {event.order_id} is not {payment.order_id}"
    if event.currency.upper() != payment.currency.upper():
        return f"currency {event.currency} is not {payment.currency}"
    if event.amount is None:
        return "no amount"
    if refund and event.amount > payment.amount:
        return f"refund {event.amount} is more than {payment.amount}"
    if not refund and event.amount != payment.amount:
        return f"amount {event.amount} is not {payment.amount}"
    return ""


def _event_apply(
    payment: Payment, event: CallbackEvent, *, store: Store | None
) -> tuple[str, str]:
    """Apply a verified event to the locked payment; (outcome, detail)."""
    if event.kind == EventKind.PAID:
        return _paid_apply(payment, event, store=store)
    if event.kind == EventKind.FAILED:
        if payment.status != PaymentStatus.PENDING:
            return CallbackOutcome.IGNORED, f"failure after {payment.status}"
        payment.status = PaymentStatus.FAILED
        payment.save(update_fields=["status"])
        return CallbackOutcome.APPLIED, "failed"
    if event.kind in (EventKind.REFUNDED, EventKind.PARTIAL_REFUND):
        return _refund_apply(payment, event)
    return CallbackOutcome.IGNORED, event.event_type


def _paid_apply(
    payment: Payment, event: CallbackEvent, *, store: Store | None
) -> tuple[str, str]:
    if payment.status not in (PaymentStatus.PENDING, PaymentStatus.FAILED):
        return CallbackOutcome.IGNORED, f"already {payment.status}"
    mismatch = _matches(payment, event)
    if mismatch:
        payment.status = PaymentStatus.MISMATCH
        payment.note = mismatch[:255]
        payment.save(update_fields=["status", "note"])
        return CallbackOutcome.MISMATCH, mismatch
    now = timezone.now()
    payment.status = PaymentStatus.PAID
    payment.paid_at = now
    payment.provider_payment_id = (
        event.provider_payment_id or payment.provider_payment_id
    )
    payment.provider_session_id = (
        event.provider_session_id or payment.provider_session_id
    )
    payment.provider_token = event.provider_token or payment.provider_token
    try:
        with transaction.atomic(savepoint=True):
            subscription, _replayed = subscription_sell_locked(
                member=payment.member,
                plan=payment.plan,
                store=store,
                receipt_id=payment.order_id,
                at=now,
            )
            if payment.auto_renew and not subscription.auto_renew:
                subscription.auto_renew = True
                subscription.save(update_fields=["auto_renew"])
    except ServiceError as exc:
        # The money arrived but the sale is refused (the plan went off sale, or
        # another plan was bought meanwhile): kept as paid for staff to refund.
        payment.note = str(exc)[:255]
        payment.save(
            update_fields=[
                "status",
                "paid_at",
                "provider_payment_id",
                "provider_session_id",
                "provider_token",
                "note",
            ]
        )
        return CallbackOutcome.APPLIED, f"paid, not applied: {exc}"
    payment.subscription = subscription
    payment.save(
        update_fields=[
            "status",
            "paid_at",
            "provider_payment_id",
            "provider_session_id",
            "provider_token",
            "subscription",
        ]
    )
    return CallbackOutcome.APPLIED, "paid"


def _refund_apply(payment: Payment, event: CallbackEvent) -> tuple[str, str]:
    if payment.status != PaymentStatus.PAID:
        return CallbackOutcome.IGNORED, f"refund of a {payment.status} payment"
    mismatch = _matches(payment, event, refund=True)
    if mismatch:
        return CallbackOutcome.MISMATCH, mismatch
    if event.kind == EventKind.PARTIAL_REFUND:
        payment.refunded_amount = event.amount
        payment.save(update_fields=["refunded_amount"])
        return CallbackOutcome.APPLIED, "partial refund: membership unchanged"
    now = timezone.now()
    payment.status = PaymentStatus.REFUNDED
    payment.refunded_amount = event.amount
    payment.refunded_at = now
    payment.save(update_fields=["status", "refunded_amount", "refunded_at"])
    if payment.subscription_id is not None:
        _membership_end_for_refund(payment, at=now)
    return CallbackOutcome.APPLIED, "refunded"


def _membership_end_for_refund(payment: Payment, *, at: dt.datetime) -> None:
    """The plan's `refund_ends`: cancel at once, or stop renewing and let the
    paid period run out. The account and payment are locked."""
    subscription = subscription_lock(subscription_id=payment.subscription_id)
    if subscription.status != SubscriptionStatus.ACTIVE:
        return
    SubscriptionEvent.objects.create(
        subscription=subscription,
        kind=SubscriptionEventKind.REFUNDED,
        receipt_id="",
        price_paid=-(payment.refunded_amount or Decimal("0")),
        period_end=subscription.current_period_end,
        created_at=at,
    )
    if payment.plan.refund_ends == RefundEnds.AT_ONCE:
        subscription_cancel_locked(
            subscription_id=subscription.pk,
            by=None,
            reason=system_reason(SUBSCRIPTION_REFUNDED, order=payment.order_id),
        )
    elif subscription.auto_renew:
        subscription.auto_renew = False
        subscription.save(update_fields=["auto_renew"])


# --- staff refund ----------------------------------------------------------------------


def payment_refund_request(*, payment: Payment, by: User | None = None) -> Payment:
    """Ask the provider to refund a paid payment in full. The refund takes
    effect when the provider's refund callback arrives (the test provider
    hands it over at once, through the same callback path). Conflict when the
    payment is not paid or its provider cannot refund; ServiceError when the
    provider refuses. Locks nothing itself. Queues nothing."""
    if payment.status != PaymentStatus.PAID:
        raise Conflict(
            _("Only a paid payment can be refunded; this one is %(status)s.")
            % {"status": payment.get_status_display()},
            field="payment",
        )
    try:
        adapter = provider_get(payment.provider)
    except LookupError:
        raise Conflict(
            _("The payment's provider is not configured here."), field="payment"
        ) from None
    try:
        delivery: CallbackDelivery | None = adapter.refund(payment=payment)
    except ProviderUnavailable as exc:
        raise ServiceError(
            _("The payment service refused the refund: %(error)s") % {"error": exc}
        ) from exc
    log.info("refund of %s requested by %s", payment.order_id, by)
    if delivery is not None:
        payment_callback_receive(
            provider=payment.provider,
            body=delivery.body,
            headers=delivery.headers,
            form=delivery.form,
        )
    payment.refresh_from_db()
    return payment
