"""Django's date formats (FORMAT_MODULE_PATH) come from members.formatting's
table: one home for how a day is written (loyalty_site.formats)."""

import importlib

import pytest
from django.conf import settings

from loyalty_site.formats import django_formats, django_pattern
from members import formatting

NAMES = (
    "DATE_FORMAT",
    "TIME_FORMAT",
    "DATETIME_FORMAT",
    "SHORT_DATE_FORMAT",
    "SHORT_DATETIME_FORMAT",
    "MONTH_DAY_FORMAT",
    "YEAR_MONTH_FORMAT",
)


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
def test_each_languages_module_is_the_table_in_djangos_letters(language):
    module = importlib.import_module(f"loyalty_site.formats.{language}.formats")
    assert {name: getattr(module, name) for name in NAMES} == django_formats(language)
    assert module.DATE_FORMAT == "j E Y"  # "d MMMM y": the genitive month
    assert module.DATETIME_FORMAT == "j E Y, H:i"
    assert module.MONTH_DAY_FORMAT == "j E"
    assert module.YEAR_MONTH_FORMAT == "F Y"  # "LLLL y": the nominative


def test_a_changed_pattern_changes_djangos_format(monkeypatch):
    monkeypatch.setitem(formatting.DATE_PATTERNS, "ro", "dd.MM.y")
    assert django_formats("ro")["DATE_FORMAT"] == "d.m.Y"
    assert django_formats("ro")["MONTH_DAY_FORMAT"] == "d.m"


def test_letters_between_fields_are_escaped_and_unknown_fields_refused():
    assert django_pattern("HH:mm") == "H:i"
    with pytest.raises(ValueError, match="no Django letter for 'EEEE'"):
        django_pattern("EEEE, d MMMM y")
    with pytest.raises(ValueError, match="quoted text"):
        django_pattern("d 'de' MMMM y")
