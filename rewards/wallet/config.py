"""Which wallets are configured (settings WALLET_*, docs/operations.md)."""

from __future__ import annotations

from django.conf import settings

APPLE_SETTINGS = (
    "WALLET_APPLE_PASS_TYPE_ID",
    "WALLET_APPLE_TEAM_ID",
    "WALLET_APPLE_CERT",
    "WALLET_APPLE_KEY",
    "WALLET_APPLE_WWDR",
)
GOOGLE_SETTINGS = ("WALLET_GOOGLE_ISSUER_ID", "WALLET_GOOGLE_SERVICE_ACCOUNT_FILE")


def apple_wallet_enabled() -> bool:
    """Every Apple setting given: passes can be signed."""
    return all(getattr(settings, name, "") for name in APPLE_SETTINGS)


def google_wallet_enabled() -> bool:
    """The issuer id and the service account key given: save links can be signed."""
    return all(getattr(settings, name, "") for name in GOOGLE_SETTINGS)


def wallet_enabled() -> bool:
    return apple_wallet_enabled() or google_wallet_enabled()
