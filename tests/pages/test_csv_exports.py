"""Every CSV the project hands out, found from the URL resolver, opened with
hostile values in the data it shows: no cell may start a spreadsheet formula.

A URL is an export when its response is CSV or an attachment (each route is
opened as a superuser with placeholder ids, as tests/pages/test_url_inventory.py
does), or when its name or route says so (csv, export, template, ...: those
that need a real object or a known table answer 404 to a placeholder). Each
must be in EXPORTS, with a function that seeds hostile data and returns the
URLs to open, or in NOT_CSV with the reason; otherwise
`test_every_export_url_is_registered` fails, so a new export cannot ship
without passing through members.csvexport.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import resolve, reverse
from django.urls.exceptions import Resolver404
from django.utils import timezone

from members.tests.factories import MemberFactory, PartnerFactory, StoreFactory
from tests.url_walk import url_routes

pytestmark = pytest.mark.django_db

HOSTILE = ('=HYPERLINK("http://x")', "+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1")
# What a spreadsheet runs as a formula (OWASP "CSV injection"), and the one
# exception the writer makes: text that is nothing but a negative number.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
NEGATIVE_NUMBER = re.compile(r"-\d+(?:[.,\u00a0\u202f]\d+)*(?: ?%)?")
EXPORT_WORDS = re.compile(
    r"csv|export|download|settlement|template|report|xls|spreadsheet", re.I
)
_PLACEHOLDER = "999999"

# Named like an export, but not a CSV: why.
NOT_CSV = {
    "admin:members_partner_settlement": "the settlement's HTML page (its CSV "
    "is admin:members_partner_settlement_csv)",
    "portal:privacy_export": "the member's own data as JSON, not a spreadsheet",
    "api-v1:store-sales-report": "a till's POST of a day's sales (JSON), no download",
    "admin:rewards_promocode_report": "the promo code report's HTML page (its "
    "CSV is admin:rewards_promocode_report_csv)",
    "wallet:apple_pass_download": "the member's own card as a signed Apple "
    "Wallet pass (a zip), not a spreadsheet",
}


# --- the exports and the hostile data each shows -------------------------------------
# Each set-up returns [(url, values)]: the URL to open, and the hostile values the
# export must show neutralised (proof the data reached it); () for an export
# that shows nothing anyone typed.


def _partner_settlement(admin_user) -> list[tuple[str, tuple]]:
    for n, value in enumerate(HOSTILE):
        partner = PartnerFactory(name=value)
        StoreFactory(code=f"partner{n}", name=f"Partner shop {n}", partner=partner)
    month = timezone.localdate().replace(day=1)
    url = reverse("admin:members_partner_settlement_csv") + f"?month={month:%Y-%m}"
    return [(url, HOSTILE)]


def _promo_report(admin_user) -> list[tuple[str, tuple]]:
    from rewards.services.promocode_online import promo_code_redeem_online
    from rewards.tests.factories import PromoCodeFactory

    member = MemberFactory()
    for n, value in enumerate(HOSTILE):
        PromoCodeFactory(name=value, code=f"HOSTILE{n}")
        promo_code_redeem_online(
            member=member, code=f"HOSTILE{n}", idempotency_key=f"hostile-{n}"
        )
    return [(reverse("admin:rewards_promocode_report_csv") + "?by=code", HOSTILE)]


def _segment_unmatched(admin_user) -> list[tuple[str, tuple]]:
    from campaigns.models import SegmentKind
    from campaigns.segments.services import segment_import_csv, segment_save

    segment = segment_save(
        name="Fair", definition=None, by=admin_user, kind=SegmentKind.STATIC
    )
    rows = ["phone", *(value.replace('"', '""') for value in HOSTILE)]
    content = "\n".join(f'"{row}"' for row in rows).encode()
    segment_import_csv(segment=segment, file=io.BytesIO(content), by=admin_user)
    segment.refresh_from_db()
    unmatched = [row["value"] for row in segment.import_summary["unmatched"]]
    assert unmatched, "the hostile rows should match no member"
    url = reverse("admin:campaigns_segment_unmatched", args=[segment.pk])
    return [(url, tuple(unmatched))]


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.hrefs += [value for name, value in attrs if name == "href" and value]


def _linked_from(client, pages: list[str], view_name: str) -> list[str]:
    """The links to `view_name` on the given pages, as the pages print them."""
    found = []
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        parser = _Links()
        parser.feed(response.content.decode())
        for href in parser.hrefs:
            try:
                match = resolve(urlsplit(href).path)
            except Resolver404:
                continue
            if match.view_name == view_name:
                found.append(href.replace("&amp;", "&"))
    return sorted(set(found))


def _analytics_tables(admin_user) -> list[tuple[str, tuple]]:
    """Every table the dashboards link as CSV (read from the pages, so a table
    added later is opened too), for this month, with hostile store, tier and
    campaign names."""
    from campaigns.sending.services import campaign_send_now
    from campaigns.tests.factories import campaign_make
    from members.audit import StaffActor
    from rewards.tests.factories import TierFactory

    for n, value in enumerate(HOSTILE):
        StoreFactory(code=f"hostile{n}", name=value)
        TierFactory(name=value, rank=100 + n, threshold=1000 * (n + 1))
    campaign = campaign_make(name=HOSTILE[0])
    MemberFactory(email_consent=True)
    campaign_send_now(campaign=campaign, actor=StaffActor(user=admin_user))

    client = Client()
    client.force_login(admin_user)
    month = f"{timezone.localdate():%Y-%m}"
    pages = [
        reverse(name) + f"?from={month}&to={month}"
        for name in (
            "admin:analytics_overview",
            "admin:analytics_program",
            "admin:analytics_cohorts",
            "admin:analytics_demographics",
            "admin:analytics_churn",
        )
    ]
    urls = _linked_from(client, pages, "admin:analytics_export")
    tables = {resolve(urlsplit(url).path).kwargs["table"] for url in urls}
    assert {"stores", "tiers", "campaigns", "definitions"} <= tables
    seeded = {"stores": HOSTILE, "tiers": HOSTILE, "campaigns": HOSTILE[:1]}
    return [
        (url, seeded.get(resolve(urlsplit(url).path).kwargs["table"], ()))
        for url in urls
    ]


def _rfm(admin_user) -> list[tuple[str, tuple]]:
    # Segment codes and their translated names: nothing anyone types.
    return [(reverse("admin:analytics_memberrfm_csv"), ())]


def _import_templates(admin_user) -> list[tuple[str, tuple]]:
    from rewards.admin.imports import TEMPLATES

    return [
        (reverse("admin:members_member_import_template", args=[kind]), ())
        for kind in TEMPLATES
    ]


def _store_sales_template(admin_user) -> list[tuple[str, tuple]]:
    return [(reverse("admin:analytics_storesales_import_template"), ())]


def _survey_answers(admin_user) -> list[tuple[str, tuple]]:
    """Hostile question texts (the header), choices and free texts."""
    from campaigns.feedback.surveys import survey_response_submit
    from campaigns.models import QuestionKind, SurveyKind
    from campaigns.tests.factories import question_make, survey_make

    survey = survey_make(kind=SurveyKind.QUESTIONS)
    # Leading blanks of a typed answer are trimmed: those values are choices.
    pick = question_make(
        survey, QuestionKind.SINGLE, text=HOSTILE[0], order=0, choices=HOSTILE[4:]
    )
    text = question_make(survey, QuestionKind.TEXT, text=HOSTILE[3], order=1)
    for n, value in enumerate(HOSTILE):
        survey_response_submit(
            survey=survey,
            member=MemberFactory(),
            purchase=None,
            answers={pick.pk: pick.choices.all()[n % 2].pk, text.pk: value},
            comment=value,
        )
    url = reverse("admin:analytics_survey_answers_csv", args=[survey.pk])
    return [(url, HOSTILE)]


EXPORTS: dict[str, Callable[..., list[tuple[str, tuple]]]] = {
    "admin:members_partner_settlement_csv": _partner_settlement,
    "admin:rewards_promocode_report_csv": _promo_report,
    "admin:campaigns_segment_unmatched": _segment_unmatched,
    "admin:analytics_export": _analytics_tables,
    "admin:analytics_memberrfm_csv": _rfm,
    "admin:members_member_import_template": _import_templates,
    "admin:analytics_storesales_import_template": _store_sales_template,
    "admin:analytics_survey_answers_csv": _survey_answers,
}


# --- the walk --------------------------------------------------------------------------


def _concrete(route: str) -> str:
    path = re.sub(r"\(\?P<\w+>([^|)]+)[^)]*\)", r"\1", route)
    path = re.sub(r"<[^>]+>", _PLACEHOLDER, path)
    return "/" + path.replace("^", "").replace("$", "").replace("\\", "")


def _is_download(response) -> bool:
    return response.get("Content-Type", "").startswith("text/csv") or (
        "attachment" in response.get("Content-Disposition", "")
    )


def test_every_export_url_is_registered(admin_user):
    MemberFactory(user=admin_user)  # so the portal's own pages open too
    client = Client(raise_request_exception=False)
    exports, csv_urls = set(), set()
    for route, name, _pattern in url_routes():
        if EXPORT_WORDS.search(route) or EXPORT_WORDS.search(name):
            exports.add(name or route)
        if route.startswith("api/"):
            continue  # a till's token, no session; the API exports nothing
        client.force_login(admin_user)  # in case a page logged us out
        response = client.get(_concrete(route))
        if _is_download(response):
            exports.add(name or route)
        if response.get("Content-Type", "").startswith("text/csv"):
            csv_urls.add(name or route)
    assert "admin:members_partner_settlement_csv" in exports  # the walk works
    unregistered = exports - set(EXPORTS) - set(NOT_CSV)
    assert unregistered == set(), (
        "Add these to EXPORTS (with hostile data) or NOT_CSV (with the reason)"
    )
    assert set(EXPORTS) <= exports, "EXPORTS names a URL the resolver no longer has"
    assert csv_urls & set(NOT_CSV) == set(), "NOT_CSV names a CSV export"


def _unsafe(rows: list[list[str]]) -> list[str]:
    return [
        cell
        for row in rows
        for cell in row
        if cell.startswith(FORMULA_STARTS) and not NEGATIVE_NUMBER.fullmatch(cell)
    ]


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_no_export_cell_starts_a_formula(client, admin_user, store, name):
    client.force_login(admin_user)
    opened = EXPORTS[name](admin_user)
    assert opened
    for url, seeded in opened:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"] == "text/csv; charset=utf-8", url
        assert "attachment" in response["Content-Disposition"], url
        text = response.content.decode("utf-8")
        assert text.startswith("\ufeff"), f"{url}: no byte-order mark for Excel"
        rows = list(csv.reader(io.StringIO(text[1:], newline="")))
        assert rows, url
        assert _unsafe(rows) == [], url
        cells = {cell for row in rows for cell in row}
        missing = [value for value in seeded if "'" + value not in cells]
        assert missing == [], f"{url}: the seeded values did not reach it"


# --- and nothing writes CSV but the one writer ------------------------------------------

ROOT = Path(__file__).resolve().parent.parent.parent
APPS = ("members", "rewards", "campaigns", "analytics", "loyalty_site", "demo")
RAW_WRITER = re.compile(
    r"\bcsv\.(writer|DictWriter)\b|from csv import .*\b(writer|DictWriter)\b"
)


def test_no_module_writes_csv_but_the_one_writer():
    raw = [
        str(path.relative_to(ROOT))
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "tests" not in path.parts
        and path != ROOT / "members" / "csvexport.py"
        and RAW_WRITER.search(path.read_text())
    ]
    assert raw == [], "write CSV with members.csvexport.csv_writer"
