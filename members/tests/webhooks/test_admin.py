"""The webhook admin: endpoints (secret shown once), events, the delivery log
and its resend action, for a Manager."""

from __future__ import annotations

import pytest
from django.urls import reverse

from members.models import (
    AuditAction,
    DeliveryStatus,
    StaffAuditEvent,
    WebhookDelivery,
    WebhookEndpoint,
)
from members.services import webhook_endpoint_create
from rewards.services import points_bonus_grant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def delivered(member, webhook_receiver, django_capture_on_commit_callbacks):
    endpoint = webhook_endpoint_create(
        url=webhook_receiver.url, events=["points.earned"]
    )
    webhook_receiver.statuses = [500]
    with django_capture_on_commit_callbacks(execute=True):
        points_bonus_grant(member=member, points=10, reason="x", idempotency_key="k")
    return endpoint, WebhookDelivery.objects.get()


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


class TestEndpointAdmin:
    def test_add_shows_the_secret_once(self, manager_client):
        response = manager_client.post(
            reverse("admin:members_webhookendpoint_add"),
            {
                "url": "https://crm.example.com/hooks",
                "description": "CRM",
                "events": ["points.earned", "tier.changed"],
                "active": "on",
            },
            follow=True,
        )
        endpoint = WebhookEndpoint.objects.get()
        assert endpoint.events == ["points.earned", "tier.changed"]
        assert (
            StaffAuditEvent.objects.get(object_type="members.webhookendpoint").action
            == AuditAction.RECORD_ADDED
        )
        assert endpoint.secret.startswith("whsec_")
        assert any(endpoint.secret in m for m in _messages(response))
        page = manager_client.get(
            reverse("admin:members_webhookendpoint_change", args=[endpoint.pk])
        )
        assert endpoint.secret.encode() not in page.content
        assert endpoint.secret[-4:].encode() in page.content  # masked

    def test_an_unknown_url_or_no_event_is_a_form_error(self, manager_client):
        response = manager_client.post(
            reverse("admin:members_webhookendpoint_add"),
            {"url": "not a url", "events": []},
        )
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert set(errors) == {"url", "events"}
        assert not WebhookEndpoint.objects.exists()

    def test_change_keeps_the_secret(self, manager_client, delivered):
        endpoint, _delivery = delivered
        secret = endpoint.secret
        manager_client.post(
            reverse("admin:members_webhookendpoint_change", args=[endpoint.pk]),
            {"url": endpoint.url, "description": "", "events": ["tier.changed"]},
        )
        endpoint.refresh_from_db()
        assert (endpoint.events, endpoint.active, endpoint.secret) == (
            ["tier.changed"],
            False,
            secret,
        )

    def test_rotate_shows_a_new_secret(self, manager_client, delivered):
        endpoint, _delivery = delivered
        old = endpoint.secret
        response = manager_client.post(
            reverse("admin:members_webhookendpoint_changelist"),
            {"action": "rotate_secret", "_selected_action": [endpoint.pk]},
            follow=True,
        )
        endpoint.refresh_from_db()
        assert endpoint.secret != old
        assert any(endpoint.secret in m for m in _messages(response))

    def test_delete_is_audited(self, manager_client, delivered):
        endpoint, _delivery = delivered
        manager_client.post(
            reverse("admin:members_webhookendpoint_delete", args=[endpoint.pk]),
            {"post": "yes"},
        )
        assert not WebhookEndpoint.objects.exists()
        assert not WebhookDelivery.objects.exists()
        assert StaffAuditEvent.objects.filter(
            object_type="members.webhookendpoint",
            object_id=str(endpoint.pk),
            action=AuditAction.RECORD_DELETED,
        ).exists()

    def test_changelist_and_search(self, manager_client, delivered):
        url = reverse("admin:members_webhookendpoint_changelist")
        assert manager_client.get(url, {"q": "127.0.0.1"}).status_code == 200


class TestLogAdmin:
    def test_delivery_page_shows_the_attempts_and_codes(
        self, manager_client, delivered
    ):
        _endpoint, delivery = delivered
        response = manager_client.get(
            reverse("admin:members_webhookdelivery_change", args=[delivery.pk])
        )
        assert response.status_code == 200
        assert b"receiver is down" in response.content
        assert b"500" in response.content
        listing = manager_client.get(
            reverse("admin:members_webhookdelivery_changelist"), {"q": "points"}
        )
        assert list(listing.context["cl"].result_list) == [delivery]
        event_page = manager_client.get(
            reverse("admin:members_webhookevent_change", args=[delivery.event_id])
        )
        assert event_page.status_code == 200

    def test_resend_action_delivers_again(
        self,
        manager_client,
        delivered,
        webhook_receiver,
        django_capture_on_commit_callbacks,
    ):
        _endpoint, delivery = delivered
        assert delivery.status == DeliveryStatus.PENDING
        with django_capture_on_commit_callbacks(execute=True):
            response = manager_client.post(
                reverse("admin:members_webhookdelivery_changelist"),
                {"action": "resend", "_selected_action": [delivery.pk]},
                follow=True,
            )
        assert "1 delivery queued again." in _messages(response)
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.DELIVERED
        assert [
            r["headers"]["Loyalty-Event-Type"] for r in webhook_receiver.requests
        ] == [
            "points.earned",
            "points.earned",
        ]

    def test_a_cashier_sees_no_webhooks(self, client, cashier):
        client.force_login(cashier)
        response = client.get(reverse("admin:members_webhookdelivery_changelist"))
        assert response.status_code == 403
