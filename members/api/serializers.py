"""Serializer pieces shared by the POS API views of members and rewards.

Each view keeps its own nested InputSerializer/OutputSerializer; what several
views have in common (a member's card, the member as the till sees it, the
error body) lives here.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers

from members.models import Member
from members.numbers import is_plain_decimal, is_plain_whole

CARD_MAX_LENGTH = 20  # Member.card_number
CARD_SEPARATORS = str.maketrans("", "", " -")
# 1 to 20 digits, spaces and dashes between them allowed, as CardNumberField reads it.
CARD_PATTERN = r"^(?:[ -]*[0-9]){1,20}[ -]*$"


@extend_schema_field({"type": "string", "pattern": CARD_PATTERN, "maxLength": 40})
class CardNumberField(serializers.CharField):
    """A card number as printed (spaces or dashes allowed), returned as digits only."""

    default_error_messages = {
        "card": _("A card number has digits only, at most 20."),
    }

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> str:
        digits = card_digits(super().to_internal_value(data))
        if digits is None:
            self.fail("card")
        return digits


def card_digits(text: str) -> str | None:
    """The digits of a card number as printed, or None when it is not one."""
    digits = text.translate(CARD_SEPARATORS)
    if not digits.isascii() or not digits.isdigit() or len(digits) > CARD_MAX_LENGTH:
        return None
    return digits


def plain_text(value, max_length: int) -> str | None:
    """What a required CharField(max_length) with DRF's defaults gives for the
    usual value: a string of ASCII without NUL, not blank, at most max_length
    once stripped; None for anything else, which the field itself then judges
    (and words the error of). For views that check their common body without
    building a serializer."""
    if type(value) is not str:
        return None
    text = value.strip()
    if not text or len(text) > max_length or not text.isascii() or "\x00" in text:
        return None
    return text


class PlainDecimalField(serializers.DecimalField):
    """DRF's DecimalField that takes only plain digits (members.numbers): a JSON
    number, or a string such as "412.50"; never "1e3", "١٠٠", "NaN" or true."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not is_plain_decimal(str(data)):
            self.fail("invalid")
        return super().to_internal_value(data)


class PlainIntegerField(serializers.IntegerField):
    """DRF's IntegerField that takes only plain digits (members.numbers): a JSON
    integer or a string such as "120"; never "1e3", "١٠٠", "12.0" or true."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not (
            isinstance(data, int) or (isinstance(data, str) and is_plain_whole(data))
        ):
            self.fail("invalid")
        return super().to_internal_value(data)


class MemberSerializer(serializers.ModelSerializer):
    """A member as a till shows it: who they are and how many points they have."""

    points_balance = serializers.IntegerField(source="account.balance", read_only=True)

    class Meta:
        model = Member
        fields = [
            "card_number",
            "phone",
            "email",
            "first_name",
            "last_name",
            "birthday",
            "language",
            "enrolled_at",
            "points_balance",
        ]
        read_only_fields = fields
        ref_name = "Member"


class ErrorSerializer(serializers.Serializer):
    """Every error: a sentence, and the messages per input field."""

    detail = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=_(
            'Messages per input field, e.g. {"total": ["Ensure that there are no '
            'more than 2 decimal places."]}; nested fields as "lines[0].quantity".'
        ),
    )

    class Meta:
        ref_name = "Error"


ERROR_DESCRIPTIONS = {
    400: _("Invalid input: `errors` names each field at fault."),
    401: _("No till token, or an invalid or revoked one."),
    404: _("Not found."),
    409: _("Conflicts with the current state or an earlier request."),
    413: _("The body is larger than the server accepts."),
    429: _("Too many requests from this till token; wait and retry."),
    500: _("The server failed (e.g. its database was unreachable); retry later."),
}


def error_responses(*codes: int, **descriptions: str) -> dict[int, OpenApiResponse]:
    """OpenAPI responses for error statuses, all with the ErrorSerializer body.

    `descriptions` overrides a status's text: error_responses(404, e404="...").
    """
    return {
        code: OpenApiResponse(
            ErrorSerializer,
            description=descriptions.get(f"e{code}", ERROR_DESCRIPTIONS[code]),
        )
        for code in codes
    }
