"""“Recommended for you”: item-to-item co-purchase plus category affinity.

Nightly, `copurchase_refresh` (analytics.services.recommend) counts in SQL how
many baskets held each pair of items (`CoPurchase`) and each item (`ItemStat`). For a member, on demand and in
a fixed number of queries, `recommendations_for` scores candidate items j:

    score(j) = Σ_i  h_i/B · c(i,j) / √(p_i·p_j)     what goes with what they buy
             + W_CAT · a(cat j) · p_j / P(cat j)      their category affinity
             + W_OWN · h_j/B                          they buy it now and then
             + W_POP · p_j / max p                    a small popularity nudge

with B the member's baskets, h_i their baskets holding item i, c(i,j) the
baskets holding both, p the baskets holding each item, P(c) the baskets of
all items of category c, a(c) = the share of the member's baskets with
category c (the affinity is spread over the category's items by popularity).
Weights: W_CAT = W_OWN = 1, W_POP = 0.05, picked on planted test data. Items in at least ALWAYS_SHARE of their baskets are
left out: they buy them anyway. A member with a thin history (under three
baskets) also gets their stated interests weighed in
(`analytics.selectors.recommend_interests`). A list shorter than asked (a
newcomer with neither history nor interests gets an empty one) is filled with
the items most bought lately that are still sold
(`analytics.selectors.recommend_popular`). Evaluation:
`analytics.selectors.recommend_eval`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, F, Max, Min, Q, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.models import CoPurchase, ItemStat
from analytics.selectors.recommend_interests import (
    THIN_BASKETS,
    interest_weight,
    member_interest_categories,
)
from analytics.selectors.recommend_popular import popular_fill, popular_items_recent
from rewards.models import Purchase, PurchaseLine
from rewards.selectors.catalog import category_name

HISTORY_DAYS = 365  # the purchases both the tables and a member's history look at
ALWAYS_SHARE = 0.6  # in ≥ 60 % of a member's baskets: bought anyway, not suggested
ALWAYS_MIN_BASKETS = 3  # fewer baskets than this: nothing counts as "always"
PAIRS_PER_ITEM = 30  # co-purchased items read per item the member bought
TOP_PER_CATEGORY = 10  # popular items read per favourite category
FAVOURITE_CATEGORIES = 3
W_CAT = 1.0
W_OWN = 1.0
W_POP = 0.05
CHUNK_PURCHASES = 20000


@dataclass(frozen=True)
class ItemInfo:
    sku: str
    name: str
    category: str
    baskets: int


@dataclass(frozen=True)
class Recommendation:
    sku: str
    name: str
    category: str
    score: float
    reason: str
    # The category as customers read it (rewards' Category), else the code.
    category_name: str = ""


@dataclass
class MemberHistory:
    """What one member bought: baskets (purchases) and per item / category
    the number of their baskets holding it."""

    baskets: int = 0
    items: dict[str, int] = field(default_factory=dict)
    categories: dict[str, int] = field(default_factory=dict)
    info: dict[str, ItemInfo] = field(default_factory=dict)
    # The purchase categories of the member's stated interests, loaded only
    # for a thin history (analytics.selectors.recommend_interests).
    interests: frozenset[str] = frozenset()

    @property
    def interest_weight(self) -> float:
        return interest_weight(self.baskets, self.interests)

    def always_bought(self) -> set[str]:
        if self.baskets < ALWAYS_MIN_BASKETS:
            return set()
        return {
            sku
            for sku, count in self.items.items()
            if count / self.baskets >= ALWAYS_SHARE
        }

    def favourite_categories(self, n: int = FAVOURITE_CATEGORIES) -> list[str]:
        ranked = sorted(self.categories.items(), key=lambda kv: (-kv[1], kv[0]))
        return [cat for cat, _count in ranked[:n] if cat]

    def affinity(self, category: str) -> float:
        if not self.baskets or not category:
            return 0.0
        return self.categories.get(category, 0) / self.baskets


# --- history --------------------------------------------------------------------------


def purchase_lines(since: dt.datetime | None, until: dt.datetime | None):
    lines = PurchaseLine.objects.filter(quantity_returned__lt=F("quantity"))
    if since is not None:
        lines = lines.filter(purchase__occurred_at__gte=since)
    if until is not None:
        lines = lines.filter(purchase__occurred_at__lt=until)
    return lines


def member_histories(
    *,
    member_ids: list[int] | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> dict[int, MemberHistory]:
    """Histories of many members (or all) in three queries: items, categories, baskets."""
    lines = purchase_lines(since, until)
    if member_ids is not None:
        lines = lines.filter(purchase__member_id__in=member_ids)
    out: dict[int, MemberHistory] = defaultdict(MemberHistory)
    rows = (
        lines.values("purchase__member_id", "sku")
        .annotate(
            n=Count("purchase_id", distinct=True),
            name=Max("name"),
            category=Max("category"),
        )
        .order_by()
    )
    for row in rows:
        history = out[row["purchase__member_id"]]
        history.items[row["sku"]] = row["n"]
        history.info[row["sku"]] = ItemInfo(
            row["sku"], row["name"] or "", row["category"] or "", 0
        )
    categories = (
        lines.values("purchase__member_id", "category")
        .annotate(n=Count("purchase_id", distinct=True))
        .order_by()
    )
    for row in categories:
        out[row["purchase__member_id"]].categories[row["category"] or ""] = row["n"]
    baskets = (
        lines.values("purchase__member_id")
        .annotate(n=Count("purchase_id", distinct=True))
        .order_by()
    )
    for row in baskets:
        out[row["purchase__member_id"]].baskets = row["n"]
    return dict(out)


def member_history(*, member_id: int, now: dt.datetime | None = None) -> MemberHistory:
    """One member's last HISTORY_DAYS of purchases (three queries), and their
    stated interests when that history is thin (one more)."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=HISTORY_DAYS)
    history = member_histories(member_ids=[member_id], since=since).get(
        member_id, MemberHistory()
    )
    if history.baskets < THIN_BASKETS:
        history.interests = member_interest_categories([member_id]).get(
            member_id, frozenset()
        )
    return history


