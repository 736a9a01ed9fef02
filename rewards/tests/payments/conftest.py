"""Both providers behind one small driver each, so every callback rule is
tested for LiqPay and for Stripe with the same test; the fakes sign as each
provider documents."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from rewards.models import Payment
from rewards.tests.factories import MembershipPlanFactory
from rewards.tests.payments.fakes import (
    FakeProviderServer,
    liqpay_callback,
    stripe_charge_refunded,
    stripe_event,
    stripe_session_completed,
    stripe_signed,
)

LIQPAY_PRIVATE = "sandbox_private_key_for_tests"
STRIPE_WEBHOOK = "whsec_test_secret"


def stripe_api_answer(path, form):
    if path.startswith("/v1/checkout/sessions"):
        return 200, {
            "id": "cs_test_1",
            "object": "checkout.session",
            "url": "https://checkout.stripe.test/c/pay/cs_test_1",
            "client_reference_id": form.get("client_reference_id"),
        }
    if path.startswith("/v1/payment_intents/"):  # retrieve the first payment's
        return 200, {
            "id": path.rsplit("/", 1)[-1],
            "object": "payment_intent",
            "customer": "cus_test_1",
            "payment_method": "pm_test_1",
        }
    if path.startswith("/v1/payment_intents"):  # the renewal's off-session charge
        return 200, {
            "id": "pi_renew_1",
            "object": "payment_intent",
            "status": "processing",
        }
    if path.startswith("/v1/refunds"):
        return 200, {"id": "re_test_1", "object": "refund", "status": "succeeded"}
    return 404, {"error": {"message": "no such path", "type": "invalid_request_error"}}


def liqpay_api_answer(path, form):
    return 200, {"result": "ok", "status": "reversed", "action": "refund"}


class LiqPayDriver:
    name = "liqpay"

    def __init__(self, client):
        self.client = client

    def post(self, form):
        return self.client.post(
            reverse("payments:callback", args=["liqpay"]), data=form
        )

    def _form(self, payment, status, amount=None, currency=None, key=LIQPAY_PRIVATE):
        return liqpay_callback(
            key,
            version=3,
            action="pay",
            status=status,
            order_id=payment.order_id,
            payment_id=123456,
            amount=float(payment.amount if amount is None else amount),
            currency=currency or payment.currency,
        )

    def paid(self, payment, *, amount=None, currency=None, event="1"):
        return self.post(self._form(payment, "success", amount, currency))

    def paid_badly_signed(self, payment):
        return self.post(self._form(payment, "success", key="not-the-key"))

    def paid_tampered(self, payment):
        good = self._form(payment, "success")
        forged = self._form(payment, "success", amount=Decimal("1.00"))
        return self.post({"data": forged["data"], "signature": good["signature"]})

    def failed(self, payment, event="2"):
        return self.post(self._form(payment, "failure"))

    def refunded(self, payment, *, partial=False, event="3"):
        amount = payment.amount / 2 if partial else payment.amount
        if partial:
            pytest.skip("LiqPay reports a refund as status reversed only")
        return self.post(self._form(payment, "reversed", amount=amount))


class StripeDriver:
    name = "stripe"

    def __init__(self, client):
        self.client = client

    def post(self, payload, headers):
        return self.client.post(
            reverse("payments:callback", args=["stripe"]),
            data=payload,
            content_type="application/json",
            headers=headers,
        )

    def paid(self, payment, *, amount=None, currency=None, event="1"):
        value = payment.amount if amount is None else amount
        return self.post(
            *stripe_signed(
                STRIPE_WEBHOOK,
                stripe_session_completed(
                    f"evt_paid_{event}",
                    order_id=payment.order_id,
                    amount=int(value * 100),
                    currency=(currency or payment.currency).lower(),
                ),
            )
        )

    def paid_badly_signed(self, payment):
        return self.post(
            *stripe_signed(
                "whsec_other",
                stripe_session_completed(
                    "evt_bad", order_id=payment.order_id, amount=9900
                ),
            )
        )

    def paid_tampered(self, payment):
        payload, headers = stripe_signed(
            STRIPE_WEBHOOK,
            stripe_session_completed("evt_t", order_id=payment.order_id, amount=9900),
        )
        return self.post(payload.replace(b"9900", b"100"), headers)

    def failed(self, payment, event="2"):
        return self.post(
            *stripe_signed(
                STRIPE_WEBHOOK,
                stripe_event(
                    f"evt_failed_{event}",
                    "checkout.session.expired",
                    {
                        "id": "cs_test_1",
                        "client_reference_id": payment.order_id,
                        "amount_total": 9900,
                        "currency": "uah",
                        "payment_status": "unpaid",
                    },
                ),
            )
        )

    def refunded(self, payment, *, partial=False, event="3"):
        cents = int(payment.amount * 100)
        return self.post(
            *stripe_signed(
                STRIPE_WEBHOOK,
                stripe_charge_refunded(
                    f"evt_refund_{event}",
                    amount=cents // 2 if partial else cents,
                    refunded=not partial,
                ),
            )
        )


@pytest.fixture
def plan(db):
    return MembershipPlanFactory(name="Club", price=Decimal("99.00"))


@pytest.fixture
def stripe_api():
    with FakeProviderServer(stripe_api_answer) as server:
        yield server


@pytest.fixture
def liqpay_api():
    with FakeProviderServer(liqpay_api_answer) as server:
        yield server


@pytest.fixture
def liqpay_settings(settings, liqpay_api):
    settings.PAYMENT_PROVIDER = "liqpay"
    settings.LIQPAY_PUBLIC_KEY = "sandbox_public"
    settings.LIQPAY_PRIVATE_KEY = LIQPAY_PRIVATE
    settings.LIQPAY_API_URL = liqpay_api.url + "/api/request"
    return settings


@pytest.fixture
def stripe_settings(settings, stripe_api):
    settings.PAYMENT_PROVIDER = "stripe"
    settings.STRIPE_SECRET_KEY = "sk_test_fake"
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_WEBHOOK
    settings.STRIPE_API_BASE = stripe_api.url
    return settings


@pytest.fixture(params=["liqpay", "stripe"])
def provider(request, client):
    """A configured provider (with its fake API) and its callback driver."""
    if request.param == "liqpay":
        request.getfixturevalue("liqpay_settings")
        return LiqPayDriver(client)
    request.getfixturevalue("stripe_settings")
    return StripeDriver(client)


@pytest.fixture
def checkout(provider, member, plan):
    """A pending payment started through the provider (Stripe: its fake API)."""
    from rewards.services.payments import payment_checkout_start

    payment, _checkout = payment_checkout_start(member=member, plan=plan)
    return Payment.objects.get(pk=payment.pk)
