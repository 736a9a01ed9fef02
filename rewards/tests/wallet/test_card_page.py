"""The card page shows "Add to Apple Wallet" and "Save to Google Wallet" only
where the certificates are configured; without them, no button at all."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _card(client, customer):
    user, _member = customer
    client.force_login(user)
    response = client.get(reverse("portal:card"))
    assert response.status_code == 200
    return response.content.decode()


def test_without_settings_the_buttons_are_hidden(client, customer):
    page = _card(client, customer)
    assert 'data-testid="wallet-buttons"' not in page
    assert "Add to Apple Wallet" not in page
    assert "Save to Google Wallet" not in page


def test_with_apple_configured_only_its_button_shows(client, customer, apple_wallet):
    page = _card(client, customer)
    assert "Add to Apple Wallet" in page
    assert reverse("wallet:apple_pass_download") in page
    assert "Save to Google Wallet" not in page


def test_with_both_configured_both_buttons_show(
    client, customer, apple_wallet, google_wallet
):
    page = _card(client, customer)
    assert reverse("wallet:apple_pass_download") in page
    assert reverse("wallet:google_save") in page


def test_an_incomplete_apple_configuration_shows_no_button(
    client, customer, apple_wallet, settings
):
    settings.WALLET_APPLE_WWDR = ""
    page = _card(client, customer)
    assert "Add to Apple Wallet" not in page
