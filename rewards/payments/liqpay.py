"""LiqPay (PrivatBank) Checkout, written by hand from its documentation
(https://www.liqpay.ua/documentation/api/aquiring/checkout/doc and
/documentation/api/callback): there is no maintained official LiqPay package
for Python 3 worth adding, and the scheme is a few lines.

- Checkout: the customer's browser POSTs `data` and `signature` to the
  checkout page; data = base64(JSON parameters), signature =
  base64(sha1(private_key + data + private_key)).
- Server callback: LiqPay POSTs `data` and `signature` (form fields) to our
  server_url, signed the same way; the JSON in data has order_id, amount,
  currency, payment_id and status: "success" (paid), "failure"/"error"
  (failed), "reversed" (refunded), "sandbox" (a sandbox payment: paid only
  with LIQPAY_SANDBOX on), others (processing, wait_accept...) change nothing.
- Refund: POST data/signature with action "refund" to the API
  (https://www.liqpay.ua/api/request); the "reversed" callback follows.
- Automatic renewal: a checkout with recurringbytoken=1 answers with a
  card_token in its callback; a renewal is action "paytoken" with that token
  to the same API, and its result arrives as a callback like any payment.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

import requests
from django.conf import settings
from django.utils import translation

from rewards.payments.base import (
    CallbackDelivery,
    CallbackEvent,
    CallbackInvalid,
    Checkout,
    EventKind,
    ProviderUnavailable,
    SignatureError,
)

STATUS_KINDS = {
    "success": EventKind.PAID,
    "failure": EventKind.FAILED,
    "error": EventKind.FAILED,
    "reversed": EventKind.REFUNDED,
}
TIMEOUT = 15


def liqpay_data_encode(params: dict) -> str:
    """base64 of the JSON parameters, as LiqPay's `data` field."""
    return base64.b64encode(json.dumps(params).encode()).decode()


def liqpay_signature(data: str, private_key: str) -> str:
    """base64(sha1(private_key + data + private_key)), LiqPay's `signature`."""
    digest = hashlib.sha1(  # noqa: S324 - LiqPay's documented signature
        (private_key + data + private_key).encode()
    ).digest()
    return base64.b64encode(digest).decode()


class LiqPayProvider:
    name = "liqpay"
    can_refund = True

    def _signed(self, params: dict) -> dict[str, str]:
        data = liqpay_data_encode(
            {"version": 3, "public_key": settings.LIQPAY_PUBLIC_KEY, **params}
        )
        return {
            "data": data,
            "signature": liqpay_signature(data, settings.LIQPAY_PRIVATE_KEY),
        }

    def checkout_start(self, *, payment, description, return_url, callback_url):
        params = {
            "action": "pay",
            "amount": float(payment.amount),
            "currency": payment.currency,
            "description": description,
            "order_id": payment.order_id,
            "language": (translation.get_language() or "uk")[:2],
            "result_url": return_url,
            "server_url": callback_url,
        }
        if settings.LIQPAY_SANDBOX:
            params["sandbox"] = 1
        if payment.auto_renew:  # LiqPay sends a card_token to charge again
            params["recurringbytoken"] = "1"
        return Checkout(
            url=settings.LIQPAY_CHECKOUT_URL, method="POST", fields=self._signed(params)
        )

    def callback_parse(
        self, *, body: bytes, headers: Mapping[str, str], form: Mapping[str, str]
    ) -> CallbackEvent:
        data = form.get("data") or ""
        signature = form.get("signature") or ""
        private_key = settings.LIQPAY_PRIVATE_KEY
        if not (data and signature and private_key) or not hmac.compare_digest(
            liqpay_signature(data, private_key), signature
        ):
            raise SignatureError("LiqPay signature does not match")
        try:
            fields = json.loads(base64.b64decode(data, validate=True))
            amount = Decimal(str(fields["amount"]))
            if amount.as_tuple().exponent > -2:  # JSON 99.0 is 99.00, exactly
                amount = amount.quantize(Decimal("0.01"))
            order_id = str(fields["order_id"])
        except (ValueError, KeyError, TypeError, InvalidOperation) as exc:
            raise CallbackInvalid("LiqPay data is not readable") from exc
        status = str(fields.get("status", ""))
        kind = STATUS_KINDS.get(status, EventKind.OTHER)
        if status == "sandbox" and settings.LIQPAY_SANDBOX:
            kind = EventKind.PAID
        return CallbackEvent(
            # LiqPay sends the same data again when it retries a callback.
            event_key=hashlib.sha256(data.encode()).hexdigest(),
            event_type=status,
            kind=kind,
            order_id=order_id,
            amount=amount,
            currency=str(fields.get("currency", "")),
            provider_payment_id=str(fields.get("payment_id", "") or ""),
            provider_token=str(fields.get("card_token", "") or ""),
        )

    def _api(self, params: dict) -> dict:
        fields = self._signed(params)
        try:
            response = requests.post(
                settings.LIQPAY_API_URL, data=fields, timeout=TIMEOUT
            )
            answer = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise ProviderUnavailable(str(exc)) from exc
        if answer.get("result") == "error" or answer.get("status") == "error":
            raise ProviderUnavailable(
                str(answer.get("err_description") or answer.get("err_code") or answer)
            )
        return answer

    def charge_saved(self, *, payment, previous, callback_url):
        if not previous.provider_token:
            raise ProviderUnavailable("No LiqPay card token saved")
        self._api(
            {
                "action": "paytoken",
                "card_token": previous.provider_token,
                "amount": float(payment.amount),
                "currency": payment.currency,
                "description": str(payment.plan.name),
                "order_id": payment.order_id,
                "server_url": callback_url,
            }
        )
        return None  # the callback follows, as for a checkout

    def refund(self, *, payment) -> CallbackDelivery | None:
        self._api(
            {
                "action": "refund",
                "order_id": payment.order_id,
                "amount": float(payment.amount),
            }
        )
        return None  # the "reversed" callback follows
