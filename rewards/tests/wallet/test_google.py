"""The Google Wallet "save" link: a JWT signed with the service account's key
(RS256) that carries the program's class and the member's loyalty object."""

from __future__ import annotations

import jwt
import pytest
from django.urls import reverse

from members.models import Member
from rewards.services import points_adjust

pytestmark = pytest.mark.django_db

SAVE = "https://pay.google.com/gp/v/save/"


def test_save_link_is_a_signed_jwt_with_the_loyalty_object(
    google_wallet, client, customer, settings
):
    user, member = customer
    Member.objects.filter(pk=member.pk).update(language="en")
    points_adjust(member=member, points=120, reason="start", created_by=None)
    client.force_login(user)

    response = client.get(reverse("wallet:google_save"))

    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(SAVE)
    claims = jwt.decode(
        location.removeprefix(SAVE),
        google_wallet.public_key,
        algorithms=["RS256"],
        audience="google",
    )
    assert claims["typ"] == "savetowallet"
    assert claims["iss"] == "wallet@loyalty-test.iam.gserviceaccount.com"
    assert claims["origins"] == [settings.SITE_URL]
    (loyalty,) = claims["payload"]["loyaltyObjects"]
    (program,) = claims["payload"]["loyaltyClasses"]
    member.wallet_pass.refresh_from_db()
    issuer = settings.WALLET_GOOGLE_ISSUER_ID
    assert loyalty["id"] == f"{issuer}.{member.wallet_pass.serial_number}"
    assert loyalty["id"] == member.wallet_pass.google_object_id
    assert loyalty["classId"] == program["id"] == f"{issuer}.loyalty-card"
    assert loyalty["state"] == "ACTIVE"
    assert loyalty["loyaltyPoints"]["balance"] == {"int": 120}
    assert loyalty["barcode"]["type"] == "QR_CODE"
    assert loyalty["barcode"]["value"] == member.card_number
    # Signed with the service account's key: another key does not verify it.
    from cryptography.hazmat.primitives.asymmetric import rsa

    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            location.removeprefix(SAVE),
            stranger.public_key(),
            algorithms=["RS256"],
            audience="google",
        )


def test_save_link_needs_the_member_and_the_settings(client, customer):
    user, _member = customer
    url = reverse("wallet:google_save")
    assert client.get(url).status_code == 302  # to the login
    assert (
        "/accounts/login" in client.get(url)["Location"]
        or "login" in client.get(url)["Location"]
    )
    client.force_login(user)
    assert client.get(url).status_code == 404  # not configured
