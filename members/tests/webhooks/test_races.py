"""Concurrent writers on one member with a webhook endpoint: the member's
events are numbered without gaps in commit order and reach the receiver in
that order, each once, while the deliveries run in the writers' threads.
PostgreSQL only: SQLite serializes all writers."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from members.models import DeliveryStatus, WebhookDelivery, WebhookEvent
from members.services import webhook_deliveries_due_send, webhook_endpoint_create
from members.tests.factories import MemberFactory, StoreFactory
from rewards.services import purchase_record

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 12


def _together(n: int, work) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def target(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - the test reads what each got
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(t.is_alive() for t in threads), "a thread is stuck (deadlock?)"
    return results


def test_concurrent_purchases_number_and_deliver_a_members_events_in_order(
    webhook_receiver,
):
    store = StoreFactory(code="race", name="Race Street")
    webhook_endpoint_create(url=webhook_receiver.url, events=["points.earned"])
    member = MemberFactory(store=store)
    other = MemberFactory(store=store, phone="+380670000777", email="o@example.com")

    results = _together(
        THREADS,
        lambda i: purchase_record(
            store=store,
            member=member if i % 3 else other,
            receipt_id=f"R{i}",
            total="150.00",
        ),
    )
    assert not [r for r in results if isinstance(r, Exception)]
    webhook_deliveries_due_send()  # what a lost hand-over left, if any

    for who in (member, other):
        sequences = list(
            WebhookEvent.objects.filter(member=who)
            .order_by("pk")
            .values_list("sequence", flat=True)
        )
        assert sequences == list(range(1, len(sequences) + 1))
        arrived = [
            e["sequence"] for e in webhook_receiver.events if e["member"] == who.pk
        ]
        assert arrived == sequences  # each once, in order
    assert not WebhookDelivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists()


def test_concurrent_sweepers_never_send_one_delivery_twice(webhook_receiver):
    store = StoreFactory(code="race", name="Race Street")
    webhook_endpoint_create(url=webhook_receiver.url, events=["points.earned"])
    members = [
        MemberFactory(store=store, phone=f"+38067100{i:04d}", email=f"s{i}@example.com")
        for i in range(6)
    ]
    webhook_receiver.statuses = [503] * 6  # each member's first event fails
    for n, who in enumerate(members):
        for k in range(3):
            purchase_record(store=store, member=who, receipt_id=f"R{n}-{k}", total="50")
    assert len(webhook_receiver.requests) == 6  # the rest wait behind them
    webhook_receiver.requests.clear()

    later = timezone.now() + dt.timedelta(minutes=1)
    _together(4, lambda i: [webhook_deliveries_due_send(now=later) for _ in range(5)])
    webhook_deliveries_due_send(now=later)

    ids = [e["id"] for e in webhook_receiver.events]
    assert len(ids) == len(set(ids)) == 18
    for who in members:
        arrived = [
            e["sequence"] for e in webhook_receiver.events if e["member"] == who.pk
        ]
        assert arrived == sorted(arrived)
