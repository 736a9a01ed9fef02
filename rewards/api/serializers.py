"""Serializer pieces shared by the POS API views of purchases, returns, redemptions.

Bounds follow the model columns (Purchase.total: 12 digits, 2 places;
PurchaseLine.quantity: 10 digits, 3 places) so that nothing a till sends can
reach the database out of range.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from members.api.serializers import PlainDecimalField, PlainIntegerField
from rewards.earning import STAGES
from rewards.services.inputs import MAX_AMOUNT, MAX_POINTS

CENT = Decimal("0.01")
MIN_QUANTITY = Decimal("0.001")
MAX_QUANTITY = Decimal("9999999")  # what rewards.services accepts for a line
MAX_LINES = 500
RECEIPT_MAX_LENGTH = 64


# drf-spectacular writes every decimal string's pattern with an optional minus and
# leaves min_value out, so generated clients (and fuzzers) would send negative
# amounts that the API always refuses. These say: digits, no sign.
@extend_schema_field(
    {"type": "string", "format": "decimal", "pattern": r"^\d{1,10}(?:\.\d{1,2})?$"}
)
class MoneyField(PlainDecimalField):
    pass


@extend_schema_field(
    {"type": "string", "format": "decimal", "pattern": r"^\d{1,7}(?:\.\d{1,3})?$"}
)
class QuantityField(PlainDecimalField):
    pass


def money_field(*, allow_zero: bool = False, **kwargs) -> MoneyField:
    """An amount of money: at most 2 decimal places, positive, no more than a column holds."""
    return MoneyField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0") if allow_zero else CENT,
        max_value=MAX_AMOUNT,
        **kwargs,
    )


_PLAIN_MONEY = re.compile(r"[0-9]{1,10}(?:\.[0-9]{1,2})?", re.ASCII)


def plain_money(value) -> Decimal | None:
    """What money_field() gives for the usual value, a string such as "412.50"
    of at most 10 digits and 2 places, not below a cent; None for anything
    else, which the field itself then judges (and words the error of)."""
    if type(value) is not str or _PLAIN_MONEY.fullmatch(value) is None:
        return None
    amount = Decimal(value).quantize(CENT)
    return amount if amount >= CENT else None


def quantity_field(**kwargs) -> QuantityField:
    return QuantityField(
        max_digits=10,
        decimal_places=3,
        min_value=MIN_QUANTITY,
        max_value=MAX_QUANTITY,
        **kwargs,
    )


def receipt_field(**kwargs) -> serializers.CharField:
    return serializers.CharField(
        max_length=RECEIPT_MAX_LENGTH,
        help_text=_("The till's receipt id; unique per store, it makes retries safe."),
        **kwargs,
    )


def points_field(**kwargs) -> PlainIntegerField:
    return PlainIntegerField(min_value=1, max_value=MAX_POINTS, **kwargs)


class DateTimeField(serializers.DateTimeField):
    """DRF's field, except that a naive time near year 1 or 9999 is a 400, not a 500.

    DRF checks a naive time made aware for ambiguity by converting it to UTC, which
    overflows at the ends of the calendar; it catches that only for aware input.
    """

    def enforce_timezone(self, value):
        try:
            return super().enforce_timezone(value)
        except OverflowError:
            self.fail("overflow")


class PurchaseLineSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    name = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    category = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )
    quantity = quantity_field()
    unit_price = money_field(allow_zero=True)

    class Meta:
        ref_name = "PurchaseLine"


class ReturnLineSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = quantity_field()

    class Meta:
        ref_name = "ReturnLine"


class MemberRefSerializer(serializers.Serializer):
    """Who the customer is: a card number or a phone, exactly one (null counts as absent)."""

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        for name in ("card_number", "phone"):
            if attrs.get(name) is None:
                attrs.pop(name, None)
        if ("card_number" in attrs) == ("phone" in attrs):
            message = _("Give either card_number or phone, one of them.")
            raise serializers.ValidationError(
                {"card_number": [message], "phone": [message]}
            )
        return attrs


class EarnBreakdownSerializer(serializers.Serializer):
    """One line of "why these points": a step of the earning order, or a rule."""

    stage = serializers.ChoiceField(
        choices=[stage for stage, _label in STAGES],
        help_text=_(
            "The step of the earning order that gave these points; the cap "
            "comes last, with the points it took off (negative)."
        ),
    )
    rule = serializers.IntegerField(
        allow_null=True, help_text=_("The earning rule, if a rule gave them.")
    )
    name = serializers.CharField(
        allow_blank=True, help_text=_("The rule's, tier's or plan's name.")
    )
    points = serializers.IntegerField()
