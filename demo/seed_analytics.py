"""Demo data for the dashboards: the stores' total sales (members' purchases
are 35-60% of them, a steady share per store), marketing spend per month (two
acquisition campaigns, each program-wide or for one store, and a program-wide
retention newsletter that the acquisition cost leaves out), and the snapshots
computed over the whole history. seed_demo calls `seed`."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from analytics.models import MarketingSpend, SpendKind, StoreSales
from analytics.selectors.periods import month_add, month_start
from analytics.services.inputs import marketing_spend_bulk_save, store_sales_bulk_save
from analytics.services.snapshots import snapshots_refresh_range
from demo.seed_sources import channel_for_campaign
from members.models import Store
from rewards.models import Purchase

SPEND_PER_MONTH = (4000, 12000)  # UAH
RETENTION_PER_MONTH = (1000, 3000)  # UAH
CAMPAIGNS = ["", "Instagram", "Leaflets", "Radio"]
RETENTION_CAMPAIGN = "Members' newsletter"


def inputs_seed(
    *,
    start: dt.datetime,
    end: dt.datetime,
    rng: random.Random,
    acquisition: bool = True,
) -> None:
    """StoreSales for every day a store had member purchases and MarketingSpend
    for every month of start..end (without `acquisition`, only the retention
    newsletter: the bulk seed writes its own per channel). Two grouped reads,
    two bulk writes."""
    share = {}
    rows = []
    found = (
        Purchase.objects.filter(occurred_at__gte=start, occurred_at__lte=end)
        .annotate(day=TruncDate("occurred_at"))
        .values("day", "store_id")
        .annotate(sales=Sum("total"), n=Count("id"))
        .order_by("day", "store_id")
    )
    for row in found:
        store_share = share.setdefault(row["store_id"], rng.uniform(0.35, 0.6))
        daily = store_share * rng.uniform(0.9, 1.1)
        rows.append(
            StoreSales(
                store_id=row["store_id"],
                day=row["day"],
                total=(row["sales"] / Decimal(str(round(daily, 4)))).quantize(
                    Decimal("0.01")
                ),
                receipts=round(row["n"] / daily * 1.3),
                created_at=timezone.now(),
            )
        )
    store_sales_bulk_save(rows=rows, entered_by=None)
    spend = []
    store_ids = list(Store.objects.order_by("pk").values_list("pk", flat=True))
    month = month_start(timezone.localtime(start).date())
    while month <= timezone.localtime(end).date():
        for campaign in rng.sample(CAMPAIGNS, 2) if acquisition else ():
            spend.append(
                MarketingSpend(
                    month=month,
                    amount=Decimal(rng.randint(*SPEND_PER_MONTH)),
                    campaign=campaign,
                    kind=SpendKind.ACQUISITION,
                    channel=channel_for_campaign(campaign),
                    # Leaflets and radio are bought for one store's area.
                    store_id=(
                        rng.choice(store_ids)
                        if store_ids and campaign in ("Leaflets", "Radio")
                        else None
                    ),
                )
            )
        spend.append(
            MarketingSpend(
                month=month,
                amount=Decimal(rng.randint(*RETENTION_PER_MONTH)),
                campaign=RETENTION_CAMPAIGN,
                kind=SpendKind.RETENTION,
            )
        )
        month = month_add(month, 1)
    marketing_spend_bulk_save(rows=spend, entered_by=None)


def seed(*, command) -> None:
    """seed_demo's analytics step: inputs, then every snapshot."""
    rng = random.Random(getattr(command, "seed", 42) + 7)
    inputs_seed(start=command.start, end=timezone.now(), rng=rng)
    result = snapshots_refresh_range(
        day_from=timezone.localtime(command.start).date(),
        day_to=timezone.localdate(),
    )
    command.stdout.write(
        f"Analytics: {result.daily_rows} daily snapshot rows, "
        f"{result.member_month_rows} member months, {result.cohort_rows} cohort cells."
    )
