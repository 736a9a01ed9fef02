"""Campaigns on the Overview page: revenue against the holdout, and the
marketing spend entered under each campaign's name."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone

from analytics.models import MarketingSpend
from analytics.selectors.metrics import ZERO, ratio
from analytics.selectors.periods import Period, day_bounds
from campaigns.models import CampaignRecipient, CampaignRun
from campaigns.sending.selectors import NET_TOTAL


def campaign_returns(period: Period, now: dt.datetime | None = None) -> list[dict]:
    """Per campaign with runs started in the period: members sent to and held
    out, revenue per member of each group within each run's window (as
    campaigns.sending.selectors.run_figures counts it: purchase totals from
    the run's start for the campaign's window_days, net of their returns), the
    incremental revenue (per run: recipients × the difference in revenue per
    member, summed; None without a holdout), the marketing spend entered for
    the period's months under the campaign's name, and the return on spend
    (incremental revenue / spend). Three queries however many runs."""
    now = now or timezone.now()
    start, end = day_bounds(period.start, period.end)
    runs = list(
        CampaignRun.objects.filter(started_at__gte=start, started_at__lt=end)
        .order_by("started_at")
        .values(
            "id", "campaign_id", "campaign__name", "campaign__window_days", "started_at"
        )
    )
    if not runs:
        return []
    in_window = Q()
    for run in runs:
        run_end = min(
            run["started_at"] + dt.timedelta(days=run["campaign__window_days"]),
            max(now, run["started_at"]),
        )
        in_window |= Q(
            run_id=run["id"],
            member__purchases__occurred_at__gte=run["started_at"],
            member__purchases__occurred_at__lt=run_end,
        )
    groups: dict[tuple[int, bool], dict] = {}
    for row in (
        CampaignRecipient.objects.filter(run_id__in=[r["id"] for r in runs])
        .values("run_id", "holdout")
        .annotate(
            members=Count("id", distinct=True),
            revenue=Sum(NET_TOTAL, filter=in_window),
        )
        .order_by()
    ):
        groups[(row["run_id"], row["holdout"])] = row
    spend_by_name: dict[str, Decimal] = {}
    for row in (
        MarketingSpend.objects.filter(month__gte=period.first, month__lte=period.last)
        .exclude(campaign="")
        .values("campaign")
        .annotate(total=Sum("amount"))
        .order_by()
    ):
        name = row["campaign"].strip().casefold()
        spend_by_name[name] = spend_by_name.get(name, ZERO) + row["total"]
    by_campaign: dict[int, dict] = {}
    for run in runs:
        c = by_campaign.setdefault(
            run["campaign_id"],
            {
                "campaign": run["campaign__name"],
                "runs": 0,
                "recipients": 0,
                "held_out": 0,
                "revenue": ZERO,
                "holdout_revenue": ZERO,
                "incremental": None,
            },
        )
        sent = groups.get((run["id"], False), {"members": 0, "revenue": None})
        held = groups.get((run["id"], True), {"members": 0, "revenue": None})
        sent_revenue = sent["revenue"] or ZERO
        held_revenue = held["revenue"] or ZERO
        c["runs"] += 1
        c["recipients"] += sent["members"]
        c["held_out"] += held["members"]
        c["revenue"] += sent_revenue
        c["holdout_revenue"] += held_revenue
        if sent["members"] and held["members"]:
            uplift = sent_revenue / sent["members"] - held_revenue / held["members"]
            c["incremental"] = (c["incremental"] or ZERO) + uplift * sent["members"]
    out = []
    for c in by_campaign.values():
        spend = spend_by_name.get(c["campaign"].strip().casefold())
        if spend is not None:
            spend = Decimal(spend).quantize(Decimal("0.01"))
        incremental = c["incremental"]
        out.append(
            {
                "campaign": c["campaign"],
                "runs": c["runs"],
                "recipients": c["recipients"],
                "held_out": c["held_out"],
                "revenue": c["revenue"].quantize(Decimal("0.01")),
                "revenue_per_recipient": ratio(c["revenue"], c["recipients"]),
                "revenue_per_held_out": ratio(c["holdout_revenue"], c["held_out"]),
                "incremental": (
                    None
                    if incremental is None
                    else incremental.quantize(Decimal("0.01"))
                ),
                "spend": spend,
                "return_on_spend": (
                    None if incremental is None else ratio(incremental, spend)
                ),
            }
        )
    return out
