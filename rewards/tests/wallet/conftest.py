"""Wallet fixtures: Apple and Google configured against local fakes."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from rewards.tests.wallet.fakes import (
    FakeApns,
    FakeGoogle,
    apple_credentials,
    google_service_account,
)


@pytest.fixture(scope="session")
def _apple_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("apple")
    return folder, apple_credentials(folder)


@pytest.fixture
def apple_wallet(settings, _apple_files):
    """Apple configured with a self-signed certificate; APNs is a local fake."""
    folder, values = _apple_files
    apns = FakeApns()
    for name, value in values.items():
        setattr(settings, name, value)
    settings.WALLET_APPLE_APNS_URL = apns.url
    settings.WALLET_TIMEOUT = 5.0
    yield SimpleNamespace(apns=apns, folder=folder, **values)
    apns.close()


@pytest.fixture
def google_wallet(settings, tmp_path):
    """Google configured with a test service account; the API is a local fake."""
    from django.core.cache import cache

    fake = FakeGoogle()
    path, public_key = google_service_account(tmp_path / "google", fake.url + "/token")
    settings.WALLET_GOOGLE_ISSUER_ID = "3388000000012345678"
    settings.WALLET_GOOGLE_SERVICE_ACCOUNT_FILE = path
    settings.WALLET_GOOGLE_API_URL = fake.url
    settings.WALLET_TIMEOUT = 5.0
    cache.delete("rewards:wallet:google-token")
    yield SimpleNamespace(fake=fake, public_key=public_key, path=path)
    fake.close()
