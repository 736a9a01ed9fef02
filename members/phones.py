"""Phone numbers in one form: E.164, parsed by the phonenumbers library."""

from __future__ import annotations

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext as _

from members.errors import InvalidInput


def phone_normalize(raw: str, *, region: str | None = None) -> str:
    """Return `raw` as E.164 (+380671234567), or raise InvalidInput naming `phone`."""
    text = (raw or "").strip()
    if not text:
        raise InvalidInput(_("Enter a phone number."), field="phone")
    try:
        parsed = phonenumbers.parse(text, region or settings.LOYALTY_PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise InvalidInput(
            _("“%(phone)s” is not a phone number.") % {"phone": text}, field="phone"
        ) from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput(
            _("“%(phone)s” is not a valid phone number.") % {"phone": text},
            field="phone",
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
