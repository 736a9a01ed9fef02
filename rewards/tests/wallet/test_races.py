"""Races on PostgreSQL's row locks: two syncs of one changed pass push once
(the claim), and two first downloads at once make one pass."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.utils import timezone

from rewards.models import WalletPass
from rewards.wallet.services import apple_device_register, wallet_pass_ensure
from rewards.wallet.sync import wallet_pass_sync

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _together(target, count: int = 2) -> list:
    results: list = []
    barrier = threading.Barrier(count)

    def run():
        try:
            barrier.wait()
            results.append(target())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_two_syncs_of_one_change_push_once(apple_wallet, member):
    wallet_pass = wallet_pass_ensure(member=member)
    apple_device_register(
        wallet_pass=wallet_pass, device_library_id="iphone", push_token="tok"
    )
    WalletPass.objects.filter(pk=wallet_pass.pk).update(
        sync_due_at=timezone.now(), content_version=1
    )
    apple_wallet.apns.delay = 0.5  # the first is still sending when the second comes

    results = _together(lambda: wallet_pass_sync(member_id=member.pk))

    assert sorted(results) == ["", "synced"]
    assert apple_wallet.apns.tokens == ["tok"]


def test_two_first_downloads_make_one_pass(apple_wallet, member):
    results = _together(lambda: wallet_pass_ensure(member=member).serial_number)

    assert len(results) == 2
    assert len(set(results)) == 1
    assert WalletPass.objects.filter(member=member).count() == 1
