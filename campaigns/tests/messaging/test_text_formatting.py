"""Campaign and journey texts write numbers, dates and plural forms in the
language of the text: the project's formatting in the sandbox."""

import datetime as dt

import pytest

from campaigns.journeys.render import render as journey_render
from campaigns.journeys.render import text_errors
from campaigns.messaging.templating import (
    MemberFacts,
    member_context,
    template_check,
    template_compile,
    template_render,
)
from campaigns.models import CampaignVariant
from campaigns.sending.rendering import CampaignTexts

NBSP = "\u00a0"
POINTS = {
    "uk": {1: "1 бал", 3: "3 бали", 5: "5 балів", 21: "21 бал",
           1234: f"1{NBSP}234 бали"},
    "ru": {1: "1 балл", 3: "3 балла", 5: "5 баллов", 21: "21 балл"},
    "ro": {1: "1 punct", 3: "3 puncte", 20: "20 de puncte", 101: "101 puncte"},
    "en": {1: "1 point", 2: "2 points", 1234: "1,234 points"},
}  # fmt: skip


def _render(text: str, language: str, **facts) -> str:
    base = {"first_name": "Olena", "balance": 120, "tier": "Gold"}
    context = member_context(MemberFacts(**{**base, **facts}), [])
    return template_render(template_compile(text), context, language)


@pytest.mark.parametrize("language", POINTS)
def test_points_filter_says_the_count_with_its_word(language):
    for balance, expected in POINTS[language].items():
        assert _render("{{ balance|points }}", language, balance=balance) == expected


@pytest.mark.parametrize(
    ("language", "forms", "count", "expected"),
    [
        ("uk", "бал,бали,балів", 5, "5 балів"),
        ("uk", "бал,бали,балів", 22, "22 бали"),
        ("ru", "балл,балла,баллов", 3, "3 балла"),
        ("ro", "punct,puncte,de puncte", 20, "20 de puncte"),
        ("en", "point,points", 1, "1 point"),
    ],
)
def test_plural_filter_picks_a_staff_written_word(language, forms, count, expected):
    text = '{{ balance }} {{ balance|plural:"' + forms + '" }}'
    assert _render(text, language, balance=count) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("uk", f"12{NBSP}345 / 31 грудня 2026"),
        ("ru", f"12{NBSP}345 / 31 декабря 2026"),
        ("ro", "12.345 / 31 decembrie 2026"),
        ("en", "12,345 / 31 December 2026"),
    ],
)
def test_numbers_and_dates_print_in_the_texts_language(language, expected):
    out = _render(
        "{{ balance }} / {{ points_expiring_date }}",
        language,
        balance=12345,
        points_expiring_date=dt.date(2026, 12, 31),
    )
    assert out == expected


def test_firstof_and_if_branches_print_numbers_formatted_too():
    text = (
        "{% if balance %}{{ balance }}{% endif %}|{% firstof points_expiring balance %}"
    )
    assert _render(text, "en", balance=12345) == "12,345|12,345"


def test_strings_of_digits_and_comparisons_stay_as_they_are():
    text = "{{ coupon_code }}{% if balance > 1000 %} rich{% endif %}"
    assert _render(text, "uk", balance=12345, coupon_code="12345") == "12345 rich"


def test_money_and_number_filters_write_the_locale():
    text = "{{ 1500|money_whole:'UAH' }} {{ reward_points|number:2 }} {{ 1|day }}"
    assert _render(text, "uk", balance=0) == f"1{NBSP}500{NBSP}грн 0,00 1"
    assert _render("{{ 1500|money:'UAH' }}", "en") == f"1,500.00{NBSP}UAH"


@pytest.mark.parametrize(
    "text",
    [
        "{{ first_name|points }}",
        "{{ first_name|plural:'a,b' }}",
        "{{ balance|number:'two' }}",
        "{{ balance|percent:'x' }}",
        "{{ first_name|money }}",
        "{{ tier|day }}x",
    ],
)
def test_a_filter_that_cannot_read_its_value_renders_empty(text):
    # One odd text must not stop a campaign's chunk.
    assert _render(text, "uk", tier="") in ("", "x")


def test_the_sandbox_still_refuses_attributes_and_unsafe_filters():
    for text in (
        "{{ points_expiring_date.year }}",
        "{{ balance|points|safe }}",
        "{% load loyalty_format %}",
    ):
        assert template_check(text).errors, text
    assert (
        template_check("{{ balance|points }} {{ balance|plural:'a,b' }}").errors == []
    )


def test_markup_in_a_name_is_not_escaped_nor_marked_safe():
    out = _render("{{ first_name }}: {{ balance|points }}", "en", first_name="<b>")
    assert out == "<b>: 120 points"
    assert type(out) is str  # a page showing it escapes it (the preview)


def test_a_fallback_text_is_written_in_its_own_language():
    variant = CampaignVariant(label="A", subject_uk="", body_uk="{{ balance|points }}")
    context = member_context(MemberFacts(first_name="Ana", balance=5, tier=""), [])
    assert CampaignTexts({"A": variant}).render("A", "ro", context) == (
        "uk",
        "",
        "5 балів",
    )


def test_journey_texts_use_the_same_filters_in_their_language():
    context = {"balance": 1234, "membership_ends_date": dt.date(2026, 12, 10)}
    text = "{{ balance|points }} до {{ membership_ends_date }}"
    assert journey_render(text, context, "uk") == f"1{NBSP}234 бали до 10 грудня 2026"
    assert journey_render("{{ balance|points }}", context, "ro") == "1.234 de puncte"


def test_a_journey_text_the_sandbox_cannot_read_still_replaces_names():
    assert journey_render("{% x %} {{ balance }}", {"balance": 3}, "uk") == "{% x %} 3"
    assert (
        journey_render("{% x %} {{ balance }}", {"balance": 1234}, "en")
        == "{% x %} 1,234"
    )
    assert text_errors("{% x %}", kind="birthday")
