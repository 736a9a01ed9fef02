"""Retention by enrollment month (the cohort heat map), from
MonthlyCohortSnapshot."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from analytics.models import MonthlyCohortSnapshot
from analytics.selectors.metrics import ratio
from analytics.selectors.periods import month_add


def cohort_matrix(
    *, last: dt.date, months: int = 12, store_id: int | None = None
) -> dict:
    """Retention by enrollment month: for each of the `months` cohorts up to
    `last`, its size and the share of it that bought in each month since
    (offset 0 = the enrollment month). One query."""
    first = month_add(last, -(months - 1))
    cells = MonthlyCohortSnapshot.objects.filter(
        store_id=store_id, cohort__gte=first, cohort__lte=last
    ).values("cohort", "month", "members", "active", "sales")
    by_cohort: dict[dt.date, dict] = {}
    for c in cells:
        row = by_cohort.setdefault(c["cohort"], {"members": c["members"], "cells": {}})
        offset = (
            (c["month"].year - c["cohort"].year) * 12
            + c["month"].month
            - c["cohort"].month
        )
        row["cells"][offset] = c
    rows = []
    for cohort in sorted(by_cohort):
        row = by_cohort[cohort]
        size = row["members"]
        values = []
        for offset in range(months):
            if month_add(cohort, offset) > last:
                break
            c = row["cells"].get(offset)
            active = c["active"] if c else 0
            pct = ratio(active, size, 100)
            values.append(
                {
                    "offset": offset,
                    "active": active,
                    "pct": pct,
                    "shade": heat_shade(pct),
                }
            )
        rows.append({"cohort": cohort, "members": size, "cells": values})
    return {"rows": rows, "offsets": list(range(months))}


def heat_shade(pct: Decimal | None) -> int:
    """A CSS class step 0..10 for a heat-map cell (no inline styles: CSP)."""
    if pct is None:
        return 0
    return min(10, int((pct + 9) // 10))
