"""The one way money, numbers, percentages and date-times are written for people:
Babel, in the active language's locale (its separators, its currency sign,
its date order). The template filters of members/templatetags/loyalty_format.py
call these; Python code that builds a sentence (timelines, flash messages,
emails) calls them too, never an f-string or str() of a Decimal.

Plural forms are not here: they are gettext's (`ngettext`,
`{% blocktranslate count %}`), with the count written by `number_format`.

The program's currency lives in rewards (ProgramSettings), above this app: rewards
plugs its reader in with `currency_source_register` from its AppConfig.ready().
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from babel import numbers as babel_numbers
from babel.dates import format_datetime
from django.conf import settings
from django.core.signals import request_started
from django.utils import timezone, translation

# The Babel locale of each language the site speaks: the program runs in
# Ukraine and Moldova, so Romanian is Moldova's; English is European English
# (en_150: "306,517.19 UAH", the amount before the currency as the rest of the
# product writes it, and 24-hour day/month dates), not en_US ("UAH306,517.19").
BABEL_LOCALES = {"uk": "uk_UA", "ru": "ru_UA", "ro": "ro_MD", "en": "en_150"}
CURRENCY_CACHE_SECONDS = 60

_currency_source: Callable[[], str] | None = None
_cache = threading.local()


def babel_locale(language: str | None = None) -> str:
    """The Babel locale of `language` (default: the active one)."""
    code = (language or translation.get_language() or settings.LANGUAGE_CODE).lower()
    return BABEL_LOCALES.get(code.split("-")[0].split("_")[0], BABEL_LOCALES["en"])


def currency_source_register(source: Callable[[], str]) -> None:
    """Name the function that tells the program's currency (ISO 4217 code)."""
    global _currency_source
    _currency_source = source
    currency_cache_clear()


def currency_cache_clear(**_kwargs) -> None:
    _cache.__dict__.pop("currency", None)


request_started.connect(currency_cache_clear, dispatch_uid="loyalty_currency_cache")


def default_currency() -> str:
    """The program's currency, read at most once a request (and a minute)."""
    cached = getattr(_cache, "currency", None)
    if cached is not None and time.monotonic() - cached[1] < CURRENCY_CACHE_SECONDS:
        return cached[0]
    code = _currency_source() if _currency_source else settings.LOYALTY_CURRENCY
    _cache.currency = (code, time.monotonic())
    return code


def _decimal(value) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None


# CLDR's currency spacing: a currency code right against the digits
# ("UAH1,234.50", Babel's English) gets a no-break space between.
_CODE_DIGIT = re.compile(r"(?<=[A-Za-z])(?=[-−]?\d)|(?<=\d)(?=[A-Za-z])")


def money_format(
    value,
    currency: str | None = None,
    language: str | None = None,
    *,
    exact: bool = False,
):
    """`value` as money in the locale: "306 517,19 ₴" (uk), "306,517.19 UAH"
    (en), with the currency's own decimals; `exact` keeps further decimals a
    rate has (a point worth 0.125 UAH). None and "" come back as ""."""
    amount = _decimal(value)
    if amount is None:
        return ""
    text = babel_numbers.format_currency(
        amount,
        currency or default_currency(),
        locale=babel_locale(language),
        decimal_quantization=not exact,
    )
    return _CODE_DIGIT.sub("\u00a0", text)


def number_format(value, places: int | None = None, language: str | None = None):
    """A count or a quantity with the locale's group and decimal separators.
    `places` fixes the decimals; without it a Decimal shows the decimals it has,
    trailing zeros dropped (306517.190000000 → 306 517,19)."""
    number = _decimal(value)
    if number is None:
        return "" if value in (None, "") else str(value)
    if places is not None:
        number = number.quantize(Decimal(1).scaleb(-places))
        pattern = "#,##0" + ("." + "0" * places if places else "")
        return babel_numbers.format_decimal(
            number, format=pattern, locale=babel_locale(language)
        )
    return babel_numbers.format_decimal(
        number.normalize() if number == number.to_integral() else number,
        locale=babel_locale(language),
        decimal_quantization=False,
    )


def signed_number_format(value, language: str | None = None):
    """A change of a balance with its sign, grouped: +1 234 567, -50, +0."""
    number = _decimal(value)
    if number is None:
        return "" if value in (None, "") else str(value)
    return ("-" if number < 0 else "+") + number_format(abs(number), language=language)


def percent_format(value, places: int = 1, language: str | None = None):
    """A share given in percent (33.33 means 33.33 %) with the locale's sign and
    spacing ("33,3 %" in ro, "33.3%" in en), `places` decimals at most."""
    number = _decimal(value)
    if number is None:
        return ""
    fraction = (number.quantize(Decimal(1).scaleb(-places)) / 100).normalize()
    return babel_numbers.format_percent(
        fraction, locale=babel_locale(language), decimal_quantization=False
    )


def datetime_format(value, length: str = "short", language: str | None = None):
    """A date-time in the current time zone, in the locale's short (or medium)
    form: "05.01.25, 08:24" (uk), "05/01/2025, 08:24" (en). The forms end in
    digits or AM/PM, never in a full stop a sentence would double."""
    if not isinstance(value, dt.datetime):
        return "" if value in (None, "") else str(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    text = format_datetime(
        value,
        length,
        tzinfo=timezone.get_current_timezone(),
        locale=babel_locale(language),
    )
    return text.replace("\u202f", "\u00a0")
