"""The one rule for a number a person types: an amount, points, a quantity.

Wherever a number is typed (the till API, the Counter, admin forms, a CSV
import) it is plain ASCII digits, an optional leading minus, and at most one
decimal point followed by digits; nothing else. Python's Decimal() and int()
accept far more: exponents ("1e3"), other scripts' digits ("١٠٠"), "NaN",
"Infinity", underscores ("1_000"), a "+" sign. A typo or a hostile client must
not turn into a thousand points.

The sign and the number of decimal places are left to each field's own
bounds (min_value, decimal_places), whose messages say what is wrong.
Values computed by code (Decimal, int) are not text and are not checked here.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models

PLAIN_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?", re.ASCII)
PLAIN_WHOLE = re.compile(r"-?[0-9]+", re.ASCII)


def is_plain_decimal(text: str) -> bool:
    """Digits, an optional minus, at most one decimal point: "125.50", "-3", "0.5"."""
    return PLAIN_DECIMAL.fullmatch(text.strip()) is not None


def is_plain_whole(text: str) -> bool:
    """Digits and an optional minus: "125", "-3"."""
    return PLAIN_WHOLE.fullmatch(text.strip()) is not None


class PlainDecimalField(forms.DecimalField):
    """forms.DecimalField that takes only what is_plain_decimal allows."""

    def to_python(self, value):
        if value not in self.empty_values and not isinstance(value, int | float):
            text = str(value).strip()
            if text and not is_plain_decimal(text):
                raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class PlainIntegerField(forms.IntegerField):
    """forms.IntegerField that takes only what is_plain_whole allows ("5.0" too is refused)."""

    def to_python(self, value):
        if value not in self.empty_values and not isinstance(value, int):
            text = str(value).strip()
            if text and not is_plain_whole(text):
                raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


# For ModelAdmin.formfield_overrides (looked up along the model field's MRO):
# number columns get the plain fields in every admin form.
NUMBER_FORMFIELD_OVERRIDES: dict[type[models.Field], dict[str, Any]] = {
    models.DecimalField: {"form_class": PlainDecimalField},
    models.IntegerField: {"form_class": PlainIntegerField},
    models.BigIntegerField: {"form_class": PlainIntegerField},
}
