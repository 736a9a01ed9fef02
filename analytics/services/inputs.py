"""Writes of the figures staff enter for analytics (store sales, marketing spend).
The snapshot tables have their own writer, analytics.services.snapshots."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.models import MarketingSpend, StoreSales
from members.audit import StaffActor, audited_delete
from members.errors import Conflict, InvalidInput
from members.formatting import date_format, number_format
from members.models import Store, User

MAX_SALES = Decimal("999999999999.99")  # what StoreSales.total (14 digits) holds
MAX_RECEIPTS = 2**31 - 1


@transaction.atomic
def store_sales_save(*, row: StoreSales, entered_by: User | None) -> StoreSales:
    """Save a store's total sales of a day (new or edited). Locks nothing;
    queues nothing. The (store, day) pair is unique: the admin form checks it."""
    row.entered_by = entered_by
    row.full_clean()
    row.save()
    return row


@transaction.atomic
def marketing_spend_save(
    *, row: MarketingSpend, entered_by: User | None
) -> MarketingSpend:
    """Save a month's marketing spend; any day given stands for its month.
    Locks nothing; queues nothing."""
    row.month = row.month.replace(day=1)
    row.entered_by = entered_by
    row.full_clean()
    row.save()
    return row


@transaction.atomic
def store_sales_bulk_save(*, rows: list[StoreSales], entered_by: User | None) -> int:
    """Insert many days of store sales at once (demo data, imports); a (store,
    day) already there is kept. Locks nothing; queues nothing."""
    for row in rows:
        row.entered_by = entered_by
    created = StoreSales.objects.bulk_create(
        rows, batch_size=2000, ignore_conflicts=True
    )
    return len(created)


@transaction.atomic
def marketing_spend_bulk_save(
    *, rows: list[MarketingSpend], entered_by: User | None
) -> int:
    """Insert many months of marketing spend at once. Locks nothing; queues nothing."""
    for row in rows:
        row.month = row.month.replace(day=1)
        row.entered_by = entered_by
    return len(MarketingSpend.objects.bulk_create(rows, batch_size=2000))


def store_sales_delete(*, row: StoreSales, actor: StaffActor | None = None) -> None:
    """Delete a store's day of sales entered by mistake, with the audit row of
    `actor`. Locks nothing; queues nothing."""
    audited_delete(obj=row, actor=actor)


def marketing_spend_delete(
    *, row: MarketingSpend, actor: StaffActor | None = None
) -> None:
    """Delete a month's marketing spend entered by mistake, with the audit row
    of `actor`. Locks nothing; queues nothing."""
    audited_delete(obj=row, actor=actor)


def store_sales_check(*, day: dt.date, total: Decimal, receipts: int) -> None:
    """A day's figures from a till or a file: no future day, an amount the
    column holds. InvalidInput naming the field otherwise."""
    if day > timezone.localdate():
        raise InvalidInput(_("The day has not ended yet."), field="date")
    if total < 0:
        raise InvalidInput(_("The total cannot be negative."), field="total_sales")
    if total > MAX_SALES:
        raise InvalidInput(_("The total is too large."), field="total_sales")
    if total != total.quantize(Decimal("0.01")):
        raise InvalidInput(_("Use at most two decimal places."), field="total_sales")
    if not 0 <= receipts <= MAX_RECEIPTS:
        raise InvalidInput(_("Enter a number of receipts."), field="receipts")


def _store_sales_conflict(row: StoreSales, *, total: Decimal, receipts: int):
    field = "total_sales" if row.total != total else "receipts"
    return Conflict(
        _(
            "This store's sales of %(day)s were sent before with other figures "
            "(total %(total)s, %(receipts)s receipts). A correction is made by a "
            "manager in the admin."
        )
        % {
            "day": date_format(row.day),
            "total": number_format(row.total, places=2),
            "receipts": number_format(row.receipts),
        },
        field=field,
    )


def store_sales_report(
    *, store: Store, day: dt.date, total: Decimal, receipts: int = 0
) -> tuple[StoreSales, bool]:
    """A till's daily total of its store (POST /api/v1/store-sales), idempotent
    per store and day with Stripe's semantics: the first report is written
    (False); the same figures again return that row (True, a replay); other
    figures for a day already there are a Conflict (409) naming the field that
    differs: a till never overwrites a day, a manager corrects it in the admin
    (store_sales_save). Locks nothing: the (store, day) unique constraint
    decides a race between two reports. Queues nothing."""
    total = Decimal(total)
    store_sales_check(day=day, total=total, receipts=receipts)
    with transaction.atomic(durable=True):
        row = StoreSales.objects.filter(store=store, day=day).first()
        if row is None:
            row = StoreSales(store=store, day=day, total=total, receipts=receipts)
            try:
                with transaction.atomic():
                    row.save(force_insert=True)
                return row, False
            except IntegrityError:  # the same day, reported meanwhile
                row = StoreSales.objects.get(store=store, day=day)
    if row.total != total or row.receipts != receipts:
        raise _store_sales_conflict(row, total=total, receipts=receipts)
    return row, True


def store_sales_write_many(
    *,
    new: list[StoreSales],
    changed: list[StoreSales],
    entered_by: User | None,
    durable: bool = True,
) -> None:
    """Write a chunk of a store sales file (analytics.imports): insert the new
    days, and set the figures of days already there that the file corrects
    (a staff upload replaces them, like an edit in the admin). One
    transaction; `durable=False` only inside a caller's transaction that is
    rolled back (the dry run). Locks nothing: the (store, day) unique
    constraint refuses a day inserted meanwhile (IntegrityError, nothing of
    the chunk written). Queues nothing."""
    with transaction.atomic(durable=durable):
        for row in (*new, *changed):
            row.entered_by = entered_by
        StoreSales.objects.bulk_create(new, batch_size=1000)
        StoreSales.objects.bulk_update(
            changed, ["total", "receipts", "entered_by"], batch_size=500
        )
