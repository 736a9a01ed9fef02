"""Webhooks out against a local receiver: what it gets, signed; retries after
it fails; the order of a member's events; nothing for a rolled-back write."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from members.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEvent,
    WebhookEventType,
)
from members.services import (
    webhook_deliveries_due_send,
    webhook_delivery_resend,
    webhook_endpoint_create,
    webhook_event_record,
)
from members.services.webhook_delivery import (
    webhook_retry_delay,
    webhook_signature_verify,
)
from members.tests.factories import MemberFactory
from rewards.services import points_bonus_grant, purchase_record

pytestmark = pytest.mark.django_db

ALL = list(WebhookEventType.values)


@pytest.fixture
def endpoint(webhook_receiver):
    return webhook_endpoint_create(url=webhook_receiver.url, events=ALL)


def _bonus(member, points, key, capture):
    with capture(execute=True):
        points_bonus_grant(
            member=member, points=points, reason="x", idempotency_key=key
        )


def _verify_as_docs_say(secret: str, header: str, body: bytes) -> bool:
    """The receiver's check, run from the snippet in docs/api.md itself."""
    text = (settings.BASE_DIR / "docs" / "api.md").read_text()
    section = text[text.index("### Verifying a request") :]
    snippet = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(snippet, namespace)  # noqa: S102 - our own documentation
    return namespace["webhook_verify"](secret, header, body)


def test_an_enrolment_is_delivered_signed(
    endpoint, webhook_receiver, store, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        member = MemberFactory(store=store)

    (request,) = [
        r for r in webhook_receiver.requests if b"member.enrolled" in r["body"]
    ]
    body = json.loads(request["body"])
    assert body["type"] == "member.enrolled"
    assert body["member"] == member.pk
    assert body["sequence"] == 1
    assert body["data"]["card_number"] == member.card_number
    event = WebhookEvent.objects.get(member=member, type="member.enrolled")
    assert body["id"] == f"evt_{event.pk}"
    header = request["headers"]["Loyalty-Signature"]
    assert _verify_as_docs_say(endpoint.secret, header, request["body"])
    assert webhook_signature_verify(
        secret=endpoint.secret, header=header, body=request["body"]
    )
    assert not _verify_as_docs_say("whsec_other", header, request["body"])
    assert not webhook_signature_verify(
        secret=endpoint.secret, header=header, body=request["body"] + b" "
    )
    delivery = WebhookDelivery.objects.get(event=event)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert [(a.number, a.status_code) for a in delivery.attempt_log.all()] == [(1, 200)]


def test_a_signature_too_old_is_refused(endpoint):
    from members.services.webhook_delivery import webhook_signature

    header = webhook_signature(secret=endpoint.secret, timestamp=1000, body=b"{}")
    assert not webhook_signature_verify(
        secret=endpoint.secret, header=header, body=b"{}", now=1000 + 301
    )
    assert webhook_signature_verify(
        secret=endpoint.secret, header=header, body=b"{}", now=1000 + 299
    )


def test_a_failed_delivery_is_retried_later_then_delivered(
    member, endpoint, webhook_receiver, django_capture_on_commit_callbacks
):
    webhook_receiver.statuses = [500]
    _bonus(member, 40, "b1", django_capture_on_commit_callbacks)

    delivery = WebhookDelivery.objects.get(event__type="points.earned")
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert delivery.last_status_code == 500
    now = timezone.now()
    assert delivery.next_attempt_at > now + dt.timedelta(seconds=25)

    assert webhook_deliveries_due_send(now=now + dt.timedelta(seconds=5)) == 0
    assert len(webhook_receiver.requests) == 1
    assert webhook_deliveries_due_send(now=now + dt.timedelta(seconds=31)) == 1

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 200]
    attempt = delivery.attempt_log.first()
    assert attempt.response_excerpt == "receiver is down"
    first, second = webhook_receiver.requests
    assert first["body"] == second["body"]  # the same event, byte for byte


