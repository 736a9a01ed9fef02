"""The one way money, numbers, percentages, dates and times are written for
people: Babel, in the active language's locale (its separators, its currency
sign, its month names). The template filters of members/templatetags/loyalty_format.py
call these; Python code that builds a sentence (timelines, flash messages,
emails, SMS) calls them too, never an f-string, str() of a Decimal, strftime
or Django's `|date`.

Two choices are the program's, not CLDR's, and made here once:

- The hryvnia is written "грн" on Ukrainian and Russian pages ("1 234,50 грн"),
  as Ukrainian receipts, price tags and shop sites print it; CLDR's "₴" is
  rarer on a till and missing from many receipt printers' and SMS fonts.
  English and Romanian pages keep CLDR's sign ("1,234.50 UAH"). See
  CURRENCY_SIGNS.
- A day is written one way per language, the long form with the month's name
  in the case a date takes (genitive in Ukrainian and Russian): "10 грудня
  2026", "10 декабря 2026", "10 decembrie 2026", "10 December 2026". CLDR's
  "р."/"г." after the year is left out: shops' sites and receipts drop it,
  and a sentence ending in a date would double its full stop ("… до 10 грудня
  2026 р.."). A time is "08:24" (24 hours) in every language, and a date-time
  is the day, a comma and the time. Django's own date formats (the admin's
  change lists, FORMAT_MODULE_PATH) are derived from DATE_PATTERNS,
  TIME_PATTERN and MONTH_PATTERN below (loyalty_site/formats/).
  Files for machines (CSV, JSON, the API) write ISO 8601 instead.

Plural forms of the program's own sentences are gettext's (`ngettext`,
`{% blocktranslate count %}`), with the count written by `number_format`.
Words that staff write themselves (a campaign text's `|plural:"бал,бали,балів"`)
take their form by `plural_form`: CLDR's rule of the language, the forms given
in the order its gettext catalog has them (PLURAL_CATEGORIES).

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

from babel import Locale
from babel import numbers as babel_numbers
from babel.dates import format_date, format_time, get_month_names
from django.conf import settings
from django.core.signals import request_started
from django.utils import timezone, translation

# The Babel locale of each language the site speaks: the program runs in
# Ukraine and Moldova, so Romanian is Moldova's; English is European English
# (en_150: "306,517.19 UAH", the amount before the currency as the rest of the
# product writes it, and 24-hour day/month dates), not en_US ("UAH306,517.19").
BABEL_LOCALES = {"uk": "uk_UA", "ru": "ru_UA", "ro": "ro_MD", "en": "en_150"}
CURRENCY_CACHE_SECONDS = 60

# The program's currency signs where they differ from CLDR's (see above):
# language → {ISO code: sign}.
CURRENCY_SIGNS = {"uk": {"UAH": "грн"}, "ru": {"UAH": "грн"}}

# One way to write a day, per language (Babel/CLDR patterns: "MMMM" is the
# month's name as a date uses it, the genitive in uk and ru; see above).
DATE_PATTERNS = {
    "uk": "d MMMM y",
    "ru": "d MMMM y",
    "ro": "d MMMM y",
    "en": "d MMMM y",
}
TIME_PATTERN = "HH:mm"
# A month on its own (a report's period): the nominative, "грудень 2026".
MONTH_PATTERN = "LLLL y"

# The CLDR plural categories of each language in the order of its gettext
# forms (locale/*/LC_MESSAGES/django.po "Plural-Forms"): uk and ru "1 бал,
# 3 бали, 5 балів"; ro "1 punct, 3 puncte, 20 de puncte"; en "1 point, 2
# points". A category not listed (CLDR's "other" for fractions in uk and ru)
# takes the last form.
PLURAL_CATEGORIES = {
    "uk": ("one", "few", "many"),
    "ru": ("one", "few", "many"),
    "ro": ("one", "few", "other"),
    "en": ("one", "other"),
}

_currency_source: Callable[[], str] | None = None
_cache = threading.local()


def _language(language: str | None = None) -> str:
    code = (language or translation.get_language() or settings.LANGUAGE_CODE).lower()
    code = code.split("-")[0].split("_")[0]
    return code if code in BABEL_LOCALES else "en"


def babel_locale(language: str | None = None) -> str:
    """The Babel locale of `language` (default: the active one)."""
    return BABEL_LOCALES[_language(language)]


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
    whole: bool = False,
):
    """`value` as money in the locale: "306 517,19 грн" (uk), "306,517.19 UAH"
    (en), with the currency's own decimals; `exact` keeps further decimals a
    rate has (a point worth 0.125 UAH); `whole` leaves the decimals out of a
    whole amount (a threshold, a unit: "5 000 грн"). None and "" come back
    as ""."""
    amount = _decimal(value)
    if amount is None:
        return ""
    code = currency or default_currency()
    language = _language(language)
    locale = BABEL_LOCALES[language]
    if whole and amount == amount.to_integral_value():
        pattern = Locale.parse(locale).currency_formats["standard"].pattern
        text = babel_numbers.format_currency(
            amount,
            code,
            format=re.sub(r"\.0+", "", pattern),
            locale=locale,
            currency_digits=False,
        )
    else:
        text = babel_numbers.format_currency(
            amount, code, locale=locale, decimal_quantization=not exact
        )
    sign = CURRENCY_SIGNS.get(language, {}).get(code)
    if sign:
        text = text.replace(babel_numbers.get_currency_symbol(code, locale), sign)
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


def _local(value: dt.datetime) -> dt.datetime:
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return timezone.localtime(value)


def date_format(value, language: str | None = None) -> str:
    """A day, the one way of its language: "10 грудня 2026" (uk), "10 декабря
    2026" (ru), "10 decembrie 2026" (ro), "10 December 2026" (en). A
    date-time is taken on its day in the current time zone. None and "" come
    back as ""."""
    if isinstance(value, dt.datetime):
        value = _local(value).date()
    if not isinstance(value, dt.date):
        return "" if value in (None, "") else str(value)
    language = _language(language)
    return format_date(value, DATE_PATTERNS[language], locale=BABEL_LOCALES[language])


def time_format(value, language: str | None = None) -> str:
    """A time of day, 24 hours: "08:24". A date-time is taken in the current
    time zone."""
    if isinstance(value, dt.datetime):
        value = _local(value).time()
    if not isinstance(value, dt.time):
        return "" if value in (None, "") else str(value)
    return format_time(value, TIME_PATTERN, locale=babel_locale(language))


def datetime_format(value, language: str | None = None) -> str:
    """A date-time in the current time zone: the day as `date_format` writes it
    and the time, "5 січня 2025, 08:24" (uk), "5 January 2025, 08:24" (en).
    Ends in a digit, never in a full stop a sentence would double. A date
    without a time is written as the day alone."""
    if not isinstance(value, dt.datetime):
        return date_format(value, language)
    local = _local(value)
    return f"{date_format(local, language)}, {time_format(local, language)}"


def month_format(value, language: str | None = None) -> str:
    """A month on its own, the period of a report: "грудень 2026",
    "December 2026" (the nominative: no day governs it)."""
    if isinstance(value, dt.datetime):
        value = _local(value).date()
    if not isinstance(value, dt.date):
        return "" if value in (None, "") else str(value)
    return format_date(value, MONTH_PATTERN, locale=babel_locale(language))


def month_name(month: int, language: str | None = None) -> str:
    """A month's name on its own (a choice in a list: "the birthday month is
    …"), CLDR's stand-alone form: "травень" (uk), "май" (ru), "mai" (ro),
    "May" (en). Lower-case where the language writes it so, as Romanian does
    (Django's own Romanian catalog capitalises: "Mai"; not used for this)."""
    names = get_month_names(
        "wide", context="stand-alone", locale=babel_locale(language)
    )
    return names[month]


def plural_index(count, language: str | None = None) -> int:
    """Which of the language's plural forms (PLURAL_CATEGORIES order) a count
    takes: uk 1 → 0, 3 → 1, 5 → 2, 21 → 0; ro 20 → 2; en 2 → 1."""
    number = _decimal(count)
    language = _language(language)
    categories = PLURAL_CATEGORIES[language]
    if number is None:
        return len(categories) - 1
    category = Locale.parse(BABEL_LOCALES[language]).plural_form(abs(number))
    return categories.index(category) if category in categories else len(categories) - 1


def plural_form(count, forms, language: str | None = None) -> str:
    """The form of a word for `count` from `forms` (a list, or a string
    split at commas) given in the language's order (PLURAL_CATEGORIES):
    plural_form(5, "бал,бали,балів", "uk") == "балів". Fewer forms than the
    language has: the last one stands for the rest."""
    if isinstance(forms, str):
        forms = forms.split(",")
    forms = [form.strip() for form in forms]
    if not forms:
        return ""
    return forms[min(plural_index(count, language), len(forms) - 1)]
