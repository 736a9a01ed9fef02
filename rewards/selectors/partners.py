"""Partners: what customers read about them (where to earn and spend), and the
monthly settlement of points issued and redeemed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db.models import Count, F, Prefetch, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from members.models import Partner, Store
from rewards.models import (
    EarningRule,
    LedgerEntry,
    LedgerKind,
    Reward,
    RuleStatus,
    Voucher,
    VoucherStatus,
)
from rewards.selectors.catalog import reward_list_available
from rewards.selectors.program import program_settings_get


@dataclass(frozen=True)
class PartnerForCustomers:
    """A partner as the portal's Partners page shows it."""

    partner: Partner
    stores: list[Store]  # active ones, by name
    rewards: list[Reward]  # on sale now, that it funds (cheapest first)
    rules: list[EarningRule]  # active earning rules limited to some of its stores


def partners_for_customers(
    *, now: dt.datetime | None = None
) -> list[PartnerForCustomers]:
    """The active partners that have an active store, by name, with those stores,
    the rewards they fund that are on sale now, and the active earning rules
    (promotions, multipliers, bonuses) that are limited to their stores and not
    over. Rules for every store are the program's and are left out: the base
    rate applies at every partner alike. Four queries, whatever the counts."""
    now = now or timezone.now()
    partners = list(
        Partner.objects.filter(is_active=True, stores__is_active=True)
        .distinct()
        .order_by("name")
        .prefetch_related(
            Prefetch(
                "stores",
                queryset=Store.objects.filter(is_active=True).order_by("name"),
                to_attr="active_stores",
            )
        )
    )
    ids = [partner.pk for partner in partners]
    rewards: dict[int, list[Reward]] = {}
    for reward in reward_list_available(now=now).filter(funded_by_id__in=ids):
        rewards.setdefault(reward.funded_by_id, []).append(reward)
    rules: dict[int, list[EarningRule]] = {}
    for rule in (
        EarningRule.objects.filter(
            status=RuleStatus.ACTIVE,
            stores__partner_id__in=ids,
            stores__is_active=True,
        )
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .annotate(partner_id=F("stores__partner_id"))
        .order_by("name", "pk")
        .distinct()
    ):
        rules.setdefault(rule.partner_id, []).append(rule)
    return [
        PartnerForCustomers(
            partner=partner,
            stores=partner.active_stores,
            rewards=rewards.get(partner.pk, []),
            rules=rules.get(partner.pk, []),
        )
        for partner in partners
    ]


@dataclass(frozen=True)
class PartnerSettlement:
    """A partner's figures for one calendar month (see partner_settlements)."""

    partner: Partner
    month: dt.date  # the first day
    point_value: Decimal
    points_earned: int
    points_clawed_back: int  # <= 0
    points_redeemed_at_till: int  # discounts at the partner's tills
    voucher_count: int
    voucher_points: int  # spent on the vouchers counted

    @property
    def points_issued(self) -> int:
        return self.points_earned + self.points_clawed_back

    @property
    def points_redeemed(self) -> int:
        return self.points_redeemed_at_till + self.voucher_points

    @property
    def issued_value(self) -> Decimal:
        return (self.points_issued * self.point_value).quantize(Decimal("0.01"))

    @property
    def redeemed_value(self) -> Decimal:
        return (self.points_redeemed * self.point_value).quantize(Decimal("0.01"))

    @property
    def net_value(self) -> Decimal:
        """Positive: the partner owes the program; negative: the program owes it."""
        return self.issued_value - self.redeemed_value


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[first instant, first instant of the next month) in the current time zone."""
    start = dt.datetime(
        month.year, month.month, 1, tzinfo=timezone.get_current_timezone()
    )
    return start, start + relativedelta(months=1)


def partner_settlements(
    *, month: dt.date, partner_ids: list[int] | None = None
) -> list[PartnerSettlement]:
    """Every partner's settlement for the calendar month of `month`.

    - points earned: EARN entries of purchases at the partner's stores, posted
      in the month; clawed back: CLAWBACK entries (returns) of such purchases
      posted in the month, wherever the return was made. Issued = the sum.
    - redeemed at the till: points spent as a discount (Redemption) at the
      partner's stores in the month.
    - vouchers: vouchers USED in the month that either are of a reward the
      partner funds or were used at one of its stores (each counted once),
      with the points spent on them (0 for vouchers the program gave free).
      A voucher of a reward one partner funds, used at another partner's
      store, counts for the funder.
      Counted when used, not when bought, because a bought voucher can still
      be cancelled or expire with its points returned.
    - money: each figure × the partner's point value (the program's when
      unset); net = issued value − redeemed value.

    Three aggregate queries in all (ledger, vouchers, partners), grouped by
    partner, whatever the number of members or partners."""
    start, end = month_bounds(month)
    partners = Partner.objects.order_by("name")
    if partner_ids is not None:
        partners = partners.filter(pk__in=partner_ids)
    partners = list(partners)
    ids = [p.pk for p in partners]
    ledger = (
        LedgerEntry.objects.filter(created_at__gte=start, created_at__lt=end)
        .filter(
            Q(
                kind__in=[LedgerKind.EARN, LedgerKind.CLAWBACK],
                purchase__store__partner_id__in=ids,
            )
            | Q(kind=LedgerKind.REDEEM, redemption__store__partner_id__in=ids)
        )
        .annotate(
            who=Coalesce("purchase__store__partner_id", "redemption__store__partner_id")
        )
        .values("who")
        .annotate(
            earned=Sum("points", filter=Q(kind=LedgerKind.EARN)),
            clawed=Sum("points", filter=Q(kind=LedgerKind.CLAWBACK)),
            redeemed=Sum("points", filter=Q(kind=LedgerKind.REDEEM)),
        )
        .order_by()
    )
    by_ledger = {row["who"]: row for row in ledger}
    vouchers = (
        Voucher.objects.filter(
            status=VoucherStatus.USED, used_at__gte=start, used_at__lt=end
        )
        .filter(Q(reward__funded_by_id__in=ids) | Q(used_store__partner_id__in=ids))
        .annotate(who=Coalesce("reward__funded_by_id", "used_store__partner_id"))
        .values("who")
        .annotate(
            count=Count("id"), points=Sum(F("points_spent") - F("points_refunded"))
        )
        .order_by()
    )
    by_voucher = {row["who"]: row for row in vouchers}
    default_value = program_settings_get().point_value
    result = []
    for partner in partners:
        led = by_ledger.get(partner.pk, {})
        vou = by_voucher.get(partner.pk, {})
        result.append(
            PartnerSettlement(
                partner=partner,
                month=dt.date(month.year, month.month, 1),
                point_value=partner.point_value or default_value,
                points_earned=led.get("earned") or 0,
                points_clawed_back=led.get("clawed") or 0,
                points_redeemed_at_till=-(led.get("redeemed") or 0),
                voucher_count=vou.get("count") or 0,
                voucher_points=vou.get("points") or 0,
            )
        )
    return result


def partner_settlement(*, partner: Partner, month: dt.date) -> PartnerSettlement:
    """One partner's settlement for the month (partner_settlements says what counts)."""
    return partner_settlements(month=month, partner_ids=[partner.pk])[0]
