"""Admin pages of online payments and their callbacks: changelist, search,
filters, change page (read-only), the refund action and who may use it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rewards.models import Payment, PaymentCallback, PaymentStatus, Subscription
from rewards.payments import provider_get
from rewards.services.payments import payment_callback_receive, payment_checkout_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(settings, member, plan):
    settings.PAYMENT_PROVIDER = "test"
    payment, _c = payment_checkout_start(member=member, plan=plan)
    delivery = provider_get("test").callback_make(payment=payment, status="success")
    payment_callback_receive(
        provider="test", body=delivery.body, headers=delivery.headers
    )
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    return payment


@pytest.fixture
def su_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_payment_changelist_search_filter_and_change_page(su_client, paid, member):
    url = reverse("admin:rewards_payment_changelist")

    assert paid.order_id in su_client.get(url).content.decode()
    assert paid.order_id in su_client.get(url, {"q": paid.order_id}).content.decode()
    assert (
        paid.order_id in su_client.get(url, {"q": member.card_number}).content.decode()
    )
    assert (
        paid.order_id not in su_client.get(url, {"status": "refunded"}).content.decode()
    )
    change = su_client.get(reverse("admin:rewards_payment_change", args=[paid.pk]))
    assert change.status_code == 200
    assert "success" in change.content.decode()  # the callback inline
    assert su_client.get(reverse("admin:rewards_payment_add")).status_code == 403


def test_callback_changelist_and_change_page(su_client, paid):
    callback = PaymentCallback.objects.get()
    url = reverse("admin:rewards_paymentcallback_changelist")

    assert su_client.get(url, {"q": paid.order_id}).status_code == 200
    assert su_client.get(url, {"outcome": "applied"}).status_code == 200
    page = su_client.get(
        reverse("admin:rewards_paymentcallback_change", args=[callback.pk])
    )
    assert page.status_code == 200
    assert (
        su_client.get(reverse("admin:rewards_paymentcallback_add")).status_code == 403
    )


def test_refund_action_refunds_and_ends_the_membership(su_client, paid, member):
    response = su_client.post(
        reverse("admin:rewards_payment_changelist"),
        {"action": "refund_payments", "_selected_action": [paid.pk]},
        follow=True,
    )

    assert "Refund asked for 1 payment" in response.content.decode()
    assert Payment.objects.get(pk=paid.pk).status == PaymentStatus.REFUNDED
    assert Subscription.objects.get(member=member).status == "cancelled"


def test_cashier_may_not_see_payments(client, cashier, paid):
    client.force_login(cashier)
    response = client.get(reverse("admin:rewards_payment_changelist"))
    assert response.status_code == 403


def test_manager_may_refund(client, manager, paid):
    client.force_login(manager)
    page = client.get(reverse("admin:rewards_payment_changelist")).content.decode()
    assert "refund_payments" in page


def test_the_members_data_export_holds_payments_without_the_card_token(paid, member):
    from members.privacy import member_data_export

    Payment.objects.filter(pk=paid.pk).update(provider_token="tok_secret")
    export = member_data_export(member=member)

    (row,) = export["payments"]
    assert row["order_id"] == paid.order_id
    assert "provider_token" not in row
