"""What each provider adapter sends and accepts beyond the shared callback
rules: LiqPay's signed checkout form and refund request, Stripe's Checkout
Session and refund on its (fake) API, Stripe's signature age, partial
refunds, LiqPay's sandbox status, and the test provider."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from decimal import Decimal

import pytest
from django.urls import reverse

from rewards.models import Payment, PaymentCallback, PaymentStatus, Subscription
from rewards.services.payments import (
    payment_callback_receive,
    payment_checkout_start,
    payment_refund_request,
)
from rewards.tests.payments.conftest import (
    LIQPAY_PRIVATE,
    STRIPE_WEBHOOK,
    StripeDriver,
)
from rewards.tests.payments.fakes import (
    liqpay_callback,
    liqpay_decode,
    stripe_session_completed,
    stripe_signed,
)

pytestmark = pytest.mark.django_db


class TestLiqPay:
    def test_checkout_is_a_form_signed_as_liqpay_documents(
        self, liqpay_settings, member, plan
    ):
        payment, checkout = payment_checkout_start(member=member, plan=plan)

        assert checkout.method == "POST"
        assert checkout.url == "https://www.liqpay.ua/api/3/checkout"
        data = checkout.fields["data"]
        expected = base64.b64encode(
            hashlib.sha1(  # noqa: S324
                (LIQPAY_PRIVATE + data + LIQPAY_PRIVATE).encode()
            ).digest()
        ).decode()
        assert checkout.fields["signature"] == expected
        params = json.loads(base64.b64decode(data))
        assert params["version"] == 3
        assert params["public_key"] == "sandbox_public"
        assert params["action"] == "pay"
        assert params["amount"] == 99.0
        assert params["currency"] == "UAH"
        assert params["order_id"] == payment.order_id
        assert params["server_url"].endswith("/payments/callback/liqpay/")
        assert params["result_url"].endswith(f"/payments/{payment.order_id}/")

    def test_sandbox_status_pays_only_with_sandbox_on(
        self, liqpay_settings, client, member, plan
    ):
        payment, _c = payment_checkout_start(member=member, plan=plan)
        form = liqpay_callback(
            LIQPAY_PRIVATE,
            status="sandbox",
            order_id=payment.order_id,
            amount=99,
            currency="UAH",
            payment_id=1,
        )
        url = reverse("payments:callback", args=["liqpay"])
        assert client.post(url, data=form).status_code == 200
        assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PENDING

        liqpay_settings.LIQPAY_SANDBOX = True
        form = liqpay_callback(
            LIQPAY_PRIVATE,
            status="sandbox",
            order_id=payment.order_id,
            amount=99,
            currency="UAH",
            payment_id=2,
        )
        assert client.post(url, data=form).status_code == 200
        assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PAID

    def test_staff_refund_asks_liqpay_signed(
        self, liqpay_settings, liqpay_api, client, member, plan
    ):
        payment, _c = payment_checkout_start(member=member, plan=plan)
        client.post(
            reverse("payments:callback", args=["liqpay"]),
            data=liqpay_callback(
                LIQPAY_PRIVATE,
                status="success",
                order_id=payment.order_id,
                amount=99,
                currency="UAH",
                payment_id=7,
            ),
        )
        payment.refresh_from_db()

        payment_refund_request(payment=payment)

        (request,) = liqpay_api.requests
        sent = liqpay_decode(request["form"])
        assert sent["action"] == "refund"
        assert sent["order_id"] == payment.order_id
        assert sent["amount"] == 99.0
        # Refunded when LiqPay's "reversed" callback arrives, not before.
        assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PAID

    def test_unknown_order_is_refused(self, liqpay_settings, client):
        form = liqpay_callback(
            LIQPAY_PRIVATE,
            status="success",
            order_id="not-ours",
            amount=99,
            currency="UAH",
        )
        response = client.post(reverse("payments:callback", args=["liqpay"]), form)
        assert response.status_code == 400
        assert PaymentCallback.objects.get().outcome == "unknown"


class TestStripe:
    def test_checkout_session_is_created_on_the_api(
        self, stripe_settings, stripe_api, member, plan
    ):
        payment, checkout = payment_checkout_start(member=member, plan=plan)

        assert checkout.url == "https://checkout.stripe.test/c/pay/cs_test_1"
        assert payment.provider_session_id == "cs_test_1"
        (request,) = stripe_api.requests
        assert request["path"] == "/v1/checkout/sessions"
        assert request["headers"]["Authorization"] == "Bearer sk_test_fake"
        assert request["headers"]["Idempotency-Key"] == payment.order_id
        form = request["form"]
        assert form["mode"] == "payment"
        assert form["client_reference_id"] == payment.order_id
        assert form["line_items[0][price_data][unit_amount]"] == "9900"
        assert form["line_items[0][price_data][currency]"] == "uah"
        assert form["payment_intent_data[metadata][order_id]"] == payment.order_id

    def test_unreachable_api_fails_the_payment_with_a_clear_message(
        self, stripe_settings, member, plan
    ):
        from members.errors import ServiceError

        stripe_settings.STRIPE_API_BASE = "http://127.0.0.1:9"
        with pytest.raises(ServiceError, match="could not be reached"):
            payment_checkout_start(member=member, plan=plan)
        assert Payment.objects.get().status == PaymentStatus.FAILED

    def test_an_old_signature_is_refused(self, stripe_settings, client, member, plan):
        payment, _c = payment_checkout_start(member=member, plan=plan)
        payload, headers = stripe_signed(
            STRIPE_WEBHOOK,
            stripe_session_completed("evt_old", order_id=payment.order_id, amount=9900),
            at=int(time.time()) - 3600,
        )
        response = client.post(
            reverse("payments:callback", args=["stripe"]),
            data=payload,
            content_type="application/json",
            headers=headers,
        )
        assert response.status_code == 400
        assert not Subscription.objects.exists()
        assert not PaymentCallback.objects.exists()

    def test_partial_refund_keeps_the_membership(
        self, stripe_settings, client, member, plan
    ):
        provider = StripeDriver(client)
        checkout, _c = payment_checkout_start(member=member, plan=plan)
        provider.paid(checkout)

        assert provider.refunded(checkout, partial=True).status_code == 200

        checkout.refresh_from_db()
        assert checkout.status == PaymentStatus.PAID
        assert checkout.refunded_amount == Decimal("49.50")
        assert Subscription.objects.get(member=member).status == "active"

    def test_staff_refund_creates_a_refund_on_the_api(
        self, stripe_settings, stripe_api, client, member, plan
    ):
        payment, _c = payment_checkout_start(member=member, plan=plan)
        client.post(
            reverse("payments:callback", args=["stripe"]),
            *(),
            **_stripe_post(
                stripe_session_completed(
                    "evt_p", order_id=payment.order_id, amount=9900
                )
            ),
        )
        payment.refresh_from_db()
        assert payment.provider_payment_id == "pi_test_1"

        payment_refund_request(payment=payment)

        refund = stripe_api.requests[-1]
        assert refund["path"] == "/v1/refunds"
        assert refund["form"] == {"payment_intent": "pi_test_1"}


def _stripe_post(event):
    payload, headers = stripe_signed(STRIPE_WEBHOOK, event)
    return {"data": payload, "content_type": "application/json", "headers": headers}


class TestTestProvider:
    def test_is_off_unless_configured(self, settings, client, member, plan):
        settings.PAYMENT_PROVIDER = "liqpay"
        response = client.post(
            reverse("payments:callback", args=["test"]),
            data=b"{}",
            content_type="application/json",
        )
        assert response.status_code == 404

    def test_callback_signed_with_another_secret_is_refused(
        self, settings, client, member, plan
    ):
        settings.PAYMENT_PROVIDER = "test"
        payment, _c = payment_checkout_start(member=member, plan=plan)
        body = json.dumps(
            {
                "event_id": "e1",
                "status": "success",
                "order_id": payment.order_id,
                "amount": "99.00",
                "currency": "UAH",
            }
        ).encode()
        result = payment_callback_receive(
            provider="test", body=body, headers={"X-Test-Signature": "0" * 64}
        )
        assert result.status_code == 400
        assert Payment.objects.get().status == PaymentStatus.PENDING

    def test_staff_refund_goes_through_the_signed_callback(
        self, settings, member, plan
    ):
        from rewards.payments import provider_get

        settings.PAYMENT_PROVIDER = "test"
        payment, _c = payment_checkout_start(member=member, plan=plan)
        delivery = provider_get("test").callback_make(payment=payment, status="success")
        payment_callback_receive(
            provider="test", body=delivery.body, headers=delivery.headers
        )
        payment.refresh_from_db()

        payment = payment_refund_request(payment=payment)

        assert payment.status == PaymentStatus.REFUNDED
        assert Subscription.objects.get(member=member).status == "cancelled"
        assert list(
            PaymentCallback.objects.order_by("pk").values_list("event_type", flat=True)
        ) == ["success", "refund"]


class TestDeployCheck:
    def test_test_provider_on_a_server_is_an_error(self, settings):
        from loyalty_site.checks import payment_provider_check

        settings.DEBUG = False
        settings.PAYMENT_PROVIDER = "test"
        (error,) = payment_provider_check()
        assert error.id == "loyalty_site.E002"

    def test_a_provider_without_its_keys_is_an_error(self, settings):
        from loyalty_site.checks import payment_provider_check

        settings.PAYMENT_PROVIDER = "stripe"
        settings.STRIPE_SECRET_KEY = "sk_live_x"
        settings.STRIPE_WEBHOOK_SECRET = ""
        (error,) = payment_provider_check()
        assert "STRIPE_WEBHOOK_SECRET is not set" in error.msg
        settings.STRIPE_WEBHOOK_SECRET = "whsec_x"
        assert payment_provider_check() == []
