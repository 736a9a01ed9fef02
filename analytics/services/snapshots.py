"""Refreshing the snapshot tables: the only writer of analytics.models.snapshots
but PeriodMemberStats (analytics.services.period_stats keeps the figures of a
period there; a refresh of the program state empties it).

`snapshots_refresh_range` recomputes a range of days from the source rows (the
management command `analytics_recompute`); `snapshots_refresh_incremental` is
the nightly job: the last ANALYTICS_RECENT_DAYS days plus every day on which a
source row appeared since the last run.

How a changed day is found: RefreshState keeps the highest id the last run saw
of purchases, returns, ledger entries, members, vouchers, tier changes and
referrals. Rows above those ids are new; their own dates (a purchase's
occurred_at, which an import may back-date; the others' created_at,
enrolled_at, issued_at) name the days to recompute. Updates in place (a voucher
used, a referral qualified, a purchase's returned total) happen "now", so the
recent days cover them. Each range is deleted and rewritten in one
transaction, so a refresh that runs twice leaves the same rows.

With a read replica (members.replica) the source rows, the watermarks read
from them and the program state are read there, even inside the refresh's
locked transaction (`replica_reads(in_transactions=True)`): the refresh
never writes them. The watermarks and the rows come from the same server, so
rows the replica had not yet replayed are above the saved watermark and
counted next time. The member months are one INSERT … SELECT on the primary,
and the cohorts read the member months this transaction wrote: both stay on
the primary."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.db.models.functions import TruncDate
from django.utils import timezone

from analytics.locks import refresh_state_lock
from analytics.models import (
    DailyStoreSnapshot,
    DailyVoucherSnapshot,
    MemberMonthActivity,
    MonthlyCohortSnapshot,
    PeriodMemberStats,
    ProgramStateSnapshot,
    RefreshState,
)
from analytics.selectors import aggregates
from analytics.selectors.periods import as_date, month_add, month_end, month_start
from members.models import Member
from members.replica import replica_reads
from rewards.models import (
    LedgerEntry,
    Purchase,
    PurchaseReturn,
    Referral,
    TierHistory,
    Voucher,
)

# source model, RefreshState field, the date a new row belongs to
WATERMARKS = [
    (Purchase, "purchase_id", "occurred_at"),
    (PurchaseReturn, "return_id", "created_at"),
    (LedgerEntry, "entry_id", "created_at"),
    (Member, "member_id", "enrolled_at"),
    (Voucher, "voucher_id", "issued_at"),
    (TierHistory, "tier_change_id", "created_at"),
    (Referral, "referral_id", "created_at"),
]

SNAPSHOT_FIELDS = [
    f.name
    for f in DailyStoreSnapshot._meta.concrete_fields
    if f.name not in {"id", "day", "store", "computed_at"}
]


@dataclass
class RefreshResult:
    """What a refresh rewrote."""

    days: int = 0
    months: list[dt.date] = field(default_factory=list)
    daily_rows: int = 0
    member_month_rows: int = 0
    cohort_rows: int = 0


def local_today() -> dt.date:
    return timezone.localdate()


def _ranges(days: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive runs of days as (first, last) pairs."""
    out: list[list[dt.date]] = []
    for day in sorted(set(days)):
        if out and day == out[-1][1] + dt.timedelta(days=1):
            out[-1][1] = day
        else:
            out.append([day, day])
    return [(a, b) for a, b in out]


def daily_refresh(*, day_from: dt.date, day_to: dt.date) -> int:
    """Rewrite DailyStoreSnapshot and DailyVoucherSnapshot for the days (one
    transaction; locks nothing else; queues nothing). Returns the rows written."""
    with replica_reads(in_transactions=True):
        rows = aggregates.daily_aggregates(day_from, day_to)
        vouchers = aggregates.voucher_aggregates(day_from, day_to)
    now = timezone.now()
    # A row for every day of the program, even an empty one: charts have no gaps.
    day = day_from
    while day <= day_to:
        rows.setdefault((day, None), {})
        day += dt.timedelta(days=1)
    snapshots = []
    for (day, store_id), values in rows.items():
        snapshot = DailyStoreSnapshot(
            day=as_date(day), store_id=store_id, computed_at=now
        )
        for name, value in values.items():
            setattr(snapshot, name, value or 0)
        snapshots.append(snapshot)
    voucher_rows = [
        DailyVoucherSnapshot(day=as_date(day), source=source, **values)
        for (day, source), values in vouchers.items()
    ]
    with transaction.atomic():
        DailyStoreSnapshot.objects.filter(day__gte=day_from, day__lte=day_to).delete()
        DailyVoucherSnapshot.objects.filter(day__gte=day_from, day__lte=day_to).delete()
        DailyStoreSnapshot.objects.bulk_create(snapshots, batch_size=2000)
        DailyVoucherSnapshot.objects.bulk_create(voucher_rows, batch_size=2000)
    return len(snapshots)


def member_month_refresh(*, months: list[dt.date]) -> int:
    """Rewrite MemberMonthActivity for the months with one INSERT … SELECT
    grouped in the database (the rows never pass through Python)."""
    if not months:
        return 0
    select = aggregates.member_month_select(months)
    sql, params = select.query.sql_with_params()
    table = MemberMonthActivity._meta.db_table
    columns = "month, member_id, store_id, purchases, sales, first_day, last_day"
    with transaction.atomic(), connection.cursor() as cursor:
        MemberMonthActivity.objects.filter(month__in=months).delete()
        cursor.execute(f"INSERT INTO {table} ({columns}) {sql}", params)  # noqa: S608
        written = cursor.rowcount
    if connection.vendor == "sqlite":
        # SQLite's month truncation gives a timestamp string; keep the date.
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET month = substr(month, 1, 10), "  # noqa: S608
                "first_day = substr(first_day, 1, 10), "
                "last_day = substr(last_day, 1, 10) WHERE length(month) > 10 "
                "OR length(first_day) > 10 OR length(last_day) > 10"
            )
    return written


