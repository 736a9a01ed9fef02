"""Every page a customer or a member of staff reads writes money, dates and
counts through members.formatting, in every language.

The demo is seeded (its customer has purchases, vouchers, a tier with a next
tier and its deadline, stamp cards and a paid membership); then the customer
opens every page of the portal and a superuser every staff page that is not a
stock change list: the Counter, the analytics dashboards, Member 360, the
custom admin views. Pages come from the URL resolver, so a page added later is
walked too. On uk and ru pages: no "UAH" (the hryvnia is "грн") and no month in
the nominative right after a day ("10 Грудень"). On en pages: every date in
the one English form ("10 December 2026"), none as 10/12/2026, Dec. 10, 2026
or 2026-12-10. On every page: no "1 points"-style count.
"""

from __future__ import annotations

import html
import re
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from demo.data import DEMO_EMAIL
from members.models import Member, User
from rewards.models import Tier, TierQualification
from rewards.selectors.tiers import tier_progress_get
from rewards.tests.factories import TierFactory
from tests.pages.test_url_inventory import CUSTOMER, PUBLIC
from tests.url_walk import url_routes


def visible_text(content: str) -> str:
    """What a person reads of a page, one line per piece of text: no markup,
    scripts, styles or text boxes (what was typed, not what the page writes)."""
    content = re.sub(r"(?is)<(script|style|textarea)\b.*?</\1>", "\n", content)
    content = re.sub(r"(?s)<[^>]+>", "\n", content)
    return html.unescape(content)


pytestmark = pytest.mark.django_db

NOMINATIVE_MONTHS = [
    "січень",
    "лютий",
    "березень",
    "квітень",
    "травень",
    "червень",
    "липень",
    "серпень",
    "вересень",
    "жовтень",
    "листопад",
    "грудень",
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
]
# A day number, then a month in the nominative: "10 Грудень", "1 Декабрь", in
# one piece of text (not a column header's number above a row's month).
NOMINATIVE_AFTER_DAY = re.compile(
    r"(?<!\d)\d{1,2}[ \u00a0]+(" + "|".join(NOMINATIVE_MONTHS) + r")\b",
    re.IGNORECASE,
)
EN_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|"
    "November|December"
)
# The one English form (members.formatting.DATE_PATTERNS["en"]).
EN_DATE = re.compile(rf"\b\d{{1,2}} ({EN_MONTHS}) \d{{4}}\b")
# What English pages wrote before: 03/10/2026, 2026-03-10, Mar. 10, 2026,
# March 10, 2026, 10 Mar 2026.
EN_OTHER_DATES = re.compile(
    r"\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b"
    rf"|\b({EN_MONTHS}|[A-Z][a-z]{{2}}\.?) \d{{1,2}}, \d{{4}}\b"
    r"|\b\d{1,2} (Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.? \d{4}\b"
)
# "1 points", "1 visits": a count of one with a plural noun.
ONE_PLURAL = re.compile(
    r"(?<![\d.,])\b1 (points|visits|stamps|months|days|members|"
    r"places|vouchers|purchases|replies)\b"
)

# Files and redirects, not pages people read.
SKIPPED = ("analytics_export", "import_template", "view_on_site", "privacy_export")


@pytest.fixture
def demo(staff_groups):
    """The demo customer, with a tier above theirs to reach by a deadline (the
    demo makes them Gold, its highest)."""
    call_command("seed_demo", members=12, months=3, stdout=StringIO())
    top = Tier.objects.order_by("-rank").first()
    TierFactory(
        name="Platinum",
        rank=top.rank + 1,
        qualification=TierQualification.SPEND,
        threshold=Decimal("900000"),
    )
    member = Member.objects.get(email=DEMO_EMAIL)
    progress = tier_progress_get(member=member)
    assert progress.next is not None and progress.deadline is not None
    return member


def _fill(route: str, values: dict) -> str:
    path = re.sub(
        r"<(?:\w+:)?(\w+)>", lambda m: str(values.get(m.group(1), "0")), route
    )
    return "/" + path


def customer_pages(member: Member) -> list[str]:
    from campaigns.models import Complaint, ContentPage, Event
    from rewards.models import Voucher

    voucher = Voucher.objects.filter(member=member).order_by("-pk").first()
    complaint = Complaint.objects.filter(member=member).order_by("pk").first()
    page = ContentPage.objects.order_by("pk").first()
    event = Event.objects.order_by("pk").first()
    values = {
        "code": voucher.code if voucher else "none",
        "complaint_id": complaint.pk if complaint else 0,
        "event_id": event.pk if event else 0,
        "slug": page.slug if page else "none",
    }
    pages = []
    for route, name, _pattern in url_routes():
        if name not in CUSTOMER and name not in PUBLIC:
            continue
        if route.startswith(("api/", "admin/")) or any(s in name for s in SKIPPED):
            continue
        if "(?P" in route or "^" in route:
            continue
        pages.append(_fill(route, values))
    return pages


