"""The manager's whole journey in one real Chromium, under the strict CSP.

Log in to the back office → open the analytics dashboard and see its charts
drawn → download a table as CSV → approve, in the admin queue, a points
adjustment another Manager asked for above the approval threshold → the
member's ledger and balance show the points."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from analytics.services.snapshots import snapshots_refresh_range
from conftest import staff_user_make
from members.audit import StaffActor
from members.tests.factories import MemberFactory
from rewards.models import AdjustmentRequest, AdjustmentStatus, LedgerEntry
from rewards.selectors.controls import staff_controls_get
from rewards.selectors.ledger import member_balance_get
from rewards.services import adjustment_request, purchase_record
from tests.browser._journey import admin_login, browser_watch

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _history(store) -> list:
    """Four members who bought 1 to 4 times over the last two months, with the
    analytics snapshots built for those days."""
    now = timezone.now()
    members = []
    for n in range(4):
        member = MemberFactory(
            store=store,
            first_name=f"Buyer{n}",
            enrolled_at=now - dt.timedelta(days=70),
        )
        members.append(member)
        for k in range(n + 1):
            when = now - dt.timedelta(days=60 - 15 * k)
            purchase_record(
                store=store,
                member=member,
                receipt_id=f"M{n}-{k}",
                total=Decimal("120") + n,
                occurred_at=when,
                recorded_at=when,
            )
    snapshots_refresh_range(
        day_from=(now - dt.timedelta(days=90)).date(), day_to=timezone.localdate()
    )
    return members


def test_manager_reads_the_dashboard_exports_csv_and_approves_an_adjustment(
    page, live_server, manager, store
):
    page.set_default_timeout(10_000)
    watch = browser_watch(page)
    members = _history(store)
    member = members[0]
    balance_before = member_balance_get(member_id=member.pk)
    # Another Manager asks for more points than they may give alone.
    colleague = staff_user_make("Manager", "manager2", store)
    threshold = staff_controls_get().adjustment_approval_threshold
    points = threshold + 1500
    adjustment = adjustment_request(
        member=member,
        points=points,
        reason="Lost receipts from the summer fair",
        actor=StaffActor(user=colleague),
        idempotency_key="journey-adjust-1",
    )
    assert adjustment.status == AdjustmentStatus.PENDING
    assert member_balance_get(member_id=member.pk) == balance_before

    # 1. Log in; open the analytics dashboard; the charts are drawn.
    admin_login(page, live_server.url, "manager")
    page.goto(live_server.url + reverse("admin:analytics_overview"))
    expect(page.locator("[data-metric=active_members] .kpi-value")).to_have_text("4")
    for canvas in ("chart-sales", "chart-activity"):
        page.wait_for_function(
            "id => window.analyticsCharts && window.analyticsCharts[id]", arg=canvas
        )
        box = page.locator(f"#{canvas}").bounding_box()
        assert box and box["width"] > 0 and box["height"] > 0
        drawn = page.evaluate(
            "id => window.analyticsCharts[id].data.datasets[0].data.length", canvas
        )
        assert drawn > 0

    # 2. Export the stores table as CSV.
    with page.expect_download() as info:
        page.get_by_test_id("csv-stores").click()
    download = info.value
    assert download.suggested_filename.startswith("analytics-stores-")
    assert download.suggested_filename.endswith(".csv")
    rows = list(
        csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig")))
    )
    assert rows[0] == [
        "Store",
        "Purchases",
        "Sales",
        "Average order value",
        "New members",
        "Active members",
        "Participation, %",
    ]
    assert any(row[0] == store.name for row in rows[1:]), rows

    # 3. The approval queue opens on what waits; approve the adjustment.
    page.goto(live_server.url + reverse("admin:rewards_adjustmentrequest_changelist"))
    expect(page).to_have_url(re.compile(r"status__exact=pending"))
    row = page.locator("#result_list tbody tr", has_text="Lost receipts")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"{points:,}")  # grouped, as the admin writes it
    expect(row).to_contain_text("manager2")
    row.locator("input.action-select").check()
    page.locator("select[name=action]").select_option(
        label="Approve the selected adjustments"
    )
    page.locator("button[name=index]").click()
    expect(page.locator("ul.messagelist")).to_contain_text("1 adjustment approved.")
    expect(
        page.locator("#result_list tbody tr", has_text="Lost receipts")
    ).to_have_count(0)

    # 4. The member's page shows the entry in the ledger, and the balance moved.
    page.goto(
        live_server.url + reverse("admin:members_member_change", args=[member.pk])
    )
    ledger = page.locator("#ledger-group tbody tr").first
    expect(ledger).to_contain_text(f"+{points:,}")  # grouped, as the admin writes it
    expect(ledger).to_contain_text(f"{balance_before + points:,}")

    adjustment.refresh_from_db()
    assert adjustment.status == AdjustmentStatus.APPROVED
    assert adjustment.decided_by == manager
    entry = LedgerEntry.objects.get(pk=adjustment.ledger_entry_id)
    assert (entry.account.member_id, entry.points) == (member.pk, points)
    assert entry.balance_after == balance_before + points
    assert member_balance_get(member_id=member.pk) == balance_before + points
    assert (
        AdjustmentRequest.objects.filter(status=AdjustmentStatus.PENDING).count() == 0
    )

    watch.assert_clean()
