"""The balance kept current: a ledger change pushes every registered Apple
device through APNs (HTTP/2, a local fake) and PATCHes the Google object (a
local fake); a failure is logged and retried later; a member without a pass
costs one UPDATE that finds nothing, and nothing at all without settings."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rewards.models import AppleDeviceRegistration, WalletPass
from rewards.services import points_adjust
from rewards.wallet import google
from rewards.wallet.services import apple_device_register, wallet_pass_ensure
from rewards.wallet.sync import wallet_passes_sync_due, wallet_retry_delay

pytestmark = pytest.mark.django_db


@pytest.fixture
def both_wallets(apple_wallet, google_wallet, member):
    """A member whose card is in one iPhone and in Google Wallet."""
    wallet_pass = wallet_pass_ensure(member=member)
    apple_device_register(
        wallet_pass=wallet_pass, device_library_id="device-1", push_token="token-1"
    )
    object_id = google.object_id(wallet_pass)
    WalletPass.objects.filter(pk=wallet_pass.pk).update(google_object_id=object_id)
    google_wallet.fake.objects[object_id] = {"id": object_id}  # the member saved it
    return wallet_pass


def _earn(member, points, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        points_adjust(member=member, points=points, reason="gift", created_by=None)


def test_a_ledger_change_pushes_apple_and_updates_google(
    both_wallets,
    apple_wallet,
    google_wallet,
    member,
    django_capture_on_commit_callbacks,
):
    _earn(member, 80, django_capture_on_commit_callbacks)

    (push,) = apple_wallet.apns.requests
    assert push["method"] == "POST"
    assert push["path"] == "/3/device/token-1"
    assert push["headers"]["apns-topic"] == apple_wallet.WALLET_APPLE_PASS_TYPE_ID
    assert json.loads(push["body"]) == {}

    (patch,) = google_wallet.fake.patches
    assert patch["path"].endswith(
        "/walletobjects/v1/loyaltyObject/" + google.object_id(both_wallets)
    )
    assert patch["headers"]["Authorization"] == "Bearer fake-token"
    body = json.loads(patch["body"])
    assert body["loyaltyPoints"]["balance"] == {"int": 80}

    both_wallets.refresh_from_db()
    assert both_wallets.sync_due_at is None
    assert both_wallets.synced_version == both_wallets.content_version == 1
    assert both_wallets.last_sync_error == ""


def test_a_failed_push_is_logged_and_retried_later(
    both_wallets,
    apple_wallet,
    google_wallet,
    member,
    django_capture_on_commit_callbacks,
    caplog,
):
    apple_wallet.apns.statuses["token-1"] = [(500, "InternalServerError")]
    google_wallet.fake.patch_statuses = [503]
    before = timezone.now()

    with caplog.at_level(logging.WARNING, logger="rewards.wallet"):
        _earn(member, 30, django_capture_on_commit_callbacks)

    both_wallets.refresh_from_db()
    assert both_wallets.sync_attempts == 1
    assert "APNs device-1: 500 InternalServerError" in both_wallets.last_sync_error
    assert "Google: update: HTTP 503" in both_wallets.last_sync_error
    assert both_wallets.sync_due_at >= before + wallet_retry_delay(1)
    assert "sync failed (attempt 1)" in caplog.text

    # Not yet due: the sweeper leaves it.
    assert wallet_passes_sync_due(now=timezone.now()) == 0
    assert len(apple_wallet.apns.requests) == 1

    # Due: tried again, and both fakes answer now.
    assert wallet_passes_sync_due(now=both_wallets.sync_due_at) == 1
    assert len(apple_wallet.apns.requests) == 2
    assert json.loads(google_wallet.fake.patches[-1]["body"])["loyaltyPoints"][
        "balance"
    ] == {"int": 30}
    both_wallets.refresh_from_db()
    assert both_wallets.sync_due_at is None
    assert both_wallets.sync_attempts == 0


def test_retries_stop_after_the_last_attempt(
    both_wallets,
    apple_wallet,
    google_wallet,
    member,
    settings,
    caplog,
    django_capture_on_commit_callbacks,
):
    settings.WALLET_RETRY_MAX_ATTEMPTS = 2
    apple_wallet.apns.statuses["token-1"] = [(500, "")] * 2
    _earn(member, 10, django_capture_on_commit_callbacks)
    both_wallets.refresh_from_db()
    with caplog.at_level(logging.ERROR, logger="rewards.wallet"):
        wallet_passes_sync_due(now=both_wallets.sync_due_at)
    both_wallets.refresh_from_db()
    assert both_wallets.sync_due_at is None
    assert both_wallets.sync_attempts == 2
    assert "sync failed 2 times" in caplog.text


def test_retry_delay_grows_and_is_capped():
    assert wallet_retry_delay(1) == dt.timedelta(seconds=60)
    assert wallet_retry_delay(2) == dt.timedelta(seconds=240)
    assert wallet_retry_delay(20) == dt.timedelta(hours=6)


def test_a_dead_device_token_is_forgotten_not_retried(
    both_wallets, apple_wallet, member, django_capture_on_commit_callbacks
):
    apple_wallet.apns.statuses["token-1"] = [(410, "Unregistered")]
    _earn(member, 5, django_capture_on_commit_callbacks)
    assert not AppleDeviceRegistration.objects.exists()
    both_wallets.refresh_from_db()
    assert both_wallets.sync_due_at is None
    assert both_wallets.sync_attempts == 0


def test_a_google_object_never_saved_is_no_failure(
    apple_wallet, google_wallet, member, django_capture_on_commit_callbacks
):
    wallet_pass = wallet_pass_ensure(member=member)
    WalletPass.objects.filter(pk=wallet_pass.pk).update(
        google_object_id=google.object_id(wallet_pass)
    )
    _earn(member, 5, django_capture_on_commit_callbacks)
    assert len(google_wallet.fake.patches) == 1  # answered 404
    wallet_pass.refresh_from_db()
    assert wallet_pass.sync_due_at is None
    assert wallet_pass.last_sync_error == ""


def test_a_member_without_a_pass_costs_one_update_and_queues_nothing(
    apple_wallet, member, django_capture_on_commit_callbacks
):
    with CaptureQueriesContext(connection) as queries:
        _earn(member, 5, django_capture_on_commit_callbacks)
    touching = [q["sql"] for q in queries if "walletpass" in q["sql"].lower()]
    assert len(touching) == 1
    assert touching[0].lstrip().upper().startswith("UPDATE")
    assert apple_wallet.apns.requests == []


def test_without_settings_a_ledger_write_never_touches_the_passes(
    member, django_capture_on_commit_callbacks
):
    wallet_pass_ensure(member=member)
    with CaptureQueriesContext(connection) as queries:
        _earn(member, 5, django_capture_on_commit_callbacks)
    assert not [q for q in queries if "walletpass" in q["sql"].lower()]
