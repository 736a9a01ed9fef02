"""The one set of formatting functions and filters, per language: Babel's
separators, currency signs and percent spacing (members.formatting)."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from babel.numbers import format_currency
from django.template import Context, Template
from django.utils import dateformat, formats, timezone, translation

from members import formatting

NBSP = "\u00a0"

# language: money, count, decimal, percent, date-time (05:24 UTC = 08:24 Kyiv)
EXPECTED = {
    "uk": (f"306{NBSP}517,19{NBSP}грн", f"12{NBSP}345", f"1{NBSP}234,50", "33,3%",
           "5 січня 2025, 08:24"),
    "ru": (f"306{NBSP}517,19{NBSP}грн", f"12{NBSP}345", f"1{NBSP}234,50",
           f"33,3{NBSP}%", "5 января 2025, 08:24"),
    "ro": (f"306.517,19{NBSP}UAH", "12.345", "1.234,50", f"33,3{NBSP}%",
           "5 ianuarie 2025, 08:24"),
    "en": (f"306,517.19{NBSP}UAH", "12,345", "1,234.50", "33.3%",
           "5 January 2025, 08:24"),
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
def test_filters_are_the_functions(language, settings):
    settings.TIME_ZONE = "Europe/Kyiv"
    money, count, decimal, percent, _when = EXPECTED[language]
    template = Template(
        "{% load loyalty_format %}{{ m|money:'UAH' }}|{{ n|number }}|"
        "{{ d|number:2 }}|{{ p|percent }}|{{ none|money }}{{ w|datetime }}"
    )
    with translation.override(language):
        out = template.render(
            Context(
                {"m": Decimal("306517.19"), "n": 12345, "d": Decimal("1234.5"),
                 "p": Decimal("33.33"), "none": None, "w": WHEN}
            )
        )  # fmt: skip
    assert out == f"{money}|{count}|{decimal}|{percent}|{_when}"


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


# --- dates: one form a language, the month as a date takes it -------------------------

LANGUAGES = ("uk", "ru", "ro", "en")
DAY = dt.date(2026, 12, 10)
DAY_IN = {
    "uk": "10 грудня 2026",
    "ru": "10 декабря 2026",
    "ro": "10 decembrie 2026",
    "en": "10 December 2026",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_date_format_writes_the_day_one_way(language):
    assert formatting.date_format(DAY, language) == DAY_IN[language]
    with translation.override(language):
        assert formatting.date_format(DAY) == DAY_IN[language]
        out = Template("{% load loyalty_format %}{{ d|day }}").render(
            Context({"d": DAY})
        )
    assert out == DAY_IN[language]


@pytest.mark.parametrize("language", ["uk", "ru"])
def test_every_month_is_in_the_genitive_after_a_day(language):
    """Django's catalogs know both forms of each month: 'F' the name on its own
    (Грудень), 'E' the one a date takes (грудня). Every day written is the
    second, never the first."""
    for month in range(1, 13):
        day = dt.date(2026, month, 10)
        with translation.override(language):
            nominative = dateformat.format(day, "F").lower()
            genitive = dateformat.format(day, "E").lower()
        assert nominative != genitive
        text = formatting.date_format(day, language)
        assert text == f"10 {genitive} 2026"
        assert not re.search(rf"\b{nominative}\b", text.lower())


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_date_time_is_taken_on_its_local_day(language, settings):
    settings.TIME_ZONE = "Europe/Kyiv"
    late = dt.datetime(2026, 12, 9, 22, 30, tzinfo=dt.UTC)  # 00:30 on the 10th
    assert formatting.date_format(late, language) == DAY_IN[language]
    assert formatting.time_format(late, language) == "00:30"
    assert formatting.datetime_format(late, language) == f"{DAY_IN[language]}, 00:30"
    assert formatting.datetime_format(DAY, language) == DAY_IN[language]
    assert formatting.date_format(None) == formatting.datetime_format("") == ""


@pytest.mark.parametrize("language", LANGUAGES)
def test_djangos_own_date_formats_agree(language, settings):
    """What the admin writes by itself (FORMAT_MODULE_PATH) is the same day.
    Romanian: Django's catalog capitalises its month names ("Decembrie"),
    which Romanian does not; the letters agree."""
    settings.TIME_ZONE = "Europe/Kyiv"
    moment = dt.datetime(2026, 12, 10, 6, 24, tzinfo=dt.UTC)
    with translation.override(language):
        for day in (dt.date(2026, m, 10) for m in range(1, 13)):
            ours, django = formatting.date_format(day), formats.date_format(day)
            assert ours == django or (language == "ro" and ours == django.lower())
        local = timezone.localtime(moment)
        django = formats.date_format(local, "DATETIME_FORMAT")
        assert formatting.datetime_format(moment).lower() == django.lower()
        assert formats.date_format(local, "SHORT_DATE_FORMAT") == formats.date_format(
            local
        )


@pytest.mark.parametrize("language", LANGUAGES)
def test_month_on_its_own_is_the_nominative(language):
    with translation.override(language):
        nominative = dateformat.format(DAY, "F").lower()
    assert formatting.month_format(DAY, language).lower() == f"{nominative} 2026"


# --- money: the sign each language's shops print ----------------------------------------

MONEY_IN = {
    "uk": (f"1{NBSP}234,50{NBSP}грн", f"5{NBSP}000{NBSP}грн", f"0,125{NBSP}грн"),
    "ru": (f"1{NBSP}234,50{NBSP}грн", f"5{NBSP}000{NBSP}грн", f"0,125{NBSP}грн"),
    "ro": (f"1.234,50{NBSP}UAH", f"5.000{NBSP}UAH", f"0,125{NBSP}UAH"),
    "en": (f"1,234.50{NBSP}UAH", f"5,000{NBSP}UAH", f"0.125{NBSP}UAH"),
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_money_format_in_every_language(language):
    amount, whole, rate = MONEY_IN[language]
    assert formatting.money_format(Decimal("1234.5"), "UAH", language) == amount
    assert formatting.money_format(5000, "UAH", language, whole=True) == whole
    # whole leaves the decimals only of a whole amount
    assert formatting.money_format("1234.5", "UAH", language, whole=True) == amount
    assert formatting.money_format("0.125", "UAH", language, exact=True) == rate
    assert formatting.money_format(None, "UAH", language) == ""
    assert "₴" not in formatting.money_format(1, "UAH", language)


def test_other_currencies_keep_cldrs_signs():
    assert formatting.money_format(1, "MDL", "ro") == f"1,00{NBSP}L"
    assert formatting.money_format(1, "MDL", "uk") == format_currency(
        1, "MDL", locale="uk_UA"
    )


@pytest.mark.parametrize(
    ("language", "forms", "cases"),
    [
        ("uk", "бал,бали,балів", {1: "бал", 3: "бали", 5: "балів", 11: "балів",
                                  21: "бал", 22: "бали", 0: "балів"}),
        ("ru", "балл,балла,баллов", {1: "балл", 3: "балла", 5: "баллов",
                                     14: "баллов", 101: "балл"}),
        ("ro", "punct, puncte, de puncte", {1: "punct", 3: "puncte",
                                            20: "de puncte", 101: "puncte",
                                            0: "puncte"}),
        ("en", "point,points", {1: "point", 2: "points", 0: "points"}),
    ],
)  # fmt: skip
def test_plural_form_follows_the_languages_rule(language, forms, cases):
    for count, expected in cases.items():
        assert formatting.plural_form(count, forms, language) == expected, count


def test_plural_form_with_too_few_forms_takes_the_last():
    assert formatting.plural_form(5, "бал,бали", "uk") == "бали"
    assert formatting.plural_form(5, "", "uk") == ""


@pytest.mark.parametrize(
    ("language", "may", "december"),
    [
        ("uk", "травень", "грудень"),
        ("ru", "май", "декабрь"),
        ("ro", "mai", "decembrie"),  # lower-case, unlike Django's ro catalog
        ("en", "May", "December"),
    ],
)
def test_month_name_on_its_own(language, may, december):
    assert formatting.month_name(5, language) == may
    with translation.override(language):
        assert formatting.month_name(12) == december
