"""Pre-aggregated figures the dashboards read: filled only by
analytics.services.snapshots (and .period_stats) from the ledger, purchases,
members and vouchers; never edited by hand.

Per-day rows are additive (a period's figure is the sum of its days); counts of
distinct members, which do not add up over days, come from MemberMonthActivity
(one row per member, month and store they bought in)."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

ZERO = Decimal("0")


def _money(verbose_name):
    return models.DecimalField(
        verbose_name, max_digits=16, decimal_places=2, default=ZERO
    )


def _count(verbose_name):
    return models.PositiveIntegerField(verbose_name, default=0)


class DailyStoreSnapshot(models.Model):
    """One day of one store, or of the whole program when `store` is empty.

    The program row holds everything; a store's row holds what can be placed at
    a store: its receipts and returns, the points they earned and took back, its
    till redemptions, enrollments there and vouchers used there. Bonuses,
    adjustments, expiry and vouchers bought with points belong to no store."""

    day = models.DateField(_("day"))
    store = models.ForeignKey(
        "members.Store",
        verbose_name=_("store"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        # The index on (store, day) serves it (tests/house/test_indexes.py).
        db_index=False,
    )
    purchases = _count(_("purchases"))
    sales = _money(_("sales"))
    buyers = _count(_("buyers"))  # distinct members that day: not additive
    returns = _count(_("returns"))
    returned = _money(_("returned"))
    enrollments = _count(_("enrollments"))
    points_earned = _count(_("points earned"))
    points_bonus = _count(_("bonus points"))
    points_adjusted_in = _count(_("points added by hand"))
    points_adjusted_out = _count(_("points removed by hand"))
    points_redeemed = _count(_("points redeemed"))
    points_refunded = _count(_("points returned"))
    points_clawed_back = _count(_("points taken back by returns"))
    points_expired = _count(_("points expired"))
    debt_clawbacks = _count(_("returns leaving a balance below zero"))
    debt_points = _count(_("points owed after returns"))
    redemptions = _count(_("till redemptions"))
    redemption_discount = _money(_("discount given"))
    vouchers_issued = _count(_("vouchers issued"))
    vouchers_used = _count(_("vouchers used"))
    tier_ups = _count(_("tier upgrades"))
    tier_downs = _count(_("tier downgrades"))
    referrals_created = _count(_("referrals"))
    referrals_qualified = _count(_("referrals converted"))
    computed_at = models.DateTimeField(_("computed"), default=timezone.now)

    class Meta:
        verbose_name = _("daily snapshot")
        verbose_name_plural = _("daily snapshots")
        ordering = ["-day", "store"]
        permissions = [("view_dashboard", _("Can view the analytics dashboards"))]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "store"],
                condition=models.Q(store__isnull=False),
                name="dailysnap_day_store_unique",
            ),
            models.UniqueConstraint(
                fields=["day"],
                condition=models.Q(store__isnull=True),
                name="dailysnap_day_all_unique",
            ),
        ]
        indexes = [models.Index(fields=["store", "day"])]

    def __str__(self) -> str:
        return f"{self.day} {self.store_id or 'all'}"

    @property
    def points_net(self) -> int:
        return (
            self.points_earned
            + self.points_bonus
            + self.points_adjusted_in
            + self.points_refunded
            - self.points_adjusted_out
            - self.points_redeemed
            - self.points_clawed_back
            - self.points_expired
        )


class DailyVoucherSnapshot(models.Model):
    """Vouchers issued and used on a day, by where they came from (bought with
    points, stamp card, birthday, membership, campaign coupon, staff)."""

    day = models.DateField(_("day"))
    source = models.CharField(_("source"), max_length=16)
    issued = _count(_("issued"))
    used = _count(_("used"))

    class Meta:
        verbose_name = _("daily voucher snapshot")
        verbose_name_plural = _("daily voucher snapshots")
        ordering = ["-day", "source"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "source"], name="vouchersnap_day_source_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.source}"


class MemberMonthActivity(models.Model):
    """A member's purchases at one store in one month: the base of the distinct
    counts (active members, repeat buyers, retention, churn, cohorts)."""

    month = models.DateField(_("month"))
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,  # written in bulk by INSERT … SELECT from purchases,
        # The index on (member, month) serves it (tests/house/test_indexes.py).
        db_index=False,
    )
    store = models.ForeignKey(
        "members.Store",
        verbose_name=_("store"),
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
    )
    purchases = _count(_("purchases"))
    sales = _money(_("sales"))
    first_day = models.DateField(_("first purchase"))
    last_day = models.DateField(_("last purchase"))

    class Meta:
        verbose_name = _("member month")
        verbose_name_plural = _("member months")
        constraints = [
            models.UniqueConstraint(
                fields=["month", "member", "store"], name="membermonth_unique"
            )
        ]
        indexes = [
            models.Index(fields=["month", "store"]),
            models.Index(fields=["member", "month"]),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.member_id}@{self.store_id}"


class MonthlyCohortSnapshot(models.Model):
    """Members who enrolled in `cohort` month (at `store`, or anywhere when
    empty) and how many of them bought in `month`."""

    cohort = models.DateField(_("enrollment month"))
    month = models.DateField(_("month"))
    store = models.ForeignKey(
        "members.Store",
        verbose_name=_("enrolled at"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    members = _count(_("members in the cohort"))
    active = _count(_("active members"))
    purchases = _count(_("purchases"))
    sales = _money(_("sales"))

    class Meta:
        verbose_name = _("cohort snapshot")
        verbose_name_plural = _("cohort snapshots")
        ordering = ["cohort", "month"]
        constraints = [
            models.UniqueConstraint(
                fields=["cohort", "month", "store"],
                condition=models.Q(store__isnull=False),
                name="cohortsnap_store_unique",
            ),
            models.UniqueConstraint(
                fields=["cohort", "month"],
                condition=models.Q(store__isnull=True),
                name="cohortsnap_all_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cohort:%Y-%m} → {self.month:%Y-%m}"


class ProgramStateSnapshot(models.Model):
    """The program as it stood at the end of a day (taken when the snapshots are
    refreshed): balances, debts and members per tier. Not rebuilt for the past."""

    day = models.DateField(_("day"), unique=True)
    members = _count(_("members"))
    points_positive = models.BigIntegerField(_("points held"), default=0)
    accounts_negative = _count(_("accounts below zero"))
    points_negative = models.BigIntegerField(_("points owed"), default=0)
    members_beyond_earned = _count(_("members who redeemed more than they earned"))
    tier_counts = models.JSONField(_("members per tier"), default=dict)
    computed_at = models.DateTimeField(_("computed"), default=timezone.now)

    class Meta:
        verbose_name = _("program state snapshot")
        verbose_name_plural = _("program state snapshots")
        ordering = ["-day"]

    def __str__(self) -> str:
        return str(self.day)


class RefreshState(models.Model):
    """One row: the highest source ids the last refresh saw. Rows above them are
    new (or back-dated, e.g. imported purchases): their days are recomputed."""

    purchase_id = models.BigIntegerField(default=0)
    return_id = models.BigIntegerField(default=0)
    entry_id = models.BigIntegerField(default=0)
    member_id = models.BigIntegerField(default=0)
    voucher_id = models.BigIntegerField(default=0)
    tier_change_id = models.BigIntegerField(default=0)
    referral_id = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    full_from = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("analytics refresh state")
        verbose_name_plural = _("analytics refresh state")

    def __str__(self) -> str:
        return f"refreshed {self.refreshed_at}"


class PeriodMemberStats(models.Model):
    """Distinct-member figures of one period (whole months) for a store (0 =
    all stores, -1 = the per-store table), kept until the next refresh, which
    empties the table: the dashboards compute them once per period, the
    nightly job does so for the default period ahead of the first visitor."""

    first = models.DateField(_("first month"))
    last = models.DateField(_("last month"))
    store_key = models.IntegerField(_("store"))
    churn_days = models.PositiveSmallIntegerField(_("churn after (days)"))
    stats = models.JSONField(_("figures"), default=dict)
    computed_at = models.DateTimeField(_("computed"), default=timezone.now)

    class Meta:
        verbose_name = _("period member figures")
        verbose_name_plural = _("period member figures")
        constraints = [
            models.UniqueConstraint(
                fields=["first", "last", "store_key", "churn_days"],
                name="periodstats_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.first:%Y-%m}–{self.last:%Y-%m} store {self.store_key}"