def staff_pages(member: Member) -> list[str]:
    """The admin's own views, not the stock change lists and forms of a model
    (tests/numbers walks those): the Counter, analytics, Member 360, and each
    ModelAdmin's extra views (simulate, figures, work, attendees ...)."""
    from campaigns.models import Campaign, Complaint, Event

    ids = {
        "member_id": member.pk,
        "event_id": getattr(Event.objects.order_by("pk").first(), "pk", 0),
    }
    objects = {
        "campaign": Campaign.objects.order_by("pk").first(),
        "complaint": Complaint.objects.order_by("pk").first(),
        "event": Event.objects.order_by("pk").first(),
    }
    stock = ("_changelist", "_add", "_change", "_delete", "_history", "_autocomplete")
    pages = []
    for route, name, pattern in url_routes():
        if not route.startswith("admin/") or not name or "^" in route or "(?P" in route:
            continue
        if name.endswith(stock) or any(s in name for s in SKIPPED):
            continue
        if name in ("admin:login", "admin:logout", "admin:password_change",
                    "admin:password_change_done", "admin:jsi18n", "admin:app_list",
                    "admin:view_on_site", "admin:autocomplete"):  # fmt: skip
            continue
        kwargs = {}
        for arg in pattern.pattern.converters:
            if arg in ids:
                kwargs[arg] = ids[arg]
            elif arg == "object_id":
                model = re.match(r"admin:\w+?_(\w+?)_", name)
                obj = objects.get(model.group(1)) if model else None
                if obj is None:
                    break
                kwargs[arg] = obj.pk
            else:
                break
        else:
            pages.append(reverse(name, kwargs=kwargs))
    return pages


def _problems(url: str, text: str, language: str) -> list[tuple[str, str]]:
    found = []

    def near(m):
        return " ".join(text[max(m.start() - 40, 0) : m.end() + 20].split())

    if language in ("uk", "ru"):
        found += [(url, near(m)) for m in re.finditer(r"\bUAH\b", text)]
        found += [(url, near(m)) for m in NOMINATIVE_AFTER_DAY.finditer(text)]
    if language == "en":
        found += [(url, near(m)) for m in EN_OTHER_DATES.finditer(text)]
    found += [(url, near(m)) for m in ONE_PLURAL.finditer(text)]
    return found


def _walk(client, pages, languages, *, texts=None) -> list:
    problems = []
    for language in languages:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        for url in pages:
            response = client.get(url)
            assert response.status_code < 500, (language, url)
            if "html" not in response.get("Content-Type", ""):
                continue
            text = visible_text(response.content.decode())
            if texts is not None:
                texts.setdefault(language, []).append(text)
            problems += _problems(url, text, language)
    return problems


def test_customer_pages_write_money_dates_and_counts_by_the_language(client, demo):
    pages = customer_pages(demo)
    assert len(pages) >= 20
    client.force_login(demo.user)
    client.raise_request_exception = False
    texts: dict[str, list[str]] = {}
    problems = _walk(client, pages, ("uk", "ru", "en"), texts=texts)
    assert problems == [], "\n".join(map(str, problems))
    # The walk reached dates and money: the checks above had something to check.
    joined = {language: " ".join(found) for language, found in texts.items()}
    assert "грн" in joined["uk"] and "грн" in joined["ru"]
    assert len(EN_DATE.findall(joined["en"])) >= 5
    assert re.search(r"\d{1,2} (січня|лютого|березня|квітня|травня|червня|липня|"
                     r"серпня|вересня|жовтня|листопада|грудня) \d{4}",
                     joined["uk"])  # fmt: skip


def test_staff_pages_write_money_dates_and_counts_by_the_language(client, demo):
    pages = staff_pages(demo)
    assert any("/counter/" in page for page in pages)
    assert any("/analytics/" in page for page in pages)
    assert any(str(demo.pk) in page and "360" in page for page in pages), pages
    admin_user = User.objects.create_superuser("walker", "walker@example.com", "x")
    client.force_login(admin_user)
    client.raise_request_exception = False
    texts: dict[str, list[str]] = {}
    problems = _walk(client, pages, ("uk", "ru", "en"), texts=texts)
    assert problems == [], "\n".join(map(str, problems))
    assert "грн" in " ".join(texts["uk"])
