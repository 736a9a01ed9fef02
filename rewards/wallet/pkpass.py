"""The Apple Wallet pass: pass.json, images, pass.strings per language, the
manifest of SHA-1 hashes and its detached PKCS#7 signature, zipped.

Signed with `cryptography` directly (PKCS#7, SHA-256, the WWDR intermediate
included): the pkpass libraries on PyPI either bring their own async APNs
client and signals (django-walletpass) or are unmaintained, and the signature
is a dozen lines here (docs/decisions.md, "Wallet passes").
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import zipfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from members.branding import Brand, readable_on, rgb
from members.images import app_icon_png
from members.links import absolute_url
from rewards.models import WalletPass
from rewards.wallet.content import WalletCard

PKPASS_CONTENT_TYPE = "application/vnd.apple.pkpass"
# The languages of the site; Apple shows the .lproj of the phone's language.
PASS_LANGUAGES = tuple(code for code, _name in settings.LANGUAGES)
# name: (size in points, the scales drawn)
IMAGES = {"icon": (29, (1, 2, 3)), "logo": (50, (1, 2, 3))}


# --- Signing -----------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _credentials(cert_path: str, key_path: str, password: str, wwdr_path: str):
    with open(cert_path, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    with open(key_path, "rb") as f:
        key = serialization.load_pem_private_key(
            f.read(), password=password.encode() or None
        )
    with open(wwdr_path, "rb") as f:
        data = f.read()
    # Apple hands out the WWDR certificate as DER (.cer); a PEM copy works too.
    wwdr = (
        x509.load_pem_x509_certificate(data)
        if data.lstrip().startswith(b"-----")
        else x509.load_der_x509_certificate(data)
    )
    return cert, key, wwdr


def manifest_sign(manifest: bytes) -> bytes:
    """The detached PKCS#7 signature (DER) of manifest.json with the configured
    Pass Type ID certificate, the WWDR intermediate included, as Apple asks."""
    cert, key, wwdr = _credentials(
        settings.WALLET_APPLE_CERT,
        settings.WALLET_APPLE_KEY,
        settings.WALLET_APPLE_KEY_PASSWORD,
        settings.WALLET_APPLE_WWDR,
    )
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(manifest)
        .add_signer(cert, key, hashes.SHA256())
        .add_certificate(wwdr)
        # Binary: the manifest's bytes as they are (no MIME canonical CRLFs).
        .sign(
            serialization.Encoding.DER,
            [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary],
        )
    )


# --- The content -------------------------------------------------------------------


def _rgb_css(colour: str) -> str:
    red, green, blue = rgb(colour)
    return f"rgb({red}, {green}, {blue})"


def web_service_url() -> str:
    """Where devices reach the pass web service; Apple appends "v1/..."."""
    return absolute_url(reverse("wallet:apple_log").removesuffix("v1/log"))


def pass_json(card: WalletCard, wallet_pass: WalletPass) -> dict:
    """pass.json of a store card. Labels are keys of pass.strings (one file per
    language); values are the member's own, the tier named in their language."""
    barcode = {
        "format": "PKBarcodeFormatQR",
        "message": card.card_number,
        "messageEncoding": "iso-8859-1",
        "altText": card.card_number_display,
    }
    primary = card.brand.primary
    foreground = readable_on(primary)
    fields: dict[str, list[dict]] = {
        "headerFields": [
            {
                "key": "balance",
                "label": "balance_label",
                "value": card.balance,
                "changeMessage": "balance_changed",
            }
        ],
        "primaryFields": [],
        "secondaryFields": [],
        "auxiliaryFields": [
            {"key": "card", "label": "card_label", "value": card.card_number_display}
        ],
        "backFields": [{"key": "how", "label": "how_label", "value": "how_text"}],
    }
    if card.holder:
        fields["secondaryFields"].append(
            {"key": "holder", "label": "holder_label", "value": card.holder}
        )
    if card.tier:
        fields["secondaryFields"].append(
            {
                "key": "tier",
                "label": "tier_label",
                "value": card.tier,
                "changeMessage": "tier_changed",
            }
        )
    return {
        "formatVersion": 1,
        "passTypeIdentifier": settings.WALLET_APPLE_PASS_TYPE_ID,
        "teamIdentifier": settings.WALLET_APPLE_TEAM_ID,
        "serialNumber": wallet_pass.serial_number,
        "authenticationToken": wallet_pass.auth_token,
        "webServiceURL": web_service_url(),
        "organizationName": card.program_name,
        "description": "pass_description",
        "logoText": card.program_name,
        "backgroundColor": _rgb_css(primary),
        "foregroundColor": _rgb_css(foreground),
        "labelColor": _rgb_css(foreground),
        "barcodes": [barcode],
        "barcode": barcode,  # before iOS 9
        "storeCard": fields,
    }


