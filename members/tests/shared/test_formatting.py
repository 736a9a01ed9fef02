"""The one set of formatting functions and filters, per language: Babel's
separators, currency signs and percent spacing (members.formatting)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from members import formatting

NBSP = "\u00a0"

# language: money, count, decimal, percent, date-time (05:24 UTC = 08:24 Kyiv)
EXPECTED = {
    "uk": (f"306{NBSP}517,19{NBSP}₴", f"12{NBSP}345", f"1{NBSP}234,50", "33,3%",
           "05.01.25, 08:24"),
    "ru": (f"306{NBSP}517,19{NBSP}₴", f"12{NBSP}345", f"1{NBSP}234,50",
           f"33,3{NBSP}%", "05.01.2025, 08:24"),
    "ro": (f"306.517,19{NBSP}UAH", "12.345", "1.234,50", f"33,3{NBSP}%",
           "05.01.2025, 08:24"),
    "en": (f"306,517.19{NBSP}UAH", "12,345", "1,234.50", "33.3%",
           "05/01/2025, 08:24"),
}  # fmt: skip
WHEN = dt.datetime(2025, 1, 5, 6, 24, tzinfo=dt.UTC)


@pytest.mark.parametrize("language", EXPECTED)
def test_functions_write_the_locale(language, settings):
    settings.TIME_ZONE = "Europe/Kyiv"
    money, count, decimal, percent, when = EXPECTED[language]
    with translation.override(language):
        assert formatting.money_format(Decimal("306517.190000000"), "UAH") == money
        assert formatting.number_format(12345) == count
        assert formatting.number_format(Decimal("1234.5"), 2) == decimal
        assert formatting.percent_format(Decimal("33.33")) == percent
        assert formatting.datetime_format(WHEN) == when


@pytest.mark.parametrize("language", EXPECTED)
def test_filters_are_the_functions(language):
    money, count, decimal, percent, _when = EXPECTED[language]
    template = Template(
        "{% load loyalty_format %}{{ m|money:'UAH' }}|{{ n|number }}|"
        "{{ d|number:2 }}|{{ p|percent }}|{{ none|money }}"
    )
    with translation.override(language):
        out = template.render(
            Context(
                {"m": Decimal("306517.19"), "n": 12345, "d": Decimal("1234.5"),
                 "p": Decimal("33.33"), "none": None}
            )
        )  # fmt: skip
    assert out == f"{money}|{count}|{decimal}|{percent}|"


def test_raw_decimal_tails_are_dropped_without_places():
    with translation.override("en"):
        assert formatting.number_format(Decimal("306517.190000000")) == "306,517.19"
        assert formatting.number_format(Decimal("500.00")) == "500"


@pytest.mark.django_db
def test_money_defaults_to_the_programs_currency():
    from rewards.selectors.program import program_settings_get

    program = program_settings_get()
    program.currency = "MDL"
    program.save()
    with translation.override("ro"):
        assert formatting.money_format(Decimal("1234.5")) == f"1.234,50{NBSP}L"
