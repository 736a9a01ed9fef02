"""The pass kept current by a real Celery worker (in-process, in-memory
broker): a purchase's ledger entry commits, the worker pushes the iPhone
through the fake APNs and updates the object at the fake Google."""

from __future__ import annotations

import json
import time

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connection

from loyalty_site.celery import app
from rewards.models import WalletPass
from rewards.services import points_adjust
from rewards.wallet import google
from rewards.wallet.services import apple_device_register, wallet_pass_ensure

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


def test_the_worker_pushes_apple_and_updates_google_after_commit(
    celery_worker, apple_wallet, google_wallet, member
):
    wallet_pass = wallet_pass_ensure(member=member)
    apple_device_register(
        wallet_pass=wallet_pass, device_library_id="iphone", push_token="tok"
    )
    object_id = google.object_id(wallet_pass)
    WalletPass.objects.filter(pk=wallet_pass.pk).update(google_object_id=object_id)
    google_wallet.fake.objects[object_id] = {"id": object_id}

    points_adjust(member=member, points=42, reason="gift", created_by=None)

    _wait_for(lambda: apple_wallet.apns.requests and google_wallet.fake.patches)
    assert apple_wallet.apns.tokens == ["tok"]
    body = json.loads(google_wallet.fake.patches[0]["body"])
    assert body["loyaltyPoints"]["balance"] == {"int": 42}
    _wait_for(
        lambda: WalletPass.objects.filter(pk=wallet_pass.pk, sync_due_at=None).exists()
    )
