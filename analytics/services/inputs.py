"""Writes of the figures staff enter for analytics (store sales, marketing spend).
The snapshot tables have their own writer, analytics.services.snapshots."""

from __future__ import annotations

from django.db import transaction

from analytics.models import MarketingSpend, StoreSales
from members.audit import StaffActor, audited_delete
from members.models import User


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
