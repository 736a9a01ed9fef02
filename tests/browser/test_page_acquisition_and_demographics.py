"""The Acquisition and the Age-and-gender pages in Chromium, over the demo's
own data (the bulk seed at a small size: every member with a source, spend
per channel, ages and genders): the charts draw, the period and store filters
change the figures, a table downloads as CSV with its header row, and at
390 px and 1280 px nothing is wider than the window."""

from __future__ import annotations

import csv
import io
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from analytics.selectors.periods import month_add, month_start
from members.models import Member, Store
from tests.browser._journey import admin_login, browser_watch

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("staff_groups"),
]
WIDTHS = (390, 1280)


@pytest.fixture
def demo(db):
    call_command(
        "seed_demo", members=150, purchases=1200, months=6, seed=11, stdout=StringIO()
    )


def _too_wide(page) -> list[str]:
    """The page's overflow, and the widest elements that stick out."""
    return page.evaluate(
        """() => {
        const over = document.documentElement.scrollWidth - window.innerWidth;
        if (over <= 0) return [];
        const out = [`the page is ${over}px wider than the window`];
        for (const el of document.querySelectorAll('body *')) {
          const r = el.getBoundingClientRect();
          if (r.right > window.innerWidth + 1 && r.width > 0) {
            let p = el.parentElement, inside = false;
            while (p) {
              const s = getComputedStyle(p).overflowX;
              if (s === 'auto' || s === 'scroll' || s === 'hidden') { inside = true; break; }
              p = p.parentElement;
            }
            if (!inside) out.push(el.tagName + '#' + el.id + '.' + el.className);
          }
          if (out.length > 12) break;
        }
        return out;
      }"""
    )


def _chart(page, canvas: str) -> dict:
    page.wait_for_function(
        "id => window.analyticsCharts && window.analyticsCharts[id]", arg=canvas
    )
    box = page.locator(f"#{canvas}").bounding_box()
    assert box and box["width"] > 0 and box["height"] > 0, canvas
    return page.evaluate(
        "id => { const c = window.analyticsCharts[id];"
        " return {labels: c.data.labels, sets: c.data.datasets.map(d => d.data)}; }",
        canvas,
    )


def _filter(page, *, first: str, last: str, store: str = "") -> None:
    page.locator("#id_from").fill(first)
    page.locator("#id_to").fill(last)
    page.locator("#id_store").select_option(store)
    page.locator("[data-testid=analytics-filter] input[type=submit]").click()
    page.wait_for_load_state()


def _download_csv(page, test_id: str) -> tuple[str, list[list[str]]]:
    with page.expect_download() as info:
        page.get_by_test_id(test_id).click()
    download = info.value
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    return download.suggested_filename, list(csv.reader(io.StringIO(text)))


def _period() -> tuple[str, str]:
    first = Member.objects.order_by("enrolled_at").first().enrolled_at
    start = month_start(timezone.localtime(first).date())
    end = month_start(timezone.localdate())
    assert month_add(start, 5) <= end
    return f"{start:%Y-%m}", f"{end:%Y-%m}"


def _store_id() -> str:
    return str(Store.objects.get(code="kyiv-center").pk)


def test_acquisition_page_draws_filters_downloads_and_fits(page, live_server, demo):
    page.set_default_timeout(15_000)
    watch = browser_watch(page)
    admin_login(page, live_server.url, "marketer", "marketer-demo")
    first, last = _period()
    page.goto(live_server.url + reverse("admin:analytics_acquisition"))
    _filter(page, first=first, last=last)
    assert f"from={first}" in page.url and f"to={last}" in page.url

    members = _chart(page, "chart-members")
    value = _chart(page, "chart-value")
    counts = dict(zip(members["labels"], members["sets"][0], strict=True))
    assert counts["Online sign-up"] > 0 and counts["Referral by a member"] > 0
    assert counts["Other or unknown"] == 0
    assert sum(counts.values()) == Member.objects.count()
    cac = dict(zip(value["labels"], value["sets"][0], strict=True))
    clv = dict(zip(value["labels"], value["sets"][1], strict=True))
    for label in ("Online sign-up", "Partner store", "Till or counter in a store"):
        assert cac[label] > 0 and clv[label] > 0, label
    rows = page.locator("#table-channels tbody tr")
    expect(rows).to_have_count(6)
    expect(page.locator("#table-utm")).to_contain_text("instagram")

    # The store filter: that store's new members only.
    _filter(page, first=first, last=last, store=_store_id())
    assert f"store={_store_id()}" in page.url
    in_store = _chart(page, "chart-members")["sets"][0]
    assert 0 < sum(in_store) < sum(counts.values())
    expect(page.locator("#id_store")).to_have_value(_store_id())

    name, table = _download_csv(page, "csv-channels")
    assert name == f"analytics-channels-{first}-{last}-store{_store_id()}.csv"
    assert table[0] == [
        "Channel",
        "New members",
        "Acquisition spend",
        "Acquisition cost per member",
        "CLV per member",
        "CLV : CAC",
        "Months to pay back",
    ]
    assert len(table) == 7

    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.reload()
        _chart(page, "chart-value")
        assert _too_wide(page) == [], width
    watch.assert_clean()


def test_age_and_gender_page_draws_filters_downloads_and_fits(page, live_server, demo):
    page.set_default_timeout(15_000)
    watch = browser_watch(page)
    admin_login(page, live_server.url, "marketer", "marketer-demo")
    first, last = _period()
    page.goto(live_server.url + reverse("admin:analytics_demographics"))
    _filter(page, first=first, last=last)

    bands = _chart(page, "chart-bands")
    retention = _chart(page, "chart-retention")
    everyone = sum(bands["sets"][0])
    assert everyone == Member.objects.count()
    assert sum(1 for n in bands["sets"][0] if n) >= 3  # ages spread over bands
    assert retention["sets"] and retention["labels"]
    expect(page.locator("#table-genders tbody tr")).to_have_count(4)
    expect(
        page.locator("#table-cohorts_age_bands td[class^=heat-]").first
    ).to_be_visible()

    _filter(page, first=first, last=last, store=_store_id())
    in_store = sum(_chart(page, "chart-bands")["sets"][0])
    assert 0 < in_store < everyone

    name, table = _download_csv(page, "csv-age_bands")
    assert name == f"analytics-age_bands-{first}-{last}-store{_store_id()}.csv"
    assert table[0][:3] == ["Group", "Members", "New members"]
    assert (
        sum(int(row[1].replace("\u202f", "").replace(" ", "")) for row in table[1:])
        == in_store
    )

    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.reload()
        _chart(page, "chart-retention")
        assert _too_wide(page) == [], width
    watch.assert_clean()
