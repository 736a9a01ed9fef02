"""The popular fill of “Recommended for you”: what a member with too little to
go on is offered.

A newcomer with neither a history nor stated interests gets nothing from the
scores of analytics.selectors.recommend, and a thin history or a couple of
interests often gives fewer than the n items asked for. The list is then
filled, in order, with the items most bought in the last POPULAR_DAYS days
(baskets holding them: `ItemStat.recent_baskets`, rebuilt nightly with the
other tables), leaving out what is listed already and what the member buys
anyway (the always-bought items). An item not sold in those days (taken off
the menu, out of season) is no longer available and is never offered: only
items with recent baskets are read.

The offline evaluation (analytics.selectors.recommend_eval) builds the same
list from the purchases of the POPULAR_DAYS before its cut.
"""

from __future__ import annotations

from collections.abc import Iterable

from analytics.models import ItemStat

POPULAR_DAYS = 30
# Popular items read for a fill: enough for the longest list asked (10) after
# leaving out what is listed already or always bought.
POPULAR_READ = 30


def popular_items_recent(limit: int = POPULAR_READ) -> list[tuple[str, str, str, int]]:
    """(sku, name, category, baskets in the whole window) of the items most
    bought lately, most first; only items sold in the last POPULAR_DAYS days.
    One query."""
    return list(
        ItemStat.objects.filter(recent_baskets__gt=0)
        .order_by("-recent_baskets", "sku")
        .values_list("sku", "name", "category", "baskets")[:limit]
    )


def popular_fill(
    popular: Iterable[str], *, taken: Iterable[str], leave_out: Iterable[str], n: int
) -> list[str]:
    """The popular items (in order) to add to a list holding `taken` so that
    it holds `n`: none of `taken` or `leave_out`, none twice."""
    skip = set(taken) | set(leave_out)
    wanted = n - len(set(taken))
    out: list[str] = []
    for sku in popular:
        if len(out) >= wanted:
            break
        if sku not in skip:
            out.append(sku)
            skip.add(sku)
    return out
