"""Django's date formats (FORMAT_MODULE_PATH), for what Django writes itself:
the admin's change lists and read-only fields, `|date` with a named format.

They are not written here but derived from members.formatting's table
(DATE_PATTERNS, TIME_PATTERN, MONTH_PATTERN), the one home of how a day is
written: its Babel/CLDR patterns are turned into Django's letters ("d MMMM y"
→ "j E Y": Django's "E" is the month's name a date takes, the genitive in uk
and ru; "HH:mm" → "H:i"). Each language's module (uk/formats.py ...) sets
its names from `django_formats(language)`. The pages write dates with the
loyalty_format filters; tests/i18n checks that both agree in every language.
"""

from __future__ import annotations

import re

from members.formatting import DATE_PATTERNS, MONTH_PATTERN, TIME_PATTERN

# Babel (CLDR) pattern fields → Django's date format letters, for the fields
# the table uses; another field is an error here rather than a wrong date.
_FIELDS = {
    "d": "j",
    "dd": "d",
    "M": "n",
    "MM": "m",
    "MMMM": "E",  # the month as a date takes it (genitive in uk, ru)
    "LLLL": "F",  # the month on its own (nominative)
    "y": "Y",
    "yyyy": "Y",
    "HH": "H",
    "H": "G",
    "mm": "i",
    "ss": "s",
}
_FIELD = re.compile(r"([A-Za-z])\1*")


def django_pattern(babel_pattern: str) -> str:
    """A Babel pattern of members.formatting in Django's letters; the text
    between fields (spaces, dots, commas, colons) is escaped for Django."""
    out: list[str] = []
    position = 0
    for field in _FIELD.finditer(babel_pattern):
        out.append(_literal(babel_pattern[position : field.start()]))
        try:
            out.append(_FIELDS[field.group(0)])
        except KeyError:
            raise ValueError(
                f"no Django letter for {field.group(0)!r} in {babel_pattern!r}"
            ) from None
        position = field.end()
    out.append(_literal(babel_pattern[position:]))
    return "".join(out)


def _literal(text: str) -> str:
    if "'" in text:
        raise ValueError(f"quoted text is not supported: {text!r}")
    return "".join(f"\\{c}" if c.isalpha() or c == "\\" else c for c in text)


def django_formats(language: str) -> dict[str, str]:
    """The FORMAT_MODULE_PATH names of `language`, from members.formatting."""
    day = django_pattern(DATE_PATTERNS[language])
    time = django_pattern(TIME_PATTERN)
    # The day and month of the date pattern, its year left out.
    month_day = re.sub(r"[\s,.]*\bY\b[\s,.]*", "", day).strip()
    return {
        "DATE_FORMAT": day,
        "TIME_FORMAT": time,
        "DATETIME_FORMAT": f"{day}, {time}",
        "SHORT_DATE_FORMAT": day,
        "SHORT_DATETIME_FORMAT": f"{day}, {time}",
        "MONTH_DAY_FORMAT": month_day,
        "YEAR_MONTH_FORMAT": django_pattern(MONTH_PATTERN),
    }
