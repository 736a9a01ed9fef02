"""Reads about campaigns shared by admin, tasks and tests: progress and figures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.utils import timezone

from campaigns.models import (
    Campaign,
    CampaignRecipient,
    CampaignRun,
    Message,
    MessageStatus,
)
from members.models import ConsentSource

HOLDOUT = "holdout"
# A purchase's worth once its returns are deducted (returned_total is kept by
# purchase_return_record, in the return's transaction; never above the total).
NET_TOTAL = ExpressionWrapper(
    F("member__purchases__total") - F("member__purchases__returned_total"),
    output_field=DecimalField(max_digits=12, decimal_places=2),
)


def campaign_runs(*, campaign: Campaign) -> QuerySet[CampaignRun]:
    return CampaignRun.objects.filter(campaign=campaign).order_by("-number")


def campaign_latest_run(*, campaign: Campaign) -> CampaignRun | None:
    return campaign_runs(campaign=campaign).first()


@dataclass
class RunProgress:
    recipients: int
    chunks_done: int
    chunks_total: int
    queued: int = 0
    # Claimed by a delivery batch and being handed over (a few seconds), or
    # left so by a worker that died, until the sweep settles them.
    sending: int = 0
    sent: int = 0
    failed: int = 0
    suppressed: int = 0

    @property
    def percent(self) -> int:
        if not self.chunks_total:
            return 100
        return round(100 * self.chunks_done / self.chunks_total)


def run_progress(*, run: CampaignRun) -> RunProgress:
    """Messages of a run by status (one grouped query) and chunks done."""
    progress = RunProgress(
        recipients=run.recipients_total,
        chunks_done=run.chunks_done,
        chunks_total=run.chunks_total,
    )
    rows = (
        Message.objects.filter(campaign_id=run.campaign_id, key=run.key)
        .values("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        if row["status"] in MessageStatus.values:
            setattr(progress, row["status"], row["n"])
    return progress


@dataclass
class GroupFigures:
    """One group of a run: variant A, variant B, all recipients, or the holdout."""

    name: str
    members: int = 0
    sent: int = 0
    failed: int = 0
    suppressed: int = 0
    opened: int = 0
    clicked: int = 0
    unsubscribed: int = 0
    buyers: int = 0
    purchases: int = 0
    # Net of returns: receipt totals minus what has been returned of them.
    revenue: Decimal = field(default_factory=lambda: Decimal("0.00"))
    coupons_used: int = 0

    def _rate(self, part: int) -> float | None:
        return part / self.members if self.members else None

    @property
    def conversion(self) -> float | None:
        """Share of the group's members who bought at least once in the window."""
        return self._rate(self.buyers)

    @property
    def revenue_per_member(self) -> Decimal | None:
        if not self.members:
            return None
        return (self.revenue / self.members).quantize(Decimal("0.01"))

    @property
    def open_rate(self) -> float | None:
        return self.opened / self.sent if self.sent else None

    @property
    def conversion_percent(self) -> float | None:
        return None if self.conversion is None else 100 * self.conversion

    @property
    def open_percent(self) -> float | None:
        return None if self.open_rate is None else 100 * self.open_rate

    @property
    def click_rate(self) -> float | None:
        return self.clicked / self.sent if self.sent else None

    def add(self, other: GroupFigures) -> None:
        for name in (
            "members",
            "sent",
            "failed",
            "suppressed",
            "opened",
            "clicked",
            "unsubscribed",
            "buyers",
            "purchases",
            "revenue",
            "coupons_used",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class RunFigures:
    run: CampaignRun
    window_start: dt.datetime
    window_end: dt.datetime
    variants: list[GroupFigures]
    recipients: GroupFigures
    holdout: GroupFigures

    @property
    def uplift(self) -> float | None:
        """Recipients' conversion minus the holdout's, in percentage points."""
        if self.recipients.conversion is None or self.holdout.conversion is None:
            return None
        return 100 * (self.recipients.conversion - self.holdout.conversion)

    @property
    def uplift_relative(self) -> float | None:
        """How much more likely a recipient bought than a held-out member (0.25 = +25 %)."""
        if not self.holdout.conversion or self.recipients.conversion is None:
            return None
        return self.recipients.conversion / self.holdout.conversion - 1

    @property
    def revenue_uplift_per_member(self) -> Decimal | None:
        if (
            self.recipients.revenue_per_member is None
            or self.holdout.revenue_per_member is None
        ):
            return None
        return self.recipients.revenue_per_member - self.holdout.revenue_per_member


def _group_name(holdout: bool, label: str | None) -> str:
    return HOLDOUT if holdout else (label or "A")


def run_figures(*, run: CampaignRun, now: dt.datetime | None = None) -> RunFigures:
    """Figures of one run by group, in four grouped queries.

    Purchases count from the run's start for the campaign's window_days (or
    until now); revenue is their totals net of returns: what has been returned
    of those purchases up to now (Purchase.returned_total, whenever the return
    was made) is deducted, for recipients and holdout alike.
    Unsubscribes are consent withdrawals by unsubscribe link in the same window.
    """
    now = now or timezone.now()
    start = run.started_at
    end = min(start + dt.timedelta(days=run.campaign.window_days), max(now, start))
    groups: dict[str, GroupFigures] = {}

    def group(name: str) -> GroupFigures:
        return groups.setdefault(name, GroupFigures(name=name))

    recipients = CampaignRecipient.objects.filter(run=run)
    for row in (
        recipients.values("holdout", "variant__label")
        .annotate(
            n=Count("id"),
            coupons=Count("id", filter=Q(voucher__used_at__isnull=False)),
        )
        .order_by()
    ):
        g = group(_group_name(row["holdout"], row["variant__label"]))
        g.members += row["n"]
        g.coupons_used += row["coupons"]
    in_window = Q(
        member__purchases__occurred_at__gte=start,
        member__purchases__occurred_at__lt=end,
    )
    for row in (
        recipients.values("holdout", "variant__label")
        .annotate(
            buyers=Count("member_id", filter=in_window, distinct=True),
            purchases=Count("member__purchases", filter=in_window),
            revenue=Sum(NET_TOTAL, filter=in_window),
        )
        .order_by()
    ):
        g = group(_group_name(row["holdout"], row["variant__label"]))
        g.buyers += row["buyers"]
        g.purchases += row["purchases"]
        g.revenue += (row["revenue"] or Decimal("0")).quantize(Decimal("0.01"))
    unsubscribed = Q(
        member__consent_events__source=ConsentSource.UNSUBSCRIBE,
        member__consent_events__granted=False,
        member__consent_events__created_at__gte=start,
        member__consent_events__created_at__lt=end,
    )
    for row in (
        recipients.values("holdout", "variant__label")
        .annotate(n=Count("member_id", filter=unsubscribed, distinct=True))
        .order_by()
    ):
        group(_group_name(row["holdout"], row["variant__label"])).unsubscribed += row[
            "n"
        ]
    for row in (
        Message.objects.filter(campaign_id=run.campaign_id, key=run.key)
        .values("variant__label")
        .annotate(
            sent=Count("id", filter=Q(status=MessageStatus.SENT)),
            failed=Count("id", filter=Q(status=MessageStatus.FAILED)),
            suppressed=Count("id", filter=Q(status=MessageStatus.SUPPRESSED)),
            opened=Count("opened_at"),
            clicked=Count("clicked_at"),
        )
        .order_by()
    ):
        g = group(row["variant__label"] or "A")
        for name in ("sent", "failed", "suppressed", "opened", "clicked"):
            setattr(g, name, getattr(g, name) + row[name])
    variants = [groups[name] for name in sorted(groups) if name != HOLDOUT]
    total = GroupFigures(name="recipients")
    for g in variants:
        total.add(g)
    return RunFigures(
        run=run,
        window_start=start,
        window_end=end,
        variants=variants,
        recipients=total,
        holdout=groups.get(HOLDOUT, GroupFigures(name=HOLDOUT)),
    )
