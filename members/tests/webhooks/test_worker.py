"""A webhook delivered by a real Celery worker (in-process, in-memory broker):
queued on commit by the enrolment, sent by the worker, signed."""

from __future__ import annotations

import time

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connection

from loyalty_site.celery import app
from members.models import DeliveryStatus, WebhookDelivery
from members.services import webhook_endpoint_create
from members.services.webhook_delivery import webhook_signature_verify
from members.tests.factories import MemberFactory

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

TEST_CONF = {
    "broker_url": "memory://",
    "result_backend": "cache+memory://",
    "broker_transport_options": {"polling_interval": 0.05},
    "task_always_eager": False,
}


def _close_db_connection(**kwargs) -> None:
    connection.close()  # the worker thread's own, before the test db is dropped


def _reset_app_connections() -> None:
    app._pool = None
    app._backend_cache = None
    if getattr(app._local, "backend", None) is not None:
        del app._local.backend
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@pytest.fixture(scope="module")
def celery_worker():
    saved = {key: app.conf.get(key) for key in TEST_CONF}
    app.conf.update(TEST_CONF)
    _reset_app_connections()
    task_postrun.connect(_close_db_connection, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False) as worker:
            yield worker
    finally:
        task_postrun.disconnect(_close_db_connection)
        app.conf.update(saved)
        _reset_app_connections()


def _wait_for(predicate, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_the_worker_delivers_an_enrolment_signed(celery_worker, webhook_receiver):
    endpoint = webhook_endpoint_create(
        url=webhook_receiver.url, events=["member.enrolled"]
    )
    member = MemberFactory()

    _wait_for(lambda: webhook_receiver.requests)
    (request,) = webhook_receiver.requests
    assert webhook_receiver.events[0]["member"] == member.pk
    assert webhook_signature_verify(
        secret=endpoint.secret,
        header=request["headers"]["Loyalty-Signature"],
        body=request["body"],
    )
    _wait_for(
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
    _wait_for(lambda: WebhookDelivery.objects.filter(attempts=1).exists())
    assert webhook_deliveries_due_send.delay().get(timeout=20) == 0  # not yet due
    # Its 30 seconds have passed.
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    assert webhook_deliveries_due_send.delay().get(timeout=20) == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)
    assert [r["body"] for r in webhook_receiver.requests][0] == (
        webhook_receiver.requests[1]["body"]
    )
