"""The built-in test provider (`make run`, PAYMENT_PROVIDER=test, never in
production): our own page plays the provider's checkout; its "Pay" and
"Fail" buttons, and a staff refund, produce a callback signed like a real
provider's (HMAC-SHA256 of the JSON body with PAYMENT_TEST_SECRET, in the
X-Test-Signature header) that goes through the same callback service as
LiqPay's and Stripe's."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.urls import reverse

from rewards.payments.base import (
    CallbackDelivery,
    CallbackEvent,
    CallbackInvalid,
    Checkout,
    EventKind,
    SignatureError,
)

SIGNATURE_HEADER = "X-Test-Signature"
STATUS_KINDS = {
    "success": EventKind.PAID,
    "failure": EventKind.FAILED,
    "refund": EventKind.REFUNDED,
}


def test_secret() -> bytes:
    secret = settings.PAYMENT_TEST_SECRET
    if not secret:
        secret = hmac.new(
            settings.SECRET_KEY.encode(), b"payment-test-provider", hashlib.sha256
        ).hexdigest()
    return secret.encode()


def test_signature(body: bytes) -> str:
    return hmac.new(test_secret(), body, hashlib.sha256).hexdigest()


class TestProvider:
    __test__ = False  # not a pytest test class
    name = "test"
    can_refund = True

    def checkout_start(self, *, payment, description, return_url, callback_url):
        # Our own page: a path, so it works on whatever address serves the site.
        path = reverse("payments:test_page", args=[payment.order_id])
        return Checkout(url=path, session_id=f"test-{payment.order_id}")

    def callback_make(
        self, *, payment, status: str, amount: Decimal | None = None
    ) -> CallbackDelivery:
        """The signed callback the test provider sends for `payment`."""
        body = json.dumps(
            {
                "event_id": uuid.uuid4().hex,
                "status": status,
                "order_id": payment.order_id,
                "amount": str(payment.amount if amount is None else amount),
                "currency": payment.currency,
                "payment_id": f"test-{payment.order_id}",
            }
        ).encode()
        return CallbackDelivery(
            body=body, headers={SIGNATURE_HEADER: test_signature(body)}
        )

    def callback_parse(
        self, *, body: bytes, headers: Mapping[str, str], form: Mapping[str, str]
    ) -> CallbackEvent:
        signature = headers.get(SIGNATURE_HEADER, "")
        if not signature or not hmac.compare_digest(test_signature(body), signature):
            raise SignatureError("test provider signature does not match")
        try:
            fields = json.loads(body)
            status = str(fields["status"])
            return CallbackEvent(
                event_key=str(fields["event_id"]),
                event_type=status,
                kind=STATUS_KINDS.get(status, EventKind.OTHER),
                order_id=str(fields["order_id"]),
                amount=Decimal(str(fields["amount"])),
                currency=str(fields["currency"]),
                provider_payment_id=str(fields.get("payment_id", "")),
            )
        except (ValueError, KeyError, TypeError, InvalidOperation) as exc:
            raise CallbackInvalid("test callback is not readable") from exc

    def charge_saved(self, *, payment, previous, callback_url):
        """Plays a saved card that always pays."""
        return self.callback_make(payment=payment, status="success")

    def refund(self, *, payment) -> CallbackDelivery | None:
        return self.callback_make(payment=payment, status="refund")
