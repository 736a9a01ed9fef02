"""Offline evaluation of the recommender: a time-split holdout.

Train on the purchases before a cut date (the co-purchase counts and each
member's history as they were then); test on the purchases in the `horizon`
days after it. A member counts as a hit at k when they bought at least one of
their top-k recommended items after the cut. The baseline recommends the k
most popular items (by baskets before the cut), leaving out the same
always-bought items ours leaves out. Members with fewer than `min_baskets`
baskets before the cut or none after it are not evaluated (with
`min_baskets=0`, members who bought only after the cut are evaluated too).

Ours is scored three ways: on the history alone (the method before interests),
with the member's stated interests weighed in for a thin history (under
THIN_BASKETS baskets; recommend_interests), and with the interests and a list
shorter than k filled with the items most bought in the POPULAR_DAYS before the
cut (recommend_popular; the recommender's way since). The interests are the ones picked
now: the demo and most shops do not date them. The members with a thin
history are also reported on their own (`thin_rows`), where the two differ.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field, replace

from analytics.selectors.recommend import (
    HISTORY_DAYS,
    PAIRS_PER_ITEM,
    TOP_PER_CATEGORY,
    ItemInfo,
    ItemModel,
    MemberHistory,
    copurchase_pairs,
    item_stats_query,
    member_histories,
    purchase_lines,
    rank_items,
)
from analytics.selectors.recommend_interests import (
    THIN_BASKETS,
    member_interest_categories,
)
from analytics.selectors.recommend_popular import POPULAR_DAYS


@dataclass(frozen=True)
class EvalRow:
    k: int
    ours: float
    baseline: float
    with_interests: float | None = None
    with_fill: float | None = None

    @property
    def lift(self) -> float | None:
        return self.ours / self.baseline if self.baseline else None


@dataclass(frozen=True)
class EvalResult:
    cut: dt.datetime
    horizon_days: int
    members: int
    rows: list[EvalRow]
    thin_members: int = 0
    thin_rows: list[EvalRow] = field(default_factory=list)


def item_model_build(*, since: dt.datetime, until: dt.datetime) -> ItemModel:
    """The whole item model in memory, from the purchases in [since, until);
    its popular fill from those of the last POPULAR_DAYS days of it."""
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
    recent = item_stats_query(
        max(since, until - dt.timedelta(days=POPULAR_DAYS)), until
    )
    popular = [
        row["sku"]
        for row in sorted(recent, key=lambda r: (-r["baskets"], r["sku"]))
        if row["sku"] in stats
    ]
    return ItemModel(
        pairs=dict(pairs),
        stats=stats,
        by_category=dict(by_category),
        category_baskets=dict(category_baskets),
        max_baskets=max((i.baskets for i in stats.values()), default=1),
        popular=popular,
    )


def recommend_evaluate(
    *,
    cut: dt.datetime,
    ks: tuple[int, ...] = (1, 3, 5, 10),
    history_days: int = HISTORY_DAYS,
    horizon_days: int = 60,
    min_baskets: int = 2,
) -> EvalResult:
    """Hit rate at each k for our recommender (on the history alone, with the
    stated interests for a thin history, and with those and the popular fill)
    and the most-popular baseline."""
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
    interests = member_interest_categories()
    every, thin = _Hits(ks), _Hits(ks)
    candidates = set(histories)
    if min_baskets <= 0:
        candidates |= set(future)
    for member_id in sorted(candidates):
        history = histories.get(member_id, MemberHistory())
        bought = future.get(member_id)
        if not bought or history.baskets < min_baskets:
            continue
        plain = replace(history, interests=frozenset())
        ours = [r.sku for r in rank_items(plain, model, n=top_k)]
        stated = replace(history, interests=interests.get(member_id, frozenset()))
        mixed = (
            [r.sku for r in rank_items(stated, model, n=top_k)]
            if stated.interest_weight
            else ours
        )
        filled = [r.sku for r in rank_items(stated, model, n=top_k, fill=True)]
        always = history.always_bought()
        base = [sku for sku in popular if sku not in always][:top_k]
        every.add(bought, ours, mixed, filled, base)
        if history.baskets < THIN_BASKETS:
            thin.add(bought, ours, mixed, filled, base)
    return EvalResult(
        cut=cut,
        horizon_days=horizon_days,
        members=every.members,
        rows=every.rows(),
        thin_members=thin.members,
        thin_rows=thin.rows(),
    )


class _Hits:
    """Hit counts at each k of the four lists, over the members added."""

    def __init__(self, ks: tuple[int, ...]) -> None:
        self.ks = ks
        self.members = 0
        self.hits = {
            name: dict.fromkeys(ks, 0) for name in ("ours", "mixed", "filled", "base")
        }

    def add(
        self, bought: set[str], ours: list, mixed: list, filled: list, base: list
    ) -> None:
        self.members += 1
        lists = {"ours": ours, "mixed": mixed, "filled": filled, "base": base}
        for k in self.ks:
            for name, picks in lists.items():
                self.hits[name][k] += bool(set(picks[:k]) & bought)

    def rows(self) -> list[EvalRow]:
        n = self.members

        def rate(name: str, k: int) -> float:
            return self.hits[name][k] / n if n else 0.0

        return [
            EvalRow(
                k=k,
                ours=rate("ours", k),
                baseline=rate("base", k),
                with_interests=rate("mixed", k),
                with_fill=rate("filled", k),
            )
            for k in self.ks
        ]


def evaluation_table(result: EvalResult) -> str:
    """The result as a plain-text table."""
    lines = [
        f"Cut {result.cut:%Y-%m-%d}, {result.horizon_days} days after it; "
        f"{result.members} members evaluated.",
        *_rows_table(result.rows),
        "",
        f"Thin histories (under {THIN_BASKETS} baskets before the cut): "
        f"{result.thin_members} members.",
        *_rows_table(result.thin_rows),
    ]
    return "\n".join(lines)


def _rows_table(rows: list[EvalRow]) -> list[str]:
    lines = [
        f"{'k':>3}  {'ours':>8}  {'+interests':>10}  {'+popular fill':>13}  "
        f"{'most popular':>12}  {'lift':>6}"
    ]
    for row in rows:
        lift = f"{row.lift:.2f}x" if row.lift is not None else "-"
        mixed = row.with_interests if row.with_interests is not None else row.ours
        filled = row.with_fill if row.with_fill is not None else mixed
        lines.append(
            f"{row.k:>3}  {row.ours:>8.3f}  {mixed:>10.3f}  {filled:>13.3f}  "
            f"{row.baseline:>12.3f}  {lift:>6}"
        )
    return lines