# --- the co-purchase tables -----------------------------------------------------------


def pairs_select_sql() -> str:
    """Pairs of distinct items in the same basket, counted once per basket, for
    purchases in [%s, %s) with ids in [%s, %s); fully returned lines left out."""
    q = connection.ops.quote_name
    line, purchase = q(PurchaseLine._meta.db_table), q(Purchase._meta.db_table)
    # Only quoted table names are formatted in; every value is a parameter.
    return f"""
        SELECT a.sku, b.sku, COUNT(DISTINCT a.purchase_id)
        FROM {line} a
        JOIN {line} b ON b.purchase_id = a.purchase_id AND b.sku <> a.sku
        JOIN {purchase} p ON p.id = a.purchase_id
        WHERE p.occurred_at >= %s AND p.occurred_at < %s
          AND p.id >= %s AND p.id < %s
          AND a.quantity_returned < a.quantity
          AND b.quantity_returned < b.quantity
        GROUP BY a.sku, b.sku
    """  # noqa: S608


def purchase_id_range(since, until) -> tuple[int, int]:
    bounds = Purchase.objects.filter(occurred_at__gte=since, occurred_at__lt=until)
    agg = bounds.aggregate(lo=Min("id"), hi=Max("id"))
    return (agg["lo"] or 0), (agg["hi"] or -1)


def item_stats_query(since: dt.datetime, until: dt.datetime):
    """Per item: baskets and buyers in [since, until) (one GROUP BY)."""
    return (
        purchase_lines(since, until)
        .values("sku")
        .annotate(
            baskets=Count("purchase_id", distinct=True),
            buyers=Count("purchase__member_id", distinct=True),
            name=Max("name"),
            category=Max("category"),
        )
        .order_by()
    )


def copurchase_pairs(
    *, since: dt.datetime, until: dt.datetime, chunk: int = CHUNK_PURCHASES
) -> dict[tuple[str, str], int]:
    """The pair counts in memory (for evaluation), by the same SQL as the table."""
    lo, hi = purchase_id_range(since, until)
    sql = pairs_select_sql()
    counts: dict[tuple[str, str], int] = defaultdict(int)
    with connection.cursor() as cursor:
        for start in range(lo, hi + 1, chunk):
            cursor.execute(sql, [since, until, start, start + chunk])
            for a, b, n in cursor.fetchall():
                counts[(a, b)] += n
    return dict(counts)


# --- scoring --------------------------------------------------------------------------


