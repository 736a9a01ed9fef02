"""The snapshots equal a recomputation from the raw rows, and the nightly
incremental refresh after new purchases and returns equals a full recompute."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from analytics.models import (
    DailyStoreSnapshot,
    DailyVoucherSnapshot,
    MemberMonthActivity,
    MonthlyCohortSnapshot,
    RefreshState,
)
from analytics.services.snapshots import (
    changed_days,
    snapshots_refresh_incremental,
    snapshots_refresh_range,
)
from analytics.tasks import snapshots_refresh_incremental as refresh_task
from analytics.tests.conftest import at, buy
from rewards.models import LedgerEntry, Purchase, PurchaseReturn
from rewards.services import purchase_return_record

pytestmark = pytest.mark.django_db


def _table(model, exclude=("id", "computed_at")):
    rows = []
    for row in model.objects.values():
        rows.append(tuple(sorted((k, v) for k, v in row.items() if k not in exclude)))
    return sorted(rows, key=repr)


def everything():
    return {
        m.__name__: _table(m)
        for m in (
            DailyStoreSnapshot,
            DailyVoucherSnapshot,
            MemberMonthActivity,
            MonthlyCohortSnapshot,
        )
    }


def test_daily_rows_equal_sums_of_raw_rows(history):
    snapshots_refresh_range(day_from=history.m3, day_to=timezone.localdate())
    tz = timezone.get_current_timezone()
    sales = defaultdict(Decimal)
    for p in Purchase.objects.all():
        day = p.occurred_at.astimezone(tz).date()
        sales[(day, None)] += p.total
        sales[(day, p.store_id)] += p.total
    snap = {
        (s.day, s.store_id): s.sales
        for s in DailyStoreSnapshot.objects.filter(purchases__gt=0)
    }
    assert snap == dict(sales)
    net = sum(LedgerEntry.objects.values_list("points", flat=True))
    days = DailyStoreSnapshot.objects.filter(store=None)
    assert sum(d.points_net for d in days) == net
    returned = sum(PurchaseReturn.objects.values_list("amount", flat=True))
    assert sum(d.returned for d in days) == returned


def test_every_day_of_the_range_has_a_program_row(history):
    today = timezone.localdate()
    snapshots_refresh_range(day_from=history.m3, day_to=today)
    days = set(
        DailyStoreSnapshot.objects.filter(store=None).values_list("day", flat=True)
    )
    assert len(days) == (today - history.m3).days + 1


def test_incremental_after_purchases_and_returns_equals_full_recompute(history):
    today = timezone.localdate()
    snapshots_refresh_range(day_from=history.m3, day_to=today)
    # New today; a return today of an old purchase; an import back-dated 40 days
    # (outside the recent days: found by the purchase id watermark).
    buy(history.c, history.s2, timezone.now(), "55")
    old = Purchase.objects.filter(member=history.b).first()
    purchase_return_record(
        purchase=old, store=history.s1, receipt_id="RET-NEW", amount=Decimal("50")
    )
    buy(history.b, history.s1, timezone.now() - dt.timedelta(days=40), "70")
    assert (today - dt.timedelta(days=40)) in changed_days()
    result = snapshots_refresh_incremental(recent_days=2)
    assert result.days >= 3
    incremental = everything()
    # The rows really changed (the test would pass trivially otherwise).
    assert DailyStoreSnapshot.objects.get(store=None, day=today).purchases >= 1
    snapshots_refresh_range(day_from=history.m3, day_to=today)
    assert everything() == incremental


def test_incremental_twice_changes_nothing(history):
    snapshots_refresh_range(day_from=history.m3, day_to=timezone.localdate())
    first = everything()
    snapshots_refresh_incremental()
    snapshots_refresh_incremental()
    assert everything() == first
    assert changed_days() == set()


def test_watermarks_move_to_the_newest_rows(history):
    refresh_task.delay()
    state = RefreshState.objects.get()
    assert state.purchase_id == Purchase.objects.order_by("-id").first().id
    assert state.entry_id == LedgerEntry.objects.order_by("-id").first().id


def test_recompute_command_prints_progress_and_refuses_bad_dates(history, capsys):
    from django.core.management.base import CommandError

    call_command("analytics_recompute", "--from", history.m3.isoformat())
    out = capsys.readouterr().out
    assert "Done in" in out and "#" in out
    assert MemberMonthActivity.objects.exists()
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("analytics_recompute", "--from", "yesterday")
    with pytest.raises(CommandError, match="after"):
        call_command(
            "analytics_recompute", "--from", "2030-01-02", "--to", "2030-01-01"
        )


def test_cohort_cells_count_distinct_members(history):
    snapshots_refresh_range(day_from=history.m3, day_to=timezone.localdate())
    cell = MonthlyCohortSnapshot.objects.get(
        store=None, cohort=history.m3, month=history.m1
    )
    assert (cell.members, cell.active, cell.purchases) == (1, 1, 2)  # A, twice
    m1 = MonthlyCohortSnapshot.objects.get(
        store=None, cohort=history.m1, month=history.m1
    )
    assert (m1.members, m1.active) == (2, 1)  # C and D enrolled; C bought
    assert at(history.m1, 1)  # the helper is shared with the fixture


def test_demo_step_enters_inputs_and_fills_the_snapshots(history):
    import io
    from types import SimpleNamespace

    from django.core.management.base import OutputWrapper

    from analytics.models import MarketingSpend, ProgramStateSnapshot, StoreSales
    from demo.seed_analytics import seed

    StoreSales.objects.all().delete()
    MarketingSpend.objects.all().delete()
    out = io.StringIO()
    command = SimpleNamespace(
        start=at(history.m3, 1), seed=42, stdout=OutputWrapper(out)
    )
    seed(command=command)
    assert "daily snapshot rows" in out.getvalue()
    # A day with member purchases at a store gets that store's total sales,
    # of which the members' are 35-60 %.
    row = StoreSales.objects.get(store=history.s2, day=history.m1.replace(day=5))
    assert Decimal("80") / Decimal("0.67") < row.total < Decimal("80") / Decimal("0.31")
    # Two acquisition entries (program-wide or for one store) and a retention one.
    spend = MarketingSpend.objects.filter(month=history.m1)
    assert sorted(spend.values_list("kind", flat=True)) == [
        "acquisition",
        "acquisition",
        "retention",
    ]
    assert MarketingSpend.objects.filter(store__isnull=False).exists()
    assert DailyStoreSnapshot.objects.filter(store=None, purchases__gt=0).exists()
    assert ProgramStateSnapshot.objects.exists()
