"""A webhook delivered by a real Celery worker (in-process, in-memory broker):
queued on commit by the enrolment, sent by the worker, signed."""

from __future__ import annotations

import pytest

from members.models import DeliveryStatus, WebhookDelivery
from members.services import webhook_endpoint_create
from members.services.webhook_delivery import webhook_signature_verify
from members.tests.factories import MemberFactory
from tests.celery_worker import wait_for, worker_running

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def celery_worker():
    with worker_running() as worker:
        yield worker


def test_the_worker_delivers_an_enrolment_signed(celery_worker, webhook_receiver):
    endpoint = webhook_endpoint_create(
        url=webhook_receiver.url, events=["member.enrolled"]
    )
    member = MemberFactory()

    wait_for(lambda: webhook_receiver.requests)
    (request,) = webhook_receiver.requests
    assert webhook_receiver.events[0]["member"] == member.pk
    assert webhook_signature_verify(
        secret=endpoint.secret,
        header=request["headers"]["Loyalty-Signature"],
        body=request["body"],
    )
    wait_for(
        lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).exists()
    )


def test_the_beat_task_retries_what_the_receiver_refused(
    celery_worker, webhook_receiver
):
    from django.utils import timezone

    from members.tasks import webhook_deliveries_due_send

    webhook_endpoint_create(url=webhook_receiver.url, events=["member.enrolled"])
    webhook_receiver.statuses = [500]
    MemberFactory()
    wait_for(lambda: WebhookDelivery.objects.filter(attempts=1).exists())
    assert webhook_deliveries_due_send.delay().get(timeout=20) == 0  # not yet due
    # Its 30 seconds have passed.
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    assert webhook_deliveries_due_send.delay().get(timeout=20) == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)
    assert [r["body"] for r in webhook_receiver.requests][0] == (
        webhook_receiver.requests[1]["body"]
    )
