"""The rule simulator: what a draft rule, or switching a rule off, would have
issued over a past period. A read: it recomputes past receipts with the same
engine purchases earn by (rewards.earning) and writes nothing.

Baseline and scenario are both recomputed with today's active rules and
today's cap on one purchase, so the difference is the rule's own effect, not
that of rules changed since. Each receipt keeps the tier and membership
multipliers it was recorded with. Both come with their effective reward rate
(points × point value ÷ sales of the receipts) and with the points the cap took
off.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch

from rewards.earning import EarnLine, Multiplier, earn_compute
from rewards.models import EarningRule, Purchase, PurchaseLine, RuleStatus
from rewards.selectors.program import earning_rules_active, program_settings_get

CHUNK = 2000
RATE_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class Simulation:
    rule: EarningRule
    switching_off: bool  # True: the rule is active and the scenario is without it
    start: dt.datetime
    end: dt.datetime
    purchases: int
    purchases_changed: int
    members_changed: int
    points_before: int
    points_after: int
    point_value: Decimal
    currency: str
    sales: Decimal = Decimal("0")  # the receipts' totals
    cap_percent: Decimal | None = None
    capped_before: int = 0  # points the cap took off, today's way
    capped_after: int = 0  # and with the scenario

    def _rate(self, points: int) -> Decimal | None:
        if self.sales <= 0:
            return None
        return (points * self.point_value * 100 / self.sales).quantize(RATE_PLACES)

    @property
    def rate_before(self) -> Decimal | None:
        """The effective reward rate today's way, in percent of sales."""
        return self._rate(self.points_before)

    @property
    def rate_after(self) -> Decimal | None:
        """The effective reward rate with the scenario, in percent of sales."""
        return self._rate(self.points_after)

    @property
    def rate_difference(self) -> Decimal | None:
        if self.rate_before is None:
            return None
        return self.rate_after - self.rate_before

    @property
    def points_difference(self) -> int:
        return self.points_after - self.points_before

    @property
    def money_difference(self) -> Decimal:
        return (self.points_difference * self.point_value).quantize(Decimal("0.01"))


def _scenario_rules(rule: EarningRule) -> tuple[list, list, bool]:
    active = earning_rules_active()
    if rule.status == RuleStatus.ACTIVE:
        return active, [r for r in active if r.pk != rule.pk], True
    candidate = EarningRule.objects.prefetch_related("stores").get(pk=rule.pk)
    candidate.store_ids = {store.pk for store in candidate.stores.all()}
    replaced = rule.replaces_id
    return active, [r for r in active if r.pk != replaced] + [candidate], False


def rule_simulate(
    *,
    rule: EarningRule,
    start: dt.datetime,
    end: dt.datetime,
    store_id: int | None = None,
) -> Simulation:
    """Points the receipts of [start, end) earn with and without `rule` (a draft
    or paused rule is added, replacing the rule it `replaces`; an active rule is
    taken away). Reads in chunks: memory stays flat however long the period."""
    conf = program_settings_get()
    before_rules, after_rules, switching_off = _scenario_rules(rule)
    purchases = Purchase.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
    if store_id:
        purchases = purchases.filter(store_id=store_id)
    purchases = (
        purchases.only(
            "pk",
            "member_id",
            "store_id",
            "total",
            "occurred_at",
            "tier_multiplier",
            "membership_multiplier",
        )
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=PurchaseLine.objects.only(
                    "purchase_id", "sku", "category", "quantity", "amount"
                ),
            )
        )
        .order_by("pk")
    )
    count = changed = before_total = after_total = capped_before = capped_after = 0
    sales = Decimal("0")
    members: set[int] = set()
    for purchase in purchases.iterator(chunk_size=CHUNK):
        lines = [
            EarnLine(line.sku, line.category, line.quantity, line.amount)
            for line in purchase.lines.all()
        ] or [EarnLine("", "", Decimal(1), purchase.total)]
        common = {
            "lines": lines,
            "at": purchase.occurred_at,
            "store_id": purchase.store_id,
            "base_rate": conf.points_per_unit,
            "min_purchase": conf.min_purchase,
            "tier": Multiplier("", purchase.tier_multiplier),
            "membership": Multiplier("", purchase.membership_multiplier),
            "cap_percent": conf.earn_cap_percent,
            "point_value": conf.point_value,
        }
        before_result = earn_compute(rules=before_rules, **common)
        after_result = earn_compute(rules=after_rules, **common)
        before, after = before_result.points, after_result.points
        count += 1
        sales += purchase.total
        before_total += before
        after_total += after
        capped_before += before_result.points_capped
        capped_after += after_result.points_capped
        if before != after:
            changed += 1
            members.add(purchase.member_id)
    return Simulation(
        rule=rule,
        switching_off=switching_off,
        start=start,
        end=end,
        purchases=count,
        purchases_changed=changed,
        members_changed=len(members),
        points_before=before_total,
        points_after=after_total,
        point_value=conf.point_value,
        currency=conf.currency,
        sales=sales,
        cap_percent=conf.earn_cap_percent,
        capped_before=capped_before,
        capped_after=capped_after,
    )
