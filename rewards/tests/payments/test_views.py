"""The portal's membership page with online payment: buy (each provider's
way to send the customer on), the test provider's page, the result page,
automatic renewal on and off, cancel; and the nightly renewal job."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from rewards.models import (
    Payment,
    PaymentPurpose,
    PaymentStatus,
    Subscription,
    SubscriptionStatus,
)
from rewards.services import subscription_sell
from rewards.services.renewals import payments_renew_due
from rewards.tests.factories import MembershipPlanFactory
from rewards.tests.payments.conftest import LIQPAY_PRIVATE, STRIPE_WEBHOOK
from rewards.tests.payments.fakes import (
    liqpay_callback,
    liqpay_decode,
    stripe_event,
    stripe_signed,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, customer):
    user, member = customer
    client.force_login(user)
    return client, member


@pytest.fixture
def test_provider(settings):
    settings.PAYMENT_PROVIDER = "test"
    return settings


def test_without_a_provider_the_page_says_counter_only(settings, logged_in, plan):
    settings.PAYMENT_PROVIDER = ""
    client, _member = logged_in

    page = client.get(reverse("catalog:membership")).content.decode()

    assert "There is no online payment." in page
    assert reverse("payments:buy") not in page
    response = client.post(reverse("payments:buy"), {"plan": plan.pk}, follow=True)
    assert "Online payment is not available" in response.content.decode()
    assert not Payment.objects.exists()


def test_buy_pay_on_the_test_page_and_see_the_membership(
    test_provider, logged_in, plan
):
    client, member = logged_in
    page = client.get(reverse("catalog:membership")).content.decode()
    assert f'data-testid="buy-{plan.pk}"' in page

    response = client.post(
        reverse("payments:buy"), {"plan": plan.pk, "auto_renew": "on"}
    )

    payment = Payment.objects.get(member=member)
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "payments:test_page", args=[payment.order_id]
    )
    assert client.get(response["Location"]).status_code == 200
    response = client.post(response["Location"], {"outcome": "pay"})
    assert response["Location"] == reverse("payments:result", args=[payment.order_id])
    result = client.get(response["Location"]).content.decode()
    assert "Paid. Your membership lasts until" in result
    sub = Subscription.objects.get(member=member)
    assert sub.auto_renew is True
    page = client.get(reverse("catalog:membership")).content.decode()
    assert "renews automatically" in page


def test_fail_on_the_test_page_starts_nothing(test_provider, logged_in, plan):
    client, member = logged_in
    client.post(reverse("payments:buy"), {"plan": plan.pk})
    payment = Payment.objects.get(member=member)

    response = client.post(
        reverse("payments:test_page", args=[payment.order_id]),
        {"outcome": "fail"},
        follow=True,
    )

    assert "The payment did not go through." in response.content.decode()
    assert Payment.objects.get().status == PaymentStatus.FAILED
    assert not Subscription.objects.exists()


def test_liqpay_buy_renders_the_signed_form(liqpay_settings, logged_in, plan):
    client, _member = logged_in

    response = client.post(reverse("payments:buy"), {"plan": plan.pk})

    page = response.content.decode()
    assert response.status_code == 200
    assert 'action="https://www.liqpay.ua/api/3/checkout"' in page
    assert 'name="data"' in page and 'name="signature"' in page


def test_stripe_buy_redirects_to_the_checkout_session(stripe_settings, logged_in, plan):
    client, _member = logged_in

    response = client.post(reverse("payments:buy"), {"plan": plan.pk})

    assert response.status_code == 302
    assert response["Location"] == "https://checkout.stripe.test/c/pay/cs_test_1"


def test_buying_a_plan_not_on_sale_names_the_plan(test_provider, logged_in):
    client, _member = logged_in
    off = MembershipPlanFactory(name="Old club", is_active=False)

    response = client.post(reverse("payments:buy"), {"plan": off.pk}, follow=True)

    assert "This plan is not on sale." in response.content.decode()
    assert not Payment.objects.exists()


def test_buying_another_plan_while_a_member_is_refused(
    test_provider, logged_in, plan, store
):
    client, member = logged_in
    subscription_sell(member=member, plan=plan, store=store, receipt_id="T-1")
    other = MembershipPlanFactory(name="Family")

    response = client.post(reverse("payments:buy"), {"plan": other.pk}, follow=True)

    assert "cancel it before buying another plan" in response.content.decode()
    assert not Payment.objects.exists()


def test_result_and_test_pages_are_the_members_own(
    test_provider, client, logged_in, plan, member
):
    from rewards.services.payments import payment_checkout_start

    theirs, _c = payment_checkout_start(member=member, plan=plan)
    own_client, _own = logged_in

    assert (
        own_client.get(reverse("payments:result", args=[theirs.order_id])).status_code
        == 404
    )
    assert (
        own_client.post(
            reverse("payments:test_page", args=[theirs.order_id]), {"outcome": "pay"}
        ).status_code
        == 404
    )
    assert Payment.objects.get().status == PaymentStatus.PENDING


def test_auto_renew_toggle_and_cancel(test_provider, logged_in, plan, store):
    client, member = logged_in
    subscription_sell(member=member, plan=plan, store=store, receipt_id="T-1")

    client.post(reverse("payments:auto_renew"), {"auto_renew": "1"})
    sub = Subscription.objects.get(member=member)
    assert sub.auto_renew is True
    assert sub.events.filter(kind="renew_on").exists()
    client.post(reverse("payments:auto_renew"), {"auto_renew": "0"})
    sub.refresh_from_db()
    assert sub.auto_renew is False

    response = client.post(reverse("payments:cancel"), follow=True)

    assert "Your membership is cancelled." in response.content.decode()
    sub.refresh_from_db()
    assert sub.status == SubscriptionStatus.CANCELLED
    assert sub.cancelled_by == member.user


def test_cancel_then_asks_why_without_holding_the_cancel_up(
    test_provider, logged_in, plan, store
):
    from members.models import LeaveAnswer
    from members.services import leave_occasion_read

    client, member = logged_in
    sub, _r = subscription_sell(member=member, plan=plan, store=store, receipt_id="T-9")

    response = client.post(reverse("payments:cancel"))

    sub.refresh_from_db()
    assert sub.status == SubscriptionStatus.CANCELLED  # before any answer
    question = response.headers["Location"]
    occasion = leave_occasion_read(question.rstrip("/").rsplit("/", 1)[1])
    assert (occasion.member_id, occasion.trigger, occasion.key) == (
        member.pk,
        "membership_cancelled",
        f"subscription:{sub.pk}",
    )
    client.post(question, {"reason": "price"})
    assert LeaveAnswer.objects.get().reason.code == "price"


def test_cancel_without_a_membership_says_so(test_provider, logged_in):
    client, _member = logged_in
    response = client.post(reverse("payments:cancel"), follow=True)
    assert "You have no membership to cancel." in response.content.decode()


class TestRenewalJob:
    def test_test_provider_renews_an_opted_in_membership_once(
        self, test_provider, member, plan, store
    ):
        sub, _r = subscription_sell(
            member=member, plan=plan, store=store, receipt_id="T-1"
        )
        Subscription.objects.filter(pk=sub.pk).update(auto_renew=True)
        end = sub.current_period_end
        soon = end - dt.timedelta(days=1)

        assert payments_renew_due(now=soon) == 1
        assert payments_renew_due(now=soon) == 0

        sub.refresh_from_db()
        assert sub.current_period_end > end
        renewal = Payment.objects.get(purpose=PaymentPurpose.RENEWAL)
        assert renewal.status == PaymentStatus.PAID
        assert renewal.subscription == sub

    def test_leaves_memberships_without_auto_renew_alone(
        self, test_provider, member, plan, store
    ):
        sub, _r = subscription_sell(
            member=member, plan=plan, store=store, receipt_id="T-1"
        )
        assert (
            payments_renew_due(now=sub.current_period_end - dt.timedelta(days=1)) == 0
        )
        assert payments_renew_due(now=timezone.now()) == 0
        assert not Payment.objects.exists()

    def test_without_a_saved_card_a_real_provider_renews_nothing(
        self, stripe_settings, member, plan, store
    ):
        sub, _r = subscription_sell(
            member=member, plan=plan, store=store, receipt_id="T-1"
        )
        Subscription.objects.filter(pk=sub.pk).update(auto_renew=True)

        assert (
            payments_renew_due(now=sub.current_period_end - dt.timedelta(days=1)) == 0
        )
        assert not Payment.objects.exists()

    def test_turning_renewal_on_needs_a_saved_card(
        self, stripe_settings, member, plan, store
    ):
        from members.errors import Conflict
        from rewards.services.renewals import subscription_auto_renew_set

        sub, _r = subscription_sell(
            member=member, plan=plan, store=store, receipt_id="T-1"
        )
        with pytest.raises(Conflict, match="needs a card saved by paying online"):
            subscription_auto_renew_set(subscription=sub, on=True)

    def test_stripe_charges_the_saved_card_off_session(
        self, stripe_settings, stripe_api, client, member, plan
    ):
        from rewards.services.payments import payment_checkout_start
        from rewards.tests.payments.conftest import StripeDriver

        driver = StripeDriver(client)
        first, _c = payment_checkout_start(member=member, plan=plan, auto_renew=True)
        session = stripe_api.requests[0]["form"]
        assert session["payment_intent_data[setup_future_usage]"] == "off_session"
        assert session["customer_creation"] == "always"
        driver.paid(first)
        sub = Subscription.objects.get(member=member)
        assert sub.auto_renew is True
        end = sub.current_period_end

        assert payments_renew_due(now=end - dt.timedelta(days=1)) == 1

        renewal = Payment.objects.get(purpose=PaymentPurpose.RENEWAL)
        assert renewal.status == PaymentStatus.PENDING
        charge = stripe_api.requests[-1]
        assert stripe_api.requests[-2]["path"] == "/v1/payment_intents/pi_test_1"
        assert charge["path"] == "/v1/payment_intents"
        assert charge["form"]["customer"] == "cus_test_1"
        assert charge["form"]["payment_method"] == "pm_test_1"
        assert charge["form"]["off_session"] == "true"
        assert charge["form"]["amount"] == "9900"
        assert charge["form"]["metadata[order_id]"] == renewal.order_id
        # Stripe's webhook for the off-session charge renews the membership.
        response = driver.post(
            *stripe_signed(
                STRIPE_WEBHOOK,
                stripe_event(
                    "evt_renewed",
                    "payment_intent.succeeded",
                    {
                        "id": "pi_renew_1",
                        "object": "payment_intent",
                        "amount": 9900,
                        "currency": "uah",
                        "metadata": {"order_id": renewal.order_id},
                    },
                ),
            )
        )
        assert response.status_code == 200
        sub.refresh_from_db()
        assert sub.current_period_end > end
        assert Payment.objects.get(pk=renewal.pk).status == PaymentStatus.PAID

    def test_liqpay_pays_with_the_card_token(
        self, liqpay_settings, liqpay_api, client, member, plan
    ):
        from rewards.services.payments import payment_checkout_start

        first, checkout = payment_checkout_start(
            member=member, plan=plan, auto_renew=True
        )
        assert liqpay_decode(checkout.fields)["recurringbytoken"] == "1"
        url = reverse("payments:callback", args=["liqpay"])
        client.post(
            url,
            liqpay_callback(
                LIQPAY_PRIVATE,
                status="success",
                order_id=first.order_id,
                amount=99,
                currency="UAH",
                payment_id=1,
                card_token="tok_abc",
            ),
        )
        sub = Subscription.objects.get(member=member)
        end = sub.current_period_end

        assert payments_renew_due(now=end - dt.timedelta(days=1)) == 1

        renewal = Payment.objects.get(purpose=PaymentPurpose.RENEWAL)
        sent = liqpay_decode(liqpay_api.requests[-1]["form"])
        assert sent["action"] == "paytoken"
        assert sent["card_token"] == "tok_abc"
        assert sent["order_id"] == renewal.order_id
        client.post(
            url,
            liqpay_callback(
                LIQPAY_PRIVATE,
                status="success",
                order_id=renewal.order_id,
                amount=99,
                currency="UAH",
                payment_id=2,
            ),
        )
        sub.refresh_from_db()
        assert sub.current_period_end > end


def test_the_test_page_of_a_finished_payment_goes_to_its_result(
    test_provider, logged_in, plan
):
    client, member = logged_in
    client.post(reverse("payments:buy"), {"plan": plan.pk})
    payment = Payment.objects.get(member=member)
    page = reverse("payments:test_page", args=[payment.order_id])
    client.post(page, {"outcome": "pay"})

    again = client.post(page, {"outcome": "fail"})

    assert again["Location"] == reverse("payments:result", args=[payment.order_id])
    assert Payment.objects.get().status == PaymentStatus.PAID
    assert Subscription.objects.get(member=member).events.count() == 1
