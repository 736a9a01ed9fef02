"""No page and no sentence for people writes a date, a time or a figure by hand:
templates use the loyalty_format filters (day, datetime, clock, month, money,
number, signed, percent), Python uses members.formatting. Django's `|date`,
`|time`, `|floatformat`, `|intcomma` and `date_format`, and strftime, write
another form per page (03/10/2026, Mar. 10, 2026, 10 Грудень 2026).

What is written for machines (an HTML attribute's ISO time, a month input's
value, a file name, a key) keeps ISO 8601: each such use is allowed below,
with its reason, and the list must stay true (a use that is gone fails too).
Every template and every non-test module is read, so one added later is too."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APPS = ("members", "rewards", "campaigns", "analytics", "loyalty_site")

TEMPLATE_FORBIDDEN = re.compile(
    r"\|\s*(date|time)\b|\|\s*(floatformat|intcomma|intword|naturalday|naturaltime)\b"
    r"|\{%\s*load\b[^%]*\bhumanize\b"
    # A percent sign written after a value: the locale spaces it (|percent).
    r"|\}\}\s?%(?!\})"
)
PYTHON_FORBIDDEN = re.compile(
    r"\bstrftime\(|\bformats\.date_format\(|\bformats\.time_format\("
    r"|from django\.utils\.formats import[^\n]*\b(date_format|time_format|localize)\b"
    r"|django\.contrib\.humanize\.templatetags"
)

# (file, the text of the use): the reason it is for a machine.
ALLOWED = {
    (
        "templates/campaigns/events/list.html",
        "{{ event.starts_at|date:'c' }}",
    ): "the <time datetime> attribute: ISO 8601 for browsers and calendars",
    (
        "templates/portal/card.html",
        "{{ balance_at|date:'c' }}",
    ): "the <time datetime> attribute the offline card reads back: ISO 8601",
    (
        "templates/admin/analytics/base.html",
        "{{ period.first|date:'Y-m' }}",
    ): "the value of an <input type=month>: the form the browser reads",
    (
        "templates/admin/analytics/base.html",
        "{{ period.last|date:'Y-m' }}",
    ): "the value of an <input type=month>: the form the browser reads",
    (
        "rewards/forms.py",
        'strftime("%Y%m%d-%H%M%S-%f")',
    ): "a receipt id the Counter proposes: a key, not a date to read",
}


def _templates() -> list[Path]:
    return sorted(
        p for p in (ROOT / "templates").rglob("*") if p.suffix in (".html", ".txt")
    )


def _modules() -> list[Path]:
    found = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            parts = path.relative_to(ROOT).parts
            if "tests" in parts or "migrations" in parts:
                continue
            found.append(path)
    return sorted(found)


def _uses(paths, pattern) -> list[tuple[str, str]]:
    uses = []
    for path in paths:
        name = str(path.relative_to(ROOT))
        for line in path.read_text(encoding="utf-8").splitlines():
            if not pattern.search(line):
                continue
            allowed = [
                text for (file, text) in ALLOWED if file == name and text in line
            ]
            if not allowed:
                uses.append((name, line.strip()))
    return uses


def test_the_walk_reads_the_templates_and_the_code():
    assert len(_templates()) > 50
    assert len(_modules()) > 200


def test_templates_write_dates_and_figures_with_the_loyalty_filters():
    assert _uses(_templates(), TEMPLATE_FORBIDDEN) == []


def test_code_writes_dates_with_members_formatting():
    assert _uses(_modules(), PYTHON_FORBIDDEN) == []


def test_every_allowed_use_is_still_there():
    gone = [
        (file, text)
        for (file, text) in ALLOWED
        if text not in (ROOT / file).read_text(encoding="utf-8")
    ]
    assert gone == []


def test_the_patterns_catch_what_they_are_for():
    for line in ('{{ x|date:"SHORT_DATE_FORMAT" }}', "{{ x|date }}", "{{ t|time }}",
                 '{{ p|floatformat:2 }}', "{{ n|intcomma }}", "{% load i18n humanize %}",
                 "<b>{{ tier.percent }}%</b>", "{{ share }} %"):  # fmt: skip
        assert TEMPLATE_FORBIDDEN.search(line), line
    for line in ("{{ x|day }}", "{{ x|datetime }}", "{{ x|clock }}", "{{ n|number }}",
                 "{{ x|percent }}", "{% if a %}{{ b }}{% endif %}"):  # fmt: skip
        assert not TEMPLATE_FORBIDDEN.search(line), line
    for line in ('d.strftime("%d.%m")', "from django.utils.formats import date_format",
                 'formats.date_format(d, "SHORT_DATE_FORMAT")'):  # fmt: skip
        assert PYTHON_FORBIDDEN.search(line), line
    assert not PYTHON_FORBIDDEN.search("from members.formatting import date_format")
