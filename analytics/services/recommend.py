"""Writes of "Recommended for you": the nightly rebuild of the co-purchase
tables and the reward categories staff map. The reads (histories, scoring,
the reward to aim for) are in analytics.selectors.recommend."""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction
from django.utils import timezone

from analytics.models import CoPurchase, ItemStat, RewardCategory
from analytics.selectors.recommend import (
    CHUNK_PURCHASES,
    HISTORY_DAYS,
    item_stats_query,
    pairs_select_sql,
    purchase_id_range,
)
from analytics.selectors.recommend_popular import POPULAR_DAYS
from members.audit import StaffActor, audited_delete, audited_save


def copurchase_refresh(
    *,
    now: dt.datetime | None = None,
    days: int = HISTORY_DAYS,
    chunk: int = CHUNK_PURCHASES,
) -> int:
    """Rebuild `CoPurchase` and `ItemStat` from the last `days` of purchases
    (and each item's `recent_baskets` from the last POPULAR_DAYS of them).

    One transaction: the old rows are deleted and the pair counts inserted by
    INSERT … SELECT, `chunk` purchases (by id) per statement, adding up on
    conflict. Readers see the old tables until it commits. Returns the number
    of pairs. Locks nothing, queues nothing; safe to run twice.
    """
    now = now or timezone.now()
    since = now - dt.timedelta(days=days)
    q = connection.ops.quote_name
    table = q(CoPurchase._meta.db_table)
    insert = f"""
        INSERT INTO {table} ({q("item_a")}, {q("item_b")}, {q("baskets")})
        {pairs_select_sql()}
        ON CONFLICT ({q("item_a")}, {q("item_b")})
        DO UPDATE SET {q("baskets")} = {table}.{q("baskets")} + excluded.{q("baskets")}
    """
    lo, hi = purchase_id_range(since, now)
    recent = {
        row["sku"]: row["baskets"]
        for row in item_stats_query(
            max(since, now - dt.timedelta(days=POPULAR_DAYS)), now
        )
    }
    with transaction.atomic(durable=True):
        CoPurchase.objects.all().delete()
        ItemStat.objects.all().delete()
        with connection.cursor() as cursor:
            for start in range(lo, hi + 1, chunk):
                cursor.execute(insert, [since, now, start, start + chunk])
        ItemStat.objects.bulk_create(
            [
                ItemStat(
                    sku=row["sku"],
                    name=row["name"] or "",
                    category=row["category"] or "",
                    baskets=row["baskets"],
                    buyers=row["buyers"],
                    recent_baskets=recent.get(row["sku"], 0),
                    computed_at=now,
                )
                for row in item_stats_query(since, now)
            ],
            batch_size=2000,
        )
        pairs = CoPurchase.objects.count()
    return pairs


def reward_categories_set(*, reward, categories: list[str]) -> list[RewardCategory]:
    """Make `categories` the reward's purchase categories (adds and removes rows).

    One transaction; locks nothing, queues nothing."""
    wanted = {c.strip() for c in categories if c and c.strip()}
    with transaction.atomic():
        RewardCategory.objects.filter(reward=reward).exclude(
            category__in=wanted
        ).delete()
        have = set(
            RewardCategory.objects.filter(reward=reward).values_list(
                "category", flat=True
            )
        )
        RewardCategory.objects.bulk_create(
            [RewardCategory(reward=reward, category=c) for c in sorted(wanted - have)]
        )
    return list(RewardCategory.objects.filter(reward=reward))


def reward_category_save(
    *, row: RewardCategory, actor: StaffActor | None = None
) -> RewardCategory:
    """Add or change one purchase category of a reward as staff edited it (the
    admin): validated, with the audit row of `actor`. Locks nothing; queues
    nothing."""
    return audited_save(obj=row, actor=actor)


def reward_category_delete(
    *, row: RewardCategory, actor: StaffActor | None = None
) -> None:
    """Take a purchase category off a reward, with the audit row of `actor`.
    Locks nothing; queues nothing."""
    audited_delete(obj=row, actor=actor)