@dataclass
class ItemModel:
    """What the scorer needs to know about items: pairs per item, stats, and the
    most bought items per category. Loaded from the tables for one member
    (`_model_for`), or built whole in memory for the evaluation."""

    pairs: dict[str, list[tuple[str, int]]]
    stats: dict[str, ItemInfo]
    by_category: dict[str, list[str]]
    category_baskets: dict[str, int] = field(default_factory=dict)
    max_baskets: int = 1
    # The items most bought lately and still sold, most first, for the fill
    # (recommend_popular); each is in `stats`. None: not read yet.
    popular: list[str] | None = None

    def category_share(self, sku: str) -> float:
        """The item's share of its category's baskets (how much of the
        category it is): the category affinity spreads over items by it."""
        info = self.stats.get(sku)
        total = self.category_baskets.get(info.category, 0) if info else 0
        return info.baskets / total if total else 0.0


def rank_items(
    history: MemberHistory,
    model: ItemModel,
    *,
    n: int,
    category_names: dict[str, str] | None = None,
    fill: bool = False,
) -> list[Recommendation]:
    """The member's top `n` items by the score in the module docstring (plus
    the stated interests for a thin history, recommend_interests), and with
    `fill` the popular items after them when fewer than `n` scored
    (`model.popular`); `category_names` (rewards.selectors.category_names)
    names the categories."""
    blend = history.interest_weight
    if not history.baskets and not blend:
        return (
            recommendations_fill([], history, model, n=n, names=category_names)
            if fill
            else []
        )
    always = history.always_bought()
    scores: dict[str, float] = defaultdict(float)
    best_source: dict[str, tuple[float, str]] = {}
    for sku_i, h_i in history.items.items():
        p_i = model.stats[sku_i].baskets if sku_i in model.stats else 0
        if not p_i:
            continue
        weight = h_i / history.baskets
        for sku_j, both in model.pairs.get(sku_i, ()):
            info_j = model.stats.get(sku_j)
            if info_j is None or not info_j.baskets or sku_j in always:
                continue
            part = weight * both / math.sqrt(p_i * info_j.baskets)
            scores[sku_j] += part
            if part > best_source.get(sku_j, (0.0, ""))[0]:
                best_source[sku_j] = (part, sku_i)
    candidates = set(scores)
    for category in history.favourite_categories():
        candidates.update(model.by_category.get(category, ()))
    if blend:
        for category in history.interests:
            candidates.update(model.by_category.get(category, ()))
    candidates.update(history.items)
    candidates -= always
    ranked = []
    for sku in candidates:
        info = model.stats.get(sku) or history.info.get(sku)
        if info is None:
            continue
        own = history.items.get(sku, 0) / history.baskets if history.baskets else 0.0
        affinity = history.affinity(info.category)
        co = scores.get(sku, 0.0)
        popularity = (model.stats[sku].baskets if sku in model.stats else 0) / max(
            model.max_baskets, 1
        )
        category = W_CAT * affinity * model.category_share(sku)
        if blend and info.category in history.interests:
            interest = blend * model.category_share(sku)
        else:
            interest = 0.0
        score = co + category + interest + W_OWN * own + W_POP * popularity
        ranked.append((score, sku, info, co, own, category, interest))
    ranked.sort(key=lambda row: (-row[0], row[1]))
    out = []
    names = category_names or {}
    for score, sku, info, co, own, category, interest in ranked[:n]:
        out.append(
            Recommendation(
                sku=sku,
                name=info.name or sku,
                category=info.category,
                score=round(score, 4),
                reason=_reason(
                    history,
                    model,
                    sku,
                    (co, own, category, interest),
                    best_source,
                    names,
                ),
                category_name=category_name(info.category, names),
            )
        )
    if fill:
        return recommendations_fill(out, history, model, n=n, names=names)
    return out


def recommendations_fill(
    out: list[Recommendation],
    history: MemberHistory,
    model: ItemModel,
    *,
    n: int,
    names: dict[str, str] | None = None,
) -> list[Recommendation]:
    """`out` filled up to `n` with the popular items of `model.popular`
    (recommend_popular.popular_fill: nothing listed already or always bought,
    only items still sold), each with the reason "Popular right now"."""
    if len(out) >= n or not model.popular:
        return out
    extra = popular_fill(
        model.popular,
        taken=[r.sku for r in out],
        leave_out=history.always_bought(),
        n=n,
    )
    filled = list(out)
    for sku in extra:
        info = model.stats[sku]
        filled.append(
            Recommendation(
                sku=sku,
                name=info.name or sku,
                category=info.category,
                score=0.0,
                reason=_("Popular right now"),
                category_name=category_name(info.category, names or {}),
            )
        )
    return filled


