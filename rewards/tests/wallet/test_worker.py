"""The pass kept current by a real Celery worker (in-process, in-memory
broker): a purchase's ledger entry commits, the worker pushes the iPhone
through the fake APNs and updates the object at the fake Google."""

from __future__ import annotations

import json

import pytest

from rewards.models import WalletPass
from rewards.services import points_adjust
from rewards.wallet import google
from rewards.wallet.services import apple_device_register, wallet_pass_ensure
from tests.celery_worker import wait_for, worker_running

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def celery_worker():
    with worker_running() as worker:
        yield worker


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

    wait_for(lambda: apple_wallet.apns.requests and google_wallet.fake.patches)
    assert apple_wallet.apns.tokens == ["tok"]
    body = json.loads(google_wallet.fake.patches[0]["body"])
    assert body["loyaltyPoints"]["balance"] == {"int": 42}
    wait_for(
        lambda: WalletPass.objects.filter(pk=wallet_pass.pk, sync_due_at=None).exists()
    )
