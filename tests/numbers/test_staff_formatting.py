"""Every staff page writes money and counts through the one set of formatting
functions (members.formatting): the seeded figures have a shape no id, card,
phone or year has (a purchase of 123456.78, an adjustment of 1234567 points),
and no admin page may show them raw ("123456.78", "1234567") where their
formatted forms belong.

The pages come from the URL resolver, as in tests/pages/test_url_inventory.py: every
admin GET page without arguments, every object page of every registered model
with the id of a seeded object, and every page that takes a member or an event.
A page added later is walked too."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone, translation

from analytics.tests.dashboards.test_formatting_pages import visible_text
from members.formatting import money_format, number_format
from members.models import Member
from members.tests.factories import MemberFactory, PartnerFactory
from rewards.services import (
    points_adjust,
    points_redeem,
    purchase_record,
    purchase_return_record,
)
from tests.url_walk import url_routes

pytestmark = pytest.mark.django_db

TOTAL = Decimal("123456.78")
RETURNED = Decimal("23456.78")
POINTS = 1234567
# The raw forms Python writes: str(Decimal), str(int), with or without a
# Django-localised decimal comma.
# Any other figure of five digits or more without a group separator: a count
# or an amount derived from the seeds (the points earned, a balance).
UNGROUPED = re.compile(r"(?<![\w/.,:*-])\d{5,}(?![\w/*-]|[.,]\d)")
PHONE = re.compile(r"\+\d{12}\b")
RAW = re.compile(r"(?<![\d])(123456[.,]78|23456[.,]78|1234567)(?!\d)")

# Pages that are files or redirects, not pages with figures; the delete and
# history pages list objects by name, not figures.
SKIPPED_NAMES = ("view_on_site", "analytics_export", "import_template")
SKIPPED_SUFFIXES = ("_delete", "_history", "_unmatched")


def _object_ids() -> dict[str, int]:
    """`<app>_<model>` → the pk of its first row, for every registered model."""
    found = {}
    for model in admin.site._registry:
        pk = model._default_manager.order_by("pk").values_list("pk", flat=True)[:1]
        if pk:
            found[f"{model._meta.app_label}_{model._meta.model_name}"] = pk[0]
    return found


def staff_pages(ids: dict[str, int]) -> list[str]:
    objects = _object_ids()
    urls = []
    for route, name, pattern in url_routes():
        if not name:
            continue
        converters = pattern.pattern.converters
        if not route.startswith("admin/") or "^" in route or "(?P" in route:
            continue
        if any(s in name for s in SKIPPED_NAMES) or name.endswith(SKIPPED_SUFFIXES):
            continue
        if not converters:
            urls.append(reverse(name))
            continue
        kwargs = {}
        for arg in converters:
            if arg == "object_id":
                key = next((k for k in objects if name.startswith(f"admin:{k}_")), "")
                value = objects.get(key)
            else:
                value = ids.get(arg)
            if value is None:
                break
            kwargs[arg] = value
        else:
            urls.append(reverse(name, kwargs=kwargs))
    return urls


@pytest.fixture
def large_figures(store):
    """One member with a purchase of 123456.78, a return of 23456.78 and
    1234567 points adjusted by hand, at a partner's store, this month."""
    store.partner = PartnerFactory()
    store.address = "1 Main Street"  # not a made-up one with a postcode
    store.save()
    member = MemberFactory(store=store)
    now = timezone.now()
    purchase, _ = purchase_record(
        store=store, member=member, receipt_id="R-1", total=TOTAL, recorded_at=now
    )
    points_adjust(member=member, points=POINTS, reason="goodwill", created_by=None)
    points_redeem(member=member, store=store, points=1000, receipt_id="RED-1")
    purchase_return_record(
        purchase=purchase, store=store, receipt_id="RET-1", amount=RETURNED
    )
    return {"member_id": member.pk}


@pytest.mark.parametrize("language", ["uk", "en"])
def test_staff_pages_write_money_and_counts_by_the_locale(
    client, admin_user, large_figures, language, settings
):
    client.force_login(admin_user)
    client.raise_request_exception = False
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    pages = staff_pages(large_figures)
    identifiers = [
        value
        for row in Member.objects.values_list("card_number", "phone")
        for value in row
        if value
    ]
    assert len(pages) > 100
    with translation.override(language):
        formatted = {money_format(TOTAL): [], number_format(POINTS): []}
    problems = []
    for url in pages:
        response = client.get(url)
        assert response.status_code < 500, url
        if "html" not in response.get("Content-Type", ""):
            continue
        text = visible_text(response.content.decode())
        for value in identifiers:  # cards and phones are not quantities
            text = text.replace(value, " ")
        text = PHONE.sub(" ", text)  # a help text's example phone
        for found in [*RAW.finditer(text), *UNGROUPED.finditer(text)]:
            start = max(found.start() - 50, 0)
            problems.append((url, " ".join(text[start : found.end() + 20].split())))
        for form, where in formatted.items():
            if form in text:
                where.append(url)
    assert not problems, "\n".join(map(str, problems))
    # The walk reached the figures: their formatted forms are on the pages.
    assert all(formatted.values()), formatted
