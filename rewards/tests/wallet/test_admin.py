"""The wallet passes admin: changelist, search, change page (read-only, with
the Apple devices), and no add."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rewards.wallet.services import apple_device_register, wallet_pass_ensure

pytestmark = pytest.mark.django_db


@pytest.fixture
def su_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_wallet_pass_changelist_search_and_change_page(su_client, member):
    wallet_pass = wallet_pass_ensure(member=member)
    apple_device_register(
        wallet_pass=wallet_pass, device_library_id="device-in-admin", push_token="t"
    )
    url = reverse("admin:rewards_walletpass_changelist")

    assert wallet_pass.serial_number in su_client.get(url).content.decode()
    found = su_client.get(url, {"q": member.card_number}).content.decode()
    assert wallet_pass.serial_number in found
    missing = su_client.get(url, {"q": "no-such-card"}).content.decode()
    assert wallet_pass.serial_number not in missing
    change = su_client.get(
        reverse("admin:rewards_walletpass_change", args=[wallet_pass.pk])
    )
    assert change.status_code == 200
    assert "device-in-admin" in change.content.decode()
    assert su_client.get(reverse("admin:rewards_walletpass_add")).status_code == 403
