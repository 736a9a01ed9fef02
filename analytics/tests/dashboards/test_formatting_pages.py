"""Every staff page of analytics and Member 360, in every language, writes its
figures through the one set of filters: no raw decimals (306517.190000000), no
large number without the locale's group separator, no doubled full stop after
a time ("6:24 a.m.."). The pages are listed from the URL resolver, so a page
added later is walked too."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from analytics.models import MarketingSpend, StoreSales
from analytics.services.rfm import rfm_refresh
from analytics.services.snapshots import snapshots_refresh_range
from analytics.tests.conftest import at, buy
from members.models import Member
from tests.url_walk import url_routes

pytestmark = pytest.mark.django_db

# Python writes a Decimal with a "." and no groups: 306517.190000000, 1234.5.
# In Romanian "." groups thousands (306.517,19), so only the second form there.
RAW_DECIMAL = re.compile(r"(?<![\d.])\d+\.\d{3,}(?!\d)|\d{4,}[.,]\d")
RAW_DECIMAL_RO = re.compile(r"\d{4,}[.,]\d")
UNGROUPED = re.compile(r"(?<![\w/-])\d{5,}(?![\w/-])")
DOUBLE_STOP = re.compile(r"(?<!\.)\.\s?\.(?!\.)")


def staff_pages(member_id: int) -> list[str]:
    """The GET pages under admin/analytics/ without arguments, and Member 360."""
    urls = []
    for route, name, _pattern in url_routes():
        if name == "admin:member360":
            urls.append(reverse(name, args=[member_id]))
        elif (
            route.startswith("admin/analytics/")
            and "<" not in route
            and "^" not in route
            and name.startswith("admin:")
        ):
            urls.append(reverse(name))
    return urls


def visible_text(content: str) -> str:
    """What a person reads of a page: no markup, scripts, styles or the
    contents of text boxes (what was typed, not what the page writes)."""
    content = re.sub(r"(?is)<(script|style|textarea)\b.*?</\1>", " ", content)
    content = re.sub(r"(?s)<[^>]+>", " ", content)
    return html.unescape(content)


@pytest.fixture
def large_figures(history):
    """The conftest history with figures above 1000 that have decimals."""
    h = history
    for day, total in ((11, "4321.09"), (12, "98765.43"), (13, "203430.67")):
        buy(h.a, h.s1, at(h.m1, day), total)
    buy(h.c, h.s2, at(h.m1, 14), "1234.56")
    StoreSales.objects.create(
        store=h.s1, day=h.m1.replace(day=11), total=Decimal("456789.12")
    )
    MarketingSpend.objects.create(month=h.m1, amount=Decimal("12345.67"), store=h.s1)
    snapshots_refresh_range(day_from=h.m3, day_to=timezone.localdate())
    rfm_refresh()
    return h


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
def test_staff_pages_write_numbers_and_times_by_the_locale(
    client, manager, large_figures, language
):
    h = large_figures
    client.force_login(manager)
    client.raise_request_exception = False  # a page the Manager may not see: 403
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    identifiers = [
        value
        for row in Member.objects.values_list("card_number", "phone")
        for value in row
        if value
    ]
    params = {"from": f"{h.m2:%Y-%m}", "to": f"{h.m1:%Y-%m}"}
    pages = staff_pages(h.a.pk)
    assert len(pages) >= 5
    problems = []
    for url in pages:
        for query in (params, {**params, "store": h.s1.pk}):
            response = client.get(url, query)
            assert response.status_code < 500, url
            if "html" not in response.get("Content-Type", ""):
                continue
            text = visible_text(response.content.decode())
            for value in identifiers:  # cards and phones are not quantities
                text = text.replace(value, " ")
            raw = RAW_DECIMAL_RO if language == "ro" else RAW_DECIMAL
            for pattern in (raw, UNGROUPED, DOUBLE_STOP):
                for found in pattern.finditer(text):
                    start = max(found.start() - 40, 0)
                    problems.append(
                        (url, found.group(), text[start : found.end() + 20])
                    )
    assert not problems, problems