def test_a_receiver_that_is_down_is_retried_with_backoff_for_a_day_then_given_up(
    member, endpoint, webhook_receiver, django_capture_on_commit_callbacks, settings
):
    webhook_receiver.close()  # connection refused from now on
    _bonus(member, 40, "b1", django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get(event__type="points.earned")
    assert delivery.last_status_code is None
    assert "refused" in delivery.attempt_log.get().error.lower()

    gaps = []
    while delivery.status == DeliveryStatus.PENDING:
        gaps.append(delivery.next_attempt_at - delivery.created_at)
        webhook_deliveries_due_send(now=delivery.next_attempt_at)
        delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 9
    assert [webhook_retry_delay(n) for n in (1, 2, 3)] == [
        dt.timedelta(seconds=30),
        dt.timedelta(minutes=2),
        dt.timedelta(minutes=8),
    ]
    assert webhook_retry_delay(8) == dt.timedelta(hours=6)
    assert dt.timedelta(hours=20) < gaps[-1] <= dt.timedelta(hours=24)


def test_a_members_next_event_waits_until_the_earlier_one_is_delivered(
    member, endpoint, webhook_receiver, django_capture_on_commit_callbacks
):
    webhook_receiver.requests.clear()
    webhook_receiver.statuses = [503]
    _bonus(member, 10, "b1", django_capture_on_commit_callbacks)
    _bonus(member, 20, "b2", django_capture_on_commit_callbacks)
    # Another member's events do not wait for this one's.
    with django_capture_on_commit_callbacks(execute=True):
        other = MemberFactory(phone="+380670000999", email="other@example.com")
    _bonus(other, 5, "b3", django_capture_on_commit_callbacks)

    sent = [(e["member"], e["data"].get("points")) for e in webhook_receiver.events]
    assert sent == [(member.pk, 10), (other.pk, None), (other.pk, 5)]
    later = timezone.now() + dt.timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        webhook_deliveries_due_send(now=later)
    sent = [(e["member"], e["data"].get("points")) for e in webhook_receiver.events]
    assert sent[3:] == [(member.pk, 10), (member.pk, 20)]
    sequences = [
        e["sequence"] for e in webhook_receiver.events if e["member"] == member.pk
    ]
    assert sequences == sorted(sequences)


def test_a_rolled_back_purchase_records_and_sends_nothing(
    member, store, endpoint, webhook_receiver, django_capture_on_commit_callbacks
):
    webhook_receiver.requests.clear()
    before = WebhookEvent.objects.count()

    def refuse(purchase):
        raise RuntimeError("the till's limit check failed")

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
    ):
        purchase_record(
            store=store,
            member=member,
            receipt_id="R1",
            total="200.00",
            on_written=refuse,
        )
    assert WebhookEvent.objects.count() == before
    assert not WebhookDelivery.objects.filter(event__type="points.earned").exists()
    assert webhook_receiver.requests == []

    # The same purchase committed: its event goes, numbered after the others.
    with django_capture_on_commit_callbacks(execute=True):
        purchase_record(store=store, member=member, receipt_id="R1", total="200.00")
    (sent,) = webhook_receiver.events
    assert sent["type"] == "points.earned"
    assert sent["sequence"] == before + 1  # no gap left by the rolled-back one


def test_a_rolled_back_transaction_takes_its_outbox_rows_with_it(member, endpoint):
    before = WebhookEvent.objects.count()
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        webhook_event_record(event="points.earned", member=member, payload={})
        1 / 0  # noqa: B018
    assert WebhookEvent.objects.count() == before


def test_no_endpoint_for_the_type_records_nothing(member, webhook_receiver):
    webhook_endpoint_create(url=webhook_receiver.url, events=["tier.changed"])
    assert (
        webhook_event_record(event="points.earned", member=member, payload={}) is None
    )
    assert not WebhookEvent.objects.exists()


def test_an_inactive_endpoint_gets_nothing(member, webhook_receiver):
    webhook_endpoint_create(url=webhook_receiver.url, events=ALL, active=False)
    assert (
        webhook_event_record(event="points.earned", member=member, payload={}) is None
    )


def test_each_endpoint_gets_its_own_delivery(
    member, webhook_receiver, django_capture_on_commit_callbacks
):
    first = webhook_endpoint_create(url=webhook_receiver.url, events=ALL)
    second = webhook_endpoint_create(
        url=webhook_receiver.url + "/2", events=["points.earned"]
    )
    _bonus(member, 10, "b1", django_capture_on_commit_callbacks)
    event = WebhookEvent.objects.get(type="points.earned")
    assert {d.endpoint_id for d in event.deliveries.all()} == {first.pk, second.pk}
    assert len(webhook_receiver.requests) == 2
    signatures = {r["headers"]["Loyalty-Signature"] for r in webhook_receiver.requests}
    assert len(signatures) == 2  # each signed with its endpoint's secret


def test_resend_delivers_again(
    member, endpoint, webhook_receiver, django_capture_on_commit_callbacks
):
    _bonus(member, 10, "b1", django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get(event__type="points.earned")
    webhook_receiver.requests.clear()
    with django_capture_on_commit_callbacks(execute=True):
        webhook_delivery_resend(delivery=delivery)
    assert webhook_receiver.types == ["points.earned"]
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 2


def test_a_redirect_is_not_followed_and_counts_as_a_failure(
    member, endpoint, webhook_receiver, django_capture_on_commit_callbacks
):
    webhook_receiver.statuses = [302]
    _bonus(member, 10, "b1", django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get(event__type="points.earned")
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_status_code == 302


def test_unknown_event_types_are_refused(webhook_receiver):
    from members.errors import InvalidInput

    with pytest.raises(InvalidInput, match="Unknown event type: points.stolen."):
        webhook_endpoint_create(url=webhook_receiver.url, events=["points.stolen"])
    with pytest.raises(InvalidInput, match="Choose at least one event."):
        webhook_endpoint_create(url=webhook_receiver.url, events=[])
