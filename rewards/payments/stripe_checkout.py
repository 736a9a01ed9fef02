"""Stripe Checkout through the `stripe` package: a Checkout Session per
payment (our order id as client_reference_id and metadata), and webhooks
verified with stripe.Webhook.construct_event. The API base is a setting
(STRIPE_API_BASE) so tests talk to a local fake server.

Webhook events used: checkout.session.completed (paid when payment_status is
"paid"), checkout.session.async_payment_succeeded (paid),
checkout.session.async_payment_failed and checkout.session.expired (failed),
charge.refunded (refunded in full, or a partial refund that changes nothing),
payment_intent.succeeded and .payment_failed (an automatic renewal's
off-session charge on the card its first checkout saved).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal

import stripe
from django.conf import settings

from rewards.payments.base import (
    CallbackDelivery,
    CallbackEvent,
    CallbackInvalid,
    Checkout,
    EventKind,
    ProviderUnavailable,
    SignatureError,
)

# Stripe amounts are in the currency's smallest unit; these have none
# (https://docs.stripe.com/currencies#zero-decimal).
ZERO_DECIMAL = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)
PAYMENT_INTENT_KINDS = {
    "payment_intent.succeeded": EventKind.PAID,
    "payment_intent.payment_failed": EventKind.FAILED,
}
SESSION_KINDS = {
    "checkout.session.async_payment_succeeded": EventKind.PAID,
    "checkout.session.async_payment_failed": EventKind.FAILED,
    "checkout.session.expired": EventKind.FAILED,
}


def stripe_minor_units(amount: Decimal, currency: str) -> int:
    exponent = 0 if currency.upper() in ZERO_DECIMAL else 2
    return int((amount * 10**exponent).to_integral_value())


def stripe_major_units(amount: int, currency: str) -> Decimal:
    exponent = 0 if currency.upper() in ZERO_DECIMAL else 2
    return (Decimal(amount) / 10**exponent).quantize(Decimal("0.01"))


def _id(value) -> str:
    """An id, or an expanded object's id."""
    return value if isinstance(value, str) else value.id


