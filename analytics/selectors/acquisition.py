"""What a period's acquisition cost divides: the acquisition marketing spend,
and for one store its share of the program-wide spend."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, Sum
from django.db.models.functions import Coalesce

from analytics.models import DailyStoreSnapshot, MarketingSpend, SpendKind
from analytics.selectors.metrics import ZERO
from analytics.selectors.periods import Period


@dataclass(frozen=True)
class AcquisitionSpend:
    """The acquisition spend a period's acquisition cost divides by its new
    members: for the whole program all of it; for one store its own spend plus
    its share of the program-wide (store-less) spend, the share being the
    store's part of the program's new members in the same period."""

    own: Decimal
    program_wide: Decimal
    allocated: Decimal | None  # the store's share of program_wide; None for all

    @property
    def total(self) -> Decimal:
        return self.own + (self.allocated or ZERO)


def acquisition_spend(
    period: Period, store_id: int | None
) -> dict[str, AcquisitionSpend]:
    """AcquisitionSpend of the period ("cur") and the previous one ("prev").
    Retention spend never counts. One query for the program, two for a store
    (the program's new members, to allocate the program-wide spend)."""
    prev = period.previous()
    windows = {
        "cur": Q(month__gte=period.first, month__lte=period.last),
        "prev": Q(month__gte=prev.first, month__lte=prev.last),
    }
    aggs = {}
    for w, q in windows.items():
        aggs[f"{w}_wide"] = Coalesce(
            Sum("amount", filter=q & Q(store__isnull=True)), ZERO
        )
        aggs[f"{w}_stores"] = Coalesce(
            Sum("amount", filter=q & Q(store__isnull=False)), ZERO
        )
        if store_id:
            aggs[f"{w}_own"] = Coalesce(
                Sum("amount", filter=q & Q(store_id=store_id)), ZERO
            )
    row = MarketingSpend.objects.filter(kind=SpendKind.ACQUISITION).aggregate(**aggs)
    if not store_id:
        return {
            w: AcquisitionSpend(
                own=row[f"{w}_wide"] + row[f"{w}_stores"],
                program_wide=row[f"{w}_wide"],
                allocated=None,
            )
            for w in windows
        }
    bounds = {"cur": (period.start, period.end), "prev": (prev.start, prev.end)}
    new_members = DailyStoreSnapshot.objects.filter(
        Q(store_id=None) | Q(store_id=store_id)
    ).aggregate(
        **{
            f"{w}_{who}": Coalesce(
                Sum("enrollments", filter=Q(day__gte=start, day__lte=end) & where),
                0,
            )
            for w, (start, end) in bounds.items()
            for who, where in (
                ("all", Q(store_id=None)),
                ("mine", Q(store_id=store_id)),
            )
        }
    )
    out = {}
    for w in windows:
        wide = row[f"{w}_wide"]
        allocated = (
            (wide * new_members[f"{w}_mine"] / new_members[f"{w}_all"]).quantize(
                Decimal("0.01")
            )
            if new_members[f"{w}_all"]
            else ZERO
        )
        out[w] = AcquisitionSpend(
            own=row[f"{w}_own"], program_wide=wide, allocated=allocated
        )
    return out
