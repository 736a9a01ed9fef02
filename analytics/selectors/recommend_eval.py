"""Offline evaluation of the recommender: a time-split holdout.

Train on the purchases before a cut date (the co-purchase counts and each
member's history as they were then); test on the purchases in the `horizon`
days after it. A member counts as a hit at k when they bought at least one of
their top-k recommended items after the cut. The baseline recommends the k
most popular items (by baskets before the cut), leaving out the same
always-bought items ours leaves out. Members with fewer than `min_baskets`
baskets before the cut or none after it are not evaluated.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from analytics.selectors.recommend import (
    HISTORY_DAYS,
    PAIRS_PER_ITEM,
    TOP_PER_CATEGORY,
    ItemInfo,
    ItemModel,
    copurchase_pairs,
    item_stats_query,
    member_histories,
    purchase_lines,
    rank_items,
)


@dataclass(frozen=True)
class EvalRow:
    k: int
    ours: float
    baseline: float

    @property
    def lift(self) -> float | None:
        return self.ours / self.baseline if self.baseline else None


@dataclass(frozen=True)
class EvalResult:
    cut: dt.datetime
    horizon_days: int
    members: int
    rows: list[EvalRow]


def item_model_build(*, since: dt.datetime, until: dt.datetime) -> ItemModel:
    """The whole item model in memory, from the purchases in [since, until)."""
    stats = {
        row["sku"]: ItemInfo(
            row["sku"], row["name"] or "", row["category"] or "", row["baskets"]
        )
        for row in item_stats_query(since, until)
    }
    pairs: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for (a, b), n in copurchase_pairs(since=since, until=until).items():
        pairs[a].append((b, n))
    for a in pairs:
        pairs[a] = sorted(pairs[a], key=lambda bn: (-bn[1], bn[0]))[:PAIRS_PER_ITEM]
    by_category: dict[str, list[str]] = defaultdict(list)
    for info in sorted(stats.values(), key=lambda i: (-i.baskets, i.sku)):
        if len(by_category[info.category]) < TOP_PER_CATEGORY:
            by_category[info.category].append(info.sku)
    category_baskets: dict[str, int] = defaultdict(int)
    for info in stats.values():
        category_baskets[info.category] += info.baskets
    return ItemModel(
        pairs=dict(pairs),
        stats=stats,
        by_category=dict(by_category),
        category_baskets=dict(category_baskets),
        max_baskets=max((i.baskets for i in stats.values()), default=1),
    )


def recommend_evaluate(
    *,
    cut: dt.datetime,
    ks: tuple[int, ...] = (1, 3, 5, 10),
    history_days: int = HISTORY_DAYS,
    horizon_days: int = 60,
    min_baskets: int = 2,
) -> EvalResult:
    """Hit rate at each k for our recommender and the most-popular baseline."""
    since = cut - dt.timedelta(days=history_days)
    model = item_model_build(since=since, until=cut)
    histories = member_histories(since=since, until=cut)
    future: dict[int, set[str]] = defaultdict(set)
    after = purchase_lines(cut, cut + dt.timedelta(days=horizon_days))
    for member_id, sku in after.values_list("purchase__member_id", "sku").distinct():
        future[member_id].add(sku)
    popular = [
        info.sku
        for info in sorted(model.stats.values(), key=lambda i: (-i.baskets, i.sku))
    ]
    top_k = max(ks)
    hits_ours = dict.fromkeys(ks, 0)
    hits_base = dict.fromkeys(ks, 0)
    evaluated = 0
    for member_id, history in histories.items():
        bought = future.get(member_id)
        if not bought or history.baskets < min_baskets:
            continue
        evaluated += 1
        ours = [r.sku for r in rank_items(history, model, n=top_k)]
        always = history.always_bought()
        base = [sku for sku in popular if sku not in always][:top_k]
        for k in ks:
            hits_ours[k] += bool(set(ours[:k]) & bought)
            hits_base[k] += bool(set(base[:k]) & bought)
    rows = [
        EvalRow(
            k=k,
            ours=hits_ours[k] / evaluated if evaluated else 0.0,
            baseline=hits_base[k] / evaluated if evaluated else 0.0,
        )
        for k in ks
    ]
    return EvalResult(cut=cut, horizon_days=horizon_days, members=evaluated, rows=rows)


def evaluation_table(result: EvalResult) -> str:
    """The result as a plain-text table."""
    lines = [
        f"Cut {result.cut:%Y-%m-%d}, {result.horizon_days} days after it; "
        f"{result.members} members evaluated.",
        f"{'k':>3}  {'ours':>8}  {'most popular':>12}  {'lift':>6}",
    ]
    for row in result.rows:
        lift = f"{row.lift:.2f}x" if row.lift is not None else "-"
        lines.append(f"{row.k:>3}  {row.ours:>8.3f}  {row.baseline:>12.3f}  {lift:>6}")
    return "\n".join(lines)