class StripeProvider:
    name = "stripe"
    can_refund = True

    def _client(self) -> stripe.StripeClient:
        return stripe.StripeClient(
            settings.STRIPE_SECRET_KEY,
            base_addresses={"api": settings.STRIPE_API_BASE},
            max_network_retries=0,
        )

    def checkout_start(self, *, payment, description, return_url, callback_url):
        metadata = {"order_id": payment.order_id}
        intent: dict = {"metadata": metadata}
        extra: dict = {}
        if payment.auto_renew:  # keep the card for the renewal's off-session charge
            intent["setup_future_usage"] = "off_session"
            extra["customer_creation"] = "always"
        try:
            session = self._client().v1.checkout.sessions.create(
                params={
                    "mode": "payment",
                    "client_reference_id": payment.order_id,
                    "metadata": metadata,
                    "payment_intent_data": intent,
                    **extra,
                    "line_items": [
                        {
                            "quantity": 1,
                            "price_data": {
                                "currency": payment.currency.lower(),
                                "unit_amount": stripe_minor_units(
                                    payment.amount, payment.currency
                                ),
                                "product_data": {"name": description},
                            },
                        }
                    ],
                    "success_url": return_url,
                    "cancel_url": return_url,
                },
                options={"idempotency_key": payment.order_id},
            )
        except stripe.StripeError as exc:
            raise ProviderUnavailable(str(exc)) from exc
        return Checkout(url=session.url, session_id=session.id)

    def callback_parse(
        self, *, body: bytes, headers: Mapping[str, str], form: Mapping[str, str]
    ) -> CallbackEvent:
        secret = settings.STRIPE_WEBHOOK_SECRET
        header = headers.get("Stripe-Signature", "")
        if not secret or not header:
            raise SignatureError("Stripe signature missing")
        try:
            stripe.Webhook.construct_event(body, header, secret)
        except stripe.SignatureVerificationError as exc:
            raise SignatureError(str(exc)) from exc
        except ValueError as exc:
            raise CallbackInvalid("Stripe event is not JSON") from exc
        # Verified: read the event from the very bytes that were signed.
        event = json.loads(body)
        try:
            return self._event_read(event)
        except (KeyError, TypeError, ValueError) as exc:
            raise CallbackInvalid("Stripe event is not readable") from exc

    def _event_read(self, event: dict) -> CallbackEvent:
        kind_name = event["type"]
        obj = event["data"]["object"]
        currency = str(obj.get("currency") or "").upper()
        metadata = obj.get("metadata") or {}
        if kind_name.startswith("checkout.session."):
            if kind_name == "checkout.session.completed":
                paid = obj.get("payment_status") == "paid"
                kind = EventKind.PAID if paid else EventKind.OTHER
            else:
                kind = SESSION_KINDS.get(kind_name, EventKind.OTHER)
            total = obj.get("amount_total")
            return CallbackEvent(
                event_key=event["id"],
                event_type=kind_name,
                kind=kind,
                order_id=obj.get("client_reference_id") or metadata.get("order_id", ""),
                amount=None if total is None else stripe_major_units(total, currency),
                currency=currency,
                provider_payment_id=obj.get("payment_intent") or "",
                provider_session_id=obj["id"],
            )
        if kind_name.startswith("payment_intent."):
            # A renewal's off-session charge; a checkout's own PaymentIntent
            # sends these too, and finds its payment already paid.
            kind = PAYMENT_INTENT_KINDS.get(kind_name, EventKind.OTHER)
            return CallbackEvent(
                event_key=event["id"],
                event_type=kind_name,
                kind=kind,
                order_id=metadata.get("order_id", ""),
                amount=stripe_major_units(obj["amount"], currency),
                currency=currency,
                provider_payment_id=obj["id"],
            )
        if kind_name == "charge.refunded":
            full = bool(obj.get("refunded"))
            return CallbackEvent(
                event_key=event["id"],
                event_type=kind_name,
                kind=EventKind.REFUNDED if full else EventKind.PARTIAL_REFUND,
                order_id=metadata.get("order_id", ""),
                amount=stripe_major_units(obj["amount_refunded"], currency),
                currency=currency,
                provider_payment_id=obj.get("payment_intent") or "",
            )
        return CallbackEvent(
            event_key=event["id"],
            event_type=kind_name,
            kind=EventKind.OTHER,
            order_id=metadata.get("order_id", ""),
            amount=None,
            currency=currency,
        )

    def charge_saved(self, *, payment, previous, callback_url):
        """An off-session PaymentIntent on the customer and card the previous
        checkout saved (setup_future_usage); payment_intent.succeeded or
        .payment_failed arrives by webhook."""
        if not previous.provider_payment_id:
            raise ProviderUnavailable("No PaymentIntent recorded to renew from")
        client = self._client()
        try:
            before = client.v1.payment_intents.retrieve(previous.provider_payment_id)
            if not (before.customer and before.payment_method):
                raise ProviderUnavailable("The first payment saved no card")
            client.v1.payment_intents.create(
                params={
                    "amount": stripe_minor_units(payment.amount, payment.currency),
                    "currency": payment.currency.lower(),
                    "customer": _id(before.customer),
                    "payment_method": _id(before.payment_method),
                    "off_session": True,
                    "confirm": True,
                    "metadata": {"order_id": payment.order_id},
                },
                options={"idempotency_key": payment.order_id},
            )
        except stripe.StripeError as exc:  # a declined card is a CardError
            raise ProviderUnavailable(str(exc)) from exc
        return None

    def refund(self, *, payment) -> CallbackDelivery | None:
        if not payment.provider_payment_id:
            raise ProviderUnavailable("No PaymentIntent recorded for this payment")
        try:
            self._client().v1.refunds.create(
                params={"payment_intent": payment.provider_payment_id},
                options={"idempotency_key": f"refund-{payment.order_id}"},
            )
        except stripe.StripeError as exc:
            raise ProviderUnavailable(str(exc)) from exc
        return None  # charge.refunded arrives by webhook
