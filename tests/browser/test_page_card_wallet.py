"""The card page's wallet button in a real Chromium: with Apple Wallet
configured (a test certificate), "Add to Apple Wallet" downloads the member's
signed pass; the Google button is hidden while Google is not configured."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from playwright.sync_api import expect

from members.tests.factories import MemberFactory, StoreFactory, UserFactory
from rewards.services import points_adjust
from rewards.tests.wallet.fakes import apple_credentials
from tests.browser._journey import browser_watch, portal_login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_add_to_apple_wallet_downloads_the_members_pass(
    page, live_server, settings, tmp_path
):
    for name, value in apple_credentials(tmp_path / "apple").items():
        setattr(settings, name, value)
    store = StoreFactory(code="wallet", name="Wallet Street")
    user = UserFactory(username="taras@example.com")
    member = MemberFactory(store=store, user=user, email="taras@example.com")
    points_adjust(member=member, points=321, reason="Welcome", created_by=None)

    page.set_default_timeout(10_000)
    watch = browser_watch(page)
    portal_login(page, live_server.url, "taras@example.com", next_name="portal:card")

    expect(page.get_by_test_id("wallet-google")).to_have_count(0)
    with page.expect_download() as download_info:
        page.get_by_test_id("wallet-apple").click()
    download = download_info.value
    assert download.suggested_filename == "card.pkpass"
    with zipfile.ZipFile(io.BytesIO(open(download.path(), "rb").read())) as bundle:  # noqa: SIM115
        data = json.loads(bundle.read("pass.json"))
        assert {"manifest.json", "signature"} <= set(bundle.namelist())
    assert data["barcodes"][0]["message"] == member.card_number
    assert data["storeCard"]["headerFields"][0]["value"] == 321
    watch.assert_clean()