def cohorts_refresh(*, months: set[dt.date], through: dt.date) -> int:
    """Rewrite the cohort cells whose month or enrollment month is in `months`,
    for every month up to `through` (a month), from MemberMonthActivity."""
    if not months:
        return 0
    sizes = aggregates.cohort_sizes()
    activity = aggregates.cohort_activity(months)
    cells = []
    for (cohort, store_id), size in sizes.items():
        month = cohort
        while month <= through:
            if month in months or cohort in months:
                found = activity.get((cohort, month, store_id), {})
                cells.append(
                    MonthlyCohortSnapshot(
                        cohort=cohort,
                        month=month,
                        store_id=store_id,
                        members=size,
                        active=found.get("active") or 0,
                        purchases=found.get("purchases") or 0,
                        sales=found.get("sales") or 0,
                    )
                )
            month = month_add(month, 1)
    with transaction.atomic():
        MonthlyCohortSnapshot.objects.filter(month__in=months).delete()
        MonthlyCohortSnapshot.objects.filter(cohort__in=months).delete()
        MonthlyCohortSnapshot.objects.bulk_create(cells, batch_size=2000)
    return len(cells)


def program_state_refresh(*, day: dt.date) -> ProgramStateSnapshot:
    """Record the program's balances, debts and tiers as they stand now, as
    `day`; the kept period figures are stale from now on and go."""
    PeriodMemberStats.objects.all().delete()
    with replica_reads(in_transactions=True):
        state = aggregates.program_state()
    snapshot, _created = ProgramStateSnapshot.objects.update_or_create(
        day=day, defaults={**state, "computed_at": timezone.now()}
    )
    return snapshot


def _months_of(days: Iterable[dt.date]) -> list[dt.date]:
    return sorted({month_start(d) for d in days})


def snapshots_refresh_range(
    *,
    day_from: dt.date,
    day_to: dt.date,
    progress: Callable[[int, int], None] | None = None,
) -> RefreshResult:
    """Recompute every snapshot for the days day_from..day_to (whole months for
    the member and cohort tables), a month per step; then the program state.
    Moves the watermarks to the newest rows when the range reaches today, so
    the nightly job starts from there. Locks nothing; queues nothing."""
    if day_from > day_to:
        raise ValueError("day_from is after day_to")
    marks = _current_marks()
    result = RefreshResult()
    months = []
    month = month_start(day_from)
    while month <= day_to:
        months.append(month)
        month = month_add(month, 1)
    for i, month in enumerate(months):
        a = max(month, day_from)
        b = min(month_end(month), day_to)
        result.daily_rows += daily_refresh(day_from=a, day_to=b)
        result.member_month_rows += member_month_refresh(months=[month])
        if progress:
            progress(i + 1, len(months) + 1)
    result.cohort_rows = cohorts_refresh(
        months=set(months), through=max(months[-1], month_start(local_today()))
    )
    result.days = (day_to - day_from).days + 1
    result.months = months
    today = local_today()
    program_state_refresh(day=min(day_to, today))
    if day_to >= today:
        _marks_save(marks)
    if progress:
        progress(len(months) + 1, len(months) + 1)
    return result


def _current_marks() -> dict[str, int]:
    marks = {}
    with replica_reads(in_transactions=True):
        for model, name, _at in WATERMARKS:
            marks[name] = model.objects.aggregate(m=Max("id"))["m"] or 0
    return marks


def _marks_save(marks: dict[str, int]) -> None:
    state, _created = RefreshState.objects.get_or_create(pk=1)
    for name, value in marks.items():
        setattr(state, name, value)
    state.refreshed_at = timezone.now()
    state.save()


def changed_days(*, marks: dict[str, int] | None = None) -> set[dt.date]:
    """Days on which a source row appeared above the stored watermarks."""
    state, _created = RefreshState.objects.get_or_create(pk=1)
    marks = marks or _current_marks()
    days: set[dt.date] = set()
    for model, name, at in WATERMARKS:
        low, high = getattr(state, name), marks[name]
        if high <= low:
            continue
        found = (
            model.objects.filter(id__gt=low, id__lte=high)
            .annotate(_day=TruncDate(at))
            .values_list("_day", flat=True)
            .distinct()
            .order_by()
        )
        with replica_reads(in_transactions=True):
            days.update(as_date(d) for d in found if d is not None)
    return days


def snapshots_refresh_incremental(
    *, today: dt.date | None = None, recent_days: int | None = None
) -> RefreshResult:
    """The nightly refresh: the last `recent_days` days (ANALYTICS_RECENT_DAYS)
    and every day with new source rows since the last run, the months they fall
    in (member months, cohorts), and the program state of today. Runs under
    the RefreshState row lock, so two runs do not interleave."""
    today = today or local_today()
    recent = settings.ANALYTICS_RECENT_DAYS if recent_days is None else recent_days
    RefreshState.objects.get_or_create(pk=1)
    with transaction.atomic():
        refresh_state_lock()
        marks = _current_marks()
        days = changed_days(marks=marks)
        days |= {today - dt.timedelta(days=i) for i in range(recent)}
        days = {d for d in days if d <= today}
        result = RefreshResult(days=len(days))
        for a, b in _ranges(days):
            result.daily_rows += daily_refresh(day_from=a, day_to=b)
        months = _months_of(days)
        result.months = months
        result.member_month_rows = member_month_refresh(months=months)
        result.cohort_rows = cohorts_refresh(
            months=set(months), through=month_start(today)
        )
        program_state_refresh(day=today)
        _marks_save(marks)
    return result
