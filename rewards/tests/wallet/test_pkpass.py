"""The Apple pass passes a structural check: every file is in the manifest
with its SHA-1, the manifest's detached PKCS#7 signature verifies with the
configured certificate (WWDR intermediate included), pass.json carries the
member's card, and the download is the member's own."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import zipfile

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from django.urls import reverse

from members.models import Member
from rewards.models import WalletPass
from rewards.services import points_adjust
from rewards.wallet.content import wallet_card_get
from rewards.wallet.pkpass import pkpass_build
from rewards.wallet.services import wallet_pass_ensure

pytestmark = pytest.mark.django_db


def _unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        return {name: bundle.read(name) for name in bundle.namelist()}


def _openssl_verify(tmp_path, files: dict[str, bytes], wwdr_pem: str) -> bool:
    (tmp_path / "manifest.json").write_bytes(files["manifest.json"])
    (tmp_path / "signature").write_bytes(files["signature"])
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [  # noqa: S607 - the system's openssl
            "openssl",
            "smime",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            str(tmp_path / "signature"),
            "-content",
            str(tmp_path / "manifest.json"),
            "-CAfile",
            wwdr_pem,
            "-purpose",
            "any",
            "-out",
            str(tmp_path / "verified"),
        ],
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


@pytest.fixture
def card_member(customer):
    _user, member = customer
    Member.objects.filter(pk=member.pk).update(language="uk")
    member.refresh_from_db()
    points_adjust(member=member, points=250, reason="start", created_by=None)
    return member


def test_pass_manifest_lists_every_file_with_its_sha1(apple_wallet, card_member):
    wallet_pass = wallet_pass_ensure(member=card_member)
    files = _unzip(pkpass_build(wallet_card_get(member=card_member), wallet_pass))

    manifest = json.loads(files["manifest.json"])
    signed = set(files) - {"manifest.json", "signature"}
    assert set(manifest) == signed
    for name, digest in manifest.items():
        assert hashlib.sha1(files[name]).hexdigest() == digest, name  # noqa: S324
    assert {"pass.json", "icon.png", "icon@2x.png", "logo.png"} <= signed
    for language in ("uk", "ru", "ro", "en"):
        assert f"{language}.lproj/pass.strings" in signed


def test_pass_signature_verifies_and_carries_the_wwdr_certificate(
    apple_wallet, card_member, tmp_path
):
    wallet_pass = wallet_pass_ensure(member=card_member)
    files = _unzip(pkpass_build(wallet_card_get(member=card_member), wallet_pass))

    wwdr_pem = str(apple_wallet.folder / "wwdr.pem")
    assert _openssl_verify(tmp_path, files, wwdr_pem)
    certificates = pkcs7.load_der_pkcs7_certificates(files["signature"])
    with open(apple_wallet.WALLET_APPLE_CERT, "rb") as f:
        ours = x509.load_pem_x509_certificate(f.read())
    wwdr = x509.load_der_x509_certificate(
        open(apple_wallet.WALLET_APPLE_WWDR, "rb").read()  # noqa: SIM115
    )
    der = {c.public_bytes(serialization.Encoding.DER) for c in certificates}
    assert ours.public_bytes(serialization.Encoding.DER) in der
    assert wwdr.public_bytes(serialization.Encoding.DER) in der

    # A manifest changed after signing no longer verifies.
    files["manifest.json"] = files["manifest.json"].replace(b'"', b"'", 1)
    assert not _openssl_verify(tmp_path, files, wwdr_pem)


def test_pass_json_shows_the_card_balance_and_web_service(apple_wallet, card_member):
    wallet_pass = wallet_pass_ensure(member=card_member)
    files = _unzip(pkpass_build(wallet_card_get(member=card_member), wallet_pass))
    data = json.loads(files["pass.json"])

    assert data["formatVersion"] == 1
    assert data["passTypeIdentifier"] == apple_wallet.WALLET_APPLE_PASS_TYPE_ID
    assert data["teamIdentifier"] == apple_wallet.WALLET_APPLE_TEAM_ID
    assert data["serialNumber"] == wallet_pass.serial_number
    assert data["authenticationToken"] == wallet_pass.auth_token
    assert len(data["authenticationToken"]) >= 16
    assert data["webServiceURL"].endswith("/wallet/apple/")
    # The same number the card page's QR carries.
    assert data["barcodes"][0] == {
        "format": "PKBarcodeFormatQR",
        "message": card_member.card_number,
        "messageEncoding": "iso-8859-1",
        "altText": data["storeCard"]["auxiliaryFields"][0]["value"],
    }
    header = data["storeCard"]["headerFields"][0]
    assert header["value"] == 250
    assert header["label"] == "balance_label"
    strings = files["uk.lproj/pass.strings"].decode("utf-8")
    assert '"balance_label" = ' in strings
    assert "%@" in strings.split('"balance_changed" = ', 1)[1].split("\n", 1)[0]


def test_download_needs_the_member_and_makes_one_pass(apple_wallet, client, customer):
    user, member = customer
    url = reverse("wallet:apple_pass_download")
    assert client.get(url).status_code == 302  # to the login

    client.force_login(user)
    first = client.get(url)
    second = client.get(url)

    assert first.status_code == 200
    assert first["Content-Type"] == "application/vnd.apple.pkpass"
    assert "attachment" in first["Content-Disposition"]
    assert WalletPass.objects.filter(member=member).count() == 1
    serials = {
        json.loads(_unzip(r.content)["pass.json"])["serialNumber"]
        for r in (first, second)
    }
    assert serials == {member.wallet_pass.serial_number}


def test_without_certificates_the_download_is_not_there(client, customer):
    user, _member = customer
    client.force_login(user)
    response = client.get(reverse("wallet:apple_pass_download"))
    assert response.status_code == 404
    assert not WalletPass.objects.exists()


def test_a_missing_certificate_file_is_a_clear_503_and_a_deploy_error(
    apple_wallet, client, customer, settings, tmp_path
):
    from rewards.wallet.checks import wallet_settings_check

    assert wallet_settings_check() == []
    settings.WALLET_APPLE_KEY = str(tmp_path / "gone.key")
    user, _member = customer
    client.force_login(user)

    response = client.get(reverse("wallet:apple_pass_download"))

    assert response.status_code == 503
    assert "cannot be made" in response.json()["detail"]
    (problem,) = wallet_settings_check()
    assert problem.id == "rewards.E010"
    assert "gone.key" in problem.msg


def test_a_half_configured_wallet_is_a_deploy_warning(settings):
    from rewards.wallet.checks import wallet_settings_check

    assert wallet_settings_check() == []  # nothing set: nothing to say
    settings.WALLET_GOOGLE_ISSUER_ID = "3388000000012345678"
    (warning,) = wallet_settings_check()
    assert warning.id == "rewards.W011"
    assert "WALLET_GOOGLE_SERVICE_ACCOUNT_FILE" in warning.msg