def _reason(history, model, sku, parts, best_source, names) -> str:
    co, own, category, interest = parts
    ranked = [(co, "co"), (W_OWN * own, "own"), (category, "cat"), (interest, "int")]
    top = max(ranked)[1]
    if top == "int":
        return _("Matches your interests")
    if top == "co" and sku in best_source:
        other = best_source[sku][1]
        info = model.stats.get(other) or history.info.get(other)
        return _("Often bought with %(item)s") % {
            "item": info.name if info and info.name else other
        }
    if top == "own":
        return _("You buy it now and then")
    category = (model.stats.get(sku) or history.info[sku]).category
    return _("Popular in %(category)s") % {"category": category_name(category, names)}


def _model_for(history: MemberHistory) -> ItemModel:
    """The slice of the tables one member's scoring reads: three queries."""
    skus = list(history.items)
    pair_rows = (
        CoPurchase.objects.filter(item_a__in=skus)
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("item_a")], order_by=F("baskets").desc()
            )
        )
        .filter(rank__lte=PAIRS_PER_ITEM)
        .values_list("item_a", "item_b", "baskets")
    )
    pairs: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for a, b, count in pair_rows:
        pairs[a].append((b, count))
    # The top items of every category the member buys from, with the
    # category's total (a window over the whole category, before the cut-off).
    top_rows = (
        ItemStat.objects.filter(
            category__in=[c for c in history.categories if c]
            + (sorted(history.interests) if history.interest_weight else [])
        )
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("category")],
                order_by=[F("baskets").desc(), F("sku").asc()],
            ),
            category_total=Window(Sum("baskets"), partition_by=[F("category")]),
        )
        .filter(rank__lte=TOP_PER_CATEGORY)
        .values_list("category", "sku", "category_total")
    )
    by_category: dict[str, list[str]] = defaultdict(list)
    category_baskets: dict[str, int] = {}
    for category, sku, total in top_rows:
        by_category[category].append(sku)
        category_baskets[category] = int(total)
    wanted = set(skus) | {b for rows in pairs.values() for b, _n in rows}
    wanted |= {sku for rows in by_category.values() for sku in rows}
    stats = {
        s.sku: ItemInfo(s.sku, s.name, s.category, s.baskets)
        for s in ItemStat.objects.filter(Q(sku__in=wanted))
    }
    # The most popular item's count, for the tie-break; the table is ordered by it.
    top = ItemStat.objects.order_by("-baskets").values_list("baskets", flat=True)[:1]
    return ItemModel(
        pairs=dict(pairs),
        stats=stats,
        by_category=dict(by_category),
        category_baskets=category_baskets,
        max_baskets=next(iter(top), 1),
    )


def rank_items_for_history(
    history: MemberHistory, *, n: int, category_names: dict[str, str] | None = None
) -> list[Recommendation]:
    """`rank_items` against the tables (four queries; none without a history
    or stated interests), filled with the popular items when fewer than `n`
    scored (one query more, only then)."""
    if not history.baskets and not history.interest_weight:
        out, model = [], ItemModel(pairs={}, stats={}, by_category={})
    else:
        model = _model_for(history)
        out = rank_items(history, model, n=n, category_names=category_names)
    if len(out) >= n:
        return out
    model.popular = []
    for sku, name, category, baskets in popular_items_recent():
        model.popular.append(sku)
        model.stats.setdefault(sku, ItemInfo(sku, name, category, baskets))
    return recommendations_fill(out, history, model, n=n, names=category_names)


def recommendations_for(member, n: int = 3) -> list[Recommendation]:
    """The member's top `n` items to suggest (in campaign templates, on the
    portal). Seven queries whatever the history: three for the member's
    history, four for the slices of the co-purchase tables; one more for the
    stated interests when the history is thin, and one for the popular fill
    when fewer than `n` items scored (a newcomer with neither history nor
    interests: the history's three and the fill's)."""
    return rank_items_for_history(member_history(member_id=member.pk), n=n)