def _strings_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def pass_strings(language: str, card: WalletCard) -> bytes:
    """<language>.lproj/pass.strings: the labels in that language."""
    with translation.override(language):
        strings = {
            "pass_description": _("%(program)s loyalty card")
            % {"program": card.program_name},
            "balance_label": _("Points"),
            # Apple puts the new value in place of %@.
            "balance_changed": _("Your balance is now %@ points."),
            "card_label": _("Card number"),
            "holder_label": _("Member"),
            "tier_label": _("Tier"),
            "tier_changed": _("Your tier is now %@."),
            "how_label": _("How to use"),
            "how_text": _(
                "Show this card to the cashier: they scan the code or type the number."
            ),
        }
    lines = [
        f'"{_strings_escape(key)}" = "{_strings_escape(str(value))}";'
        for key, value in strings.items()
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _logo_bytes(brand: Brand) -> bytes | None:
    if not brand.logo_name:
        return None
    try:
        with default_storage.open(brand.logo_name, "rb") as stored:
            return stored.read()
    except OSError:
        return None


def pass_images(brand: Brand) -> dict[str, bytes]:
    """icon.png and logo.png at each scale: the logo on white, or the drawn
    card in the brand's colour (as the installed app's icon), cached per
    branding version."""
    key = f"rewards:wallet:images:{brand.version}"
    images = cache.get(key)
    if images is not None:
        return images
    logo = _logo_bytes(brand)
    images = {}
    for name, (points, scales) in IMAGES.items():
        for scale in scales:
            size = points * scale
            suffix = "" if scale == 1 else f"@{scale}x"
            try:
                data = (
                    app_icon_png(size=size, background="#ffffff", logo=logo)
                    if logo
                    else app_icon_png(size=size, background=brand.primary)
                )
            except OSError:  # a logo Pillow cannot read: the drawn card
                data = app_icon_png(size=size, background=brand.primary)
            images[f"{name}{suffix}.png"] = data
    cache.set(key, images, 24 * 3600)
    return images


# --- The bundle --------------------------------------------------------------------


def pkpass_files(card: WalletCard, wallet_pass: WalletPass) -> dict[str, bytes]:
    """Every file of the pass but manifest.json and signature."""
    files = {
        "pass.json": json.dumps(
            pass_json(card, wallet_pass), ensure_ascii=False, indent=1
        ).encode("utf-8"),
        **pass_images(card.brand),
    }
    for language in PASS_LANGUAGES:
        files[f"{language}.lproj/pass.strings"] = pass_strings(language, card)
    return files


def pkpass_build(card: WalletCard, wallet_pass: WalletPass) -> bytes:
    """The signed .pkpass (a zip) of `card`."""
    files = pkpass_files(card, wallet_pass)
    manifest = json.dumps(
        {name: hashlib.sha1(data).hexdigest() for name, data in files.items()},  # noqa: S324 - Apple's manifest is SHA-1
        indent=1,
    ).encode()
    files["manifest.json"] = manifest
    files["signature"] = manifest_sign(manifest)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in files.items():
            bundle.writestr(name, data)
    return out.getvalue()
