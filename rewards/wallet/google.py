"""Google Wallet: the loyalty class and object, the signed "save" link
(https://pay.google.com/gp/v/save/<JWT>, RS256 with the service account's key)
and the object's update when the balance changes (PATCH of
walletobjects/v1/loyaltyObject/<id>, with an OAuth token the service account
gets by the JWT-bearer grant at its `token_uri`)."""

from __future__ import annotations

import functools
import json
import time

import httpx
import jwt
from django.conf import settings
from django.core.cache import cache
from django.utils import translation
from django.utils.translation import gettext as _

from members.links import absolute_url
from rewards.models import WalletPass
from rewards.wallet.content import WalletCard

SAVE_URL = "https://pay.google.com/gp/v/save/"
SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer"
CLASS_SUFFIX = "loyalty-card"
TOKEN_CACHE_KEY = "rewards:wallet:google-token"  # noqa: S105 - a cache key


class GoogleWalletError(Exception):
    """The token exchange or the object update failed; the message says how."""


@functools.lru_cache(maxsize=2)
def _service_account(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def service_account() -> dict:
    """The service account's JSON key: client_email, private_key, token_uri."""
    return _service_account(settings.WALLET_GOOGLE_SERVICE_ACCOUNT_FILE)


def class_id() -> str:
    return f"{settings.WALLET_GOOGLE_ISSUER_ID}.{CLASS_SUFFIX}"


def object_id(wallet_pass: WalletPass) -> str:
    return f"{settings.WALLET_GOOGLE_ISSUER_ID}.{wallet_pass.serial_number}"


def loyalty_class(card: WalletCard) -> dict:
    """The program: one class for every member's object."""
    brand = card.brand
    data = {
        "id": class_id(),
        "issuerName": card.program_name,
        "programName": card.program_name,
        "hexBackgroundColor": brand.primary,
        "reviewStatus": "UNDER_REVIEW",
    }
    if brand.logo_url:
        data["programLogo"] = {"sourceUri": {"uri": absolute_url(brand.logo_url)}}
    return data


def loyalty_object(card: WalletCard, wallet_pass: WalletPass) -> dict:
    """The member's card: balance, tier, the card number as a QR code."""
    with translation.override(card.language or None):
        data = {
            "id": object_id(wallet_pass),
            "classId": class_id(),
            "state": "ACTIVE",
            "accountId": card.card_number,
            "accountName": card.holder or card.card_number_display,
            "barcode": {
                "type": "QR_CODE",
                "value": card.card_number,
                "alternateText": card.card_number_display,
            },
            "loyaltyPoints": {
                "label": _("Points"),
                "balance": {"int": card.balance},
            },
        }
        if card.tier:
            data["textModulesData"] = [
                {"id": "tier", "header": _("Tier"), "body": card.tier}
            ]
    return data


def save_url(card: WalletCard, wallet_pass: WalletPass) -> str:
    """The "Save to Google Wallet" link: a JWT signed with the service
    account's key that carries the class and the member's object."""
    account = service_account()
    claims = {
        "iss": account["client_email"],
        "aud": "google",
        "typ": "savetowallet",
        "iat": int(time.time()),
        "origins": [absolute_url("")],
        "payload": {
            "loyaltyClasses": [loyalty_class(card)],
            "loyaltyObjects": [loyalty_object(card, wallet_pass)],
        },
    }
    token = jwt.encode(claims, account["private_key"], algorithm="RS256")
    return SAVE_URL + token


def _access_token(client: httpx.Client) -> str:
    """An OAuth access token for the Wallet API, kept until shortly before it
    expires (the JWT-bearer grant of a service account)."""
    token = cache.get(TOKEN_CACHE_KEY)
    if token:
        return token
    account = service_account()
    token_uri = account.get("token_uri", "https://oauth2.googleapis.com/token")
    now = int(time.time())
    assertion = jwt.encode(
        {
            "iss": account["client_email"],
            "scope": SCOPE,
            "aud": token_uri,
            "iat": now,
            "exp": now + 3600,
        },
        account["private_key"],
        algorithm="RS256",
    )
    try:
        response = client.post(
            token_uri,
            data={
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": assertion,
            },
        )
    except httpx.HTTPError as exc:
        raise GoogleWalletError(f"token: {exc}") from exc
    if response.status_code != 200:
        raise GoogleWalletError(
            f"token: HTTP {response.status_code} {response.text[:200]}"
        )
    body = response.json()
    token = body["access_token"]
    cache.set(TOKEN_CACHE_KEY, token, max(int(body.get("expires_in", 3600)) - 60, 1))
    return token


def loyalty_object_update(card: WalletCard, wallet_pass: WalletPass) -> bool:
    """PATCH the member's object with the current balance and tier. False
    when Google has no such object (the member never saved the card: nothing
    to update); raises GoogleWalletError on any other failure."""
    body = loyalty_object(card, wallet_pass)
    url = (
        settings.WALLET_GOOGLE_API_URL.rstrip("/")
        + "/walletobjects/v1/loyaltyObject/"
        + body["id"]
    )
    with httpx.Client(timeout=settings.WALLET_TIMEOUT) as client:
        token = _access_token(client)
        try:
            response = client.patch(
                url, json=body, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as exc:
            raise GoogleWalletError(f"update: {exc}") from exc
    if response.status_code == 401:
        cache.delete(TOKEN_CACHE_KEY)  # the next try gets a new token
    if response.status_code == 404:
        return False
    if not 200 <= response.status_code < 300:
        raise GoogleWalletError(
            f"update: HTTP {response.status_code} {response.text[:200]}"
        )
    return True
