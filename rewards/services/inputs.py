"""Checks of what a till, a form or an import typed (amounts, quantities, receipt
ids, points), and the limits they keep within the columns that store them."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

from members.errors import InvalidInput
from members.numbers import is_plain_decimal, is_plain_whole

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999.99")  # what Purchase.total (12 digits, 2 places) holds
MAX_POINTS = 1_000_000_000
MAX_QUANTITY = Decimal(
    "9999999"
)  # what PurchaseLine.quantity (10 digits, 3 places) holds
FUTURE_TOLERANCE = dt.timedelta(minutes=10)


def amount_clean(value, *, field: str, allow_zero: bool = False) -> Decimal:
    if isinstance(value, str) and not is_plain_decimal(value):
        # Typed text (an import, a form): digits and one point only, not "1e3".
        raise InvalidInput(_("Enter an amount such as 125.50."), field=field)
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise InvalidInput(_("Enter an amount such as 125.50."), field=field) from None
    if not amount.is_finite():
        raise InvalidInput(_("Enter an amount such as 125.50."), field=field)
    # Sign and size first: quantize() raises InvalidOperation on numbers like 1e999.
    if amount < 0 or (amount == 0 and not allow_zero):
        raise InvalidInput(_("The amount must be greater than zero."), field=field)
    if amount > MAX_AMOUNT:
        raise InvalidInput(_("The amount is too large."), field=field)
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        raise InvalidInput(_("Use at most two decimal places."), field=field)
    return amount.quantize(CENT)


def receipt_id_clean(receipt_id: str, *, field: str = "receipt_id") -> str:
    receipt_id = (receipt_id or "").strip()
    if not receipt_id:
        raise InvalidInput(_("Enter the receipt id."), field=field)
    if len(receipt_id) > 64:
        raise InvalidInput(
            _("The receipt id is longer than 64 characters."), field=field
        )
    return receipt_id


def points_clean(value, *, field: str = "points", allow_negative: bool = False) -> int:
    if isinstance(value, bool) or (
        isinstance(value, str) and not is_plain_whole(value)
    ):
        raise InvalidInput(_("Enter a whole number of points."), field=field)
    try:
        points = int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: int(float("inf"))
        raise InvalidInput(_("Enter a whole number of points."), field=field) from None
    if isinstance(value, float | Decimal) and points != value:
        raise InvalidInput(_("Enter a whole number of points."), field=field)
    if points == 0 or (points < 0 and not allow_negative):
        raise InvalidInput(
            _("The number of points must be greater than zero."), field=field
        )
    if abs(points) > MAX_POINTS:
        raise InvalidInput(_("The number of points is too large."), field=field)
    return points


def quantity_clean(value, *, field: str) -> Decimal:
    """A line's quantity; typed text must be plain digits (members.numbers)."""
    if isinstance(value, str) and not is_plain_decimal(value):
        raise InvalidInput(_("Enter a quantity."), field=field)
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise InvalidInput(_("Enter a quantity."), field=field) from None


def line_amount(quantity: Decimal, unit_price: Decimal) -> Decimal:
    return (quantity * unit_price).quantize(CENT, rounding=ROUND_HALF_UP)
