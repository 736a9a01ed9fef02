"""The points ledger and what moves it: purchases, returns, redemptions, adjustments."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ProgramSettings(models.Model):
    """The program's earning and burning rates: one row, edited by Managers in admin."""

    currency = models.CharField(_("currency"), max_length=3, default="UAH")
    points_per_unit = models.DecimalField(
        _("points per currency unit"),
        max_digits=8,
        decimal_places=4,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Points earned per whole unit of currency spent, rounded down."),
    )
    min_purchase = models.DecimalField(
        _("minimum purchase for points"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    point_value = models.DecimalField(
        _("money value of one point"),
        max_digits=8,
        decimal_places=4,
        default=Decimal("0.10"),
        validators=[MinValueValidator(Decimal("0.0001"))],
        help_text=_("Discount given at the till for one redeemed point."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("program settings")
        verbose_name_plural = _("program settings")

    def __str__(self) -> str:
        return str(_("Program settings"))


class PointsAccount(models.Model):
    """A member's points wallet. `balance` caches the sum of its ledger entries.

    The balance may go below zero only through a return clawback after the
    points were spent; later earnings pay the debt back.
    """

    member = models.OneToOneField(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="account",
    )
    balance = models.IntegerField(_("balance"), default=0)
    tier = models.ForeignKey(
        "rewards.Tier",
        verbose_name=_("tier"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    tier_since = models.DateTimeField(_("in this tier since"), null=True, blank=True)
    # The day the nightly check first found the member below their tier; the
    # grace period counts from here, and a qualifying value clears it.
    tier_lapsed_on = models.DateField(_("below the tier since"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("points account")
        verbose_name_plural = _("points accounts")

    def __str__(self) -> str:
        return f"{self.member.card_number}: {self.balance}"


class LedgerKind(models.TextChoices):
    EARN = "earn", _("Earned")
    REDEEM = "redeem", _("Redeemed")
    CLAWBACK = "clawback", _("Return")
    ADJUST = "adjust", _("Adjustment")
    EXPIRE = "expire", _("Expired")
    BONUS = "bonus", _("Bonus")
    REFUND = "refund", _("Points returned")


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete a ledger entry."""


class LedgerEntryQuerySet(models.QuerySet):
    """Reads only: bulk update and delete would bypass the append-only rule."""

    def update(self, **kwargs):
        raise AppendOnlyError("Ledger entries are append-only; write a correction.")

    def delete(self):
        raise AppendOnlyError("Ledger entries are append-only; write a correction.")


class LedgerEntry(models.Model):
    """One movement of points. Never edited, never deleted: corrections are new entries."""

    account = models.ForeignKey(
        PointsAccount,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="entries",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=LedgerKind.choices)
    points = models.IntegerField(_("points"))
    balance_after = models.IntegerField(_("balance after"))
    reason = models.CharField(_("reason"), max_length=255)
    purchase = models.ForeignKey(
        "rewards.Purchase",
        verbose_name=_("purchase"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    purchase_return = models.ForeignKey(
        "rewards.PurchaseReturn",
        verbose_name=_("return"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    redemption = models.ForeignKey(
        "rewards.Redemption",
        verbose_name=_("redemption"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    voucher = models.ForeignKey(
        "rewards.Voucher",
        verbose_name=_("voucher"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff user"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    idempotency_key = models.CharField(
        max_length=80, null=True, blank=True, unique=True
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "-created_at", "-id"])]
        permissions = [("adjust_points", _("Can adjust points manually"))]
        constraints = [
            # A redemption or a manual deduction may never take a balance below
            # zero; only a clawback may (the points were already spent).
            models.CheckConstraint(
                condition=models.Q(kind="clawback")
                | models.Q(points__gte=0)
                | models.Q(balance_after__gte=0),
                name="ledger_no_overdraw",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="earn") | models.Q(points__gte=0),
                name="ledger_earn_not_negative",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind__in=["redeem", "clawback", "expire"])
                | models.Q(points__lte=0),
                name="ledger_debits_not_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.points:+d} · {self.reason}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError("Ledger entries are append-only; write a correction.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Ledger entries are append-only; write a correction.")


class Purchase(models.Model):
    """A receipt from a store's till. (store, receipt_id) is unique: a retry earns once.

    The earning rate and minimum are copied at recording time so that a later
    change of the program settings never changes what a return claws back.
    """

    class Source(models.TextChoices):
        API = "api", _("Till API")
        COUNTER = "counter", _("Counter")
        IMPORT = "import", _("Import")

    store = models.ForeignKey(
        "members.Store",
        verbose_name=_("store"),
        on_delete=models.PROTECT,
        related_name="purchases",
    )
    receipt_id = models.CharField(_("receipt id"), max_length=64)
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="purchases",
    )
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    occurred_at = models.DateTimeField(_("time of purchase"), default=timezone.now)
    points_earned = models.IntegerField(_("points earned"), default=0)
    points_per_unit = models.DecimalField(max_digits=8, decimal_places=4)
    min_purchase = models.DecimalField(max_digits=12, decimal_places=2)
    balance_after = models.IntegerField(_("balance after"))
    returned_total = models.DecimalField(
        _("returned"), max_digits=12, decimal_places=2, default=Decimal("0")
    )
    points_reversed = models.IntegerField(_("points taken back"), default=0)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    fingerprint = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("purchase")
        verbose_name_plural = _("purchases")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "receipt_id"], name="purchase_receipt_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(total__gt=0), name="purchase_total_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(returned_total__lte=models.F("total")),
                name="purchase_return_not_above_total",
            ),
            models.CheckConstraint(
                condition=models.Q(points_reversed__lte=models.F("points_earned")),
                name="purchase_reversal_not_above_earned",
            ),
        ]
        indexes = [models.Index(fields=["member", "-occurred_at"])]

    def __str__(self) -> str:
        return f"{self.store.code} #{self.receipt_id}"

    @property
    def returnable_total(self) -> Decimal:
        return self.total - self.returned_total


class PurchaseLine(models.Model):
    """An item of a receipt; returns by line count against `quantity_returned`."""

    purchase = models.ForeignKey(
        Purchase,
        verbose_name=_("purchase"),
        on_delete=models.CASCADE,
        related_name="lines",
    )
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=200, blank=True)
    category = models.CharField(_("category"), max_length=100, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=3)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    quantity_returned = models.DecimalField(
        _("quantity returned"), max_digits=10, decimal_places=3, default=Decimal("0")
    )

    class Meta:
        verbose_name = _("purchase line")
        verbose_name_plural = _("purchase lines")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity_returned__lte=models.F("quantity")),
                name="line_return_not_above_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} × {self.quantity}"


class PurchaseReturn(models.Model):
    """A full or partial return of a purchase, idempotent by (store, receipt_id)."""

    purchase = models.ForeignKey(
        Purchase,
        verbose_name=_("purchase"),
        on_delete=models.PROTECT,
        related_name="returns",
    )
    store = models.ForeignKey(
        "members.Store",
        verbose_name=_("store"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    receipt_id = models.CharField(_("return receipt id"), max_length=64)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    points_reversed = models.IntegerField(_("points taken back"))
    balance_after = models.IntegerField(_("balance after"))
    lines = models.JSONField(_("returned lines"), default=list, blank=True)
    fingerprint = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("return")
        verbose_name_plural = _("returns")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "receipt_id"], name="return_receipt_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="return_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.store.code} #{self.receipt_id}"


class Redemption(models.Model):
    """Points spent as a discount at a till, idempotent by (store, receipt_id)."""

    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="redemptions",
    )
    store = models.ForeignKey(
        "members.Store",
        verbose_name=_("store"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    receipt_id = models.CharField(_("receipt id"), max_length=64)
    points = models.PositiveIntegerField(_("points"))
    discount = models.DecimalField(_("discount"), max_digits=12, decimal_places=2)
    balance_after = models.IntegerField(_("balance after"))
    fingerprint = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "receipt_id"], name="redemption_receipt_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(points__gt=0), name="redemption_points_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.store.code} #{self.receipt_id}: {self.points}"


class RewardType(models.TextChoices):
    FIXED_DISCOUNT = "fixed", _("Fixed discount")
    PERCENT_DISCOUNT = "percent", _("Percent discount")
    FREE_PRODUCT = "product", _("Free product")
    GIFT = "gift", _("Gift or experience")


class Reward(models.Model):
    """Something in the catalog a member can take for points; redeeming it issues a Voucher.

    `stock` empty means unlimited; it only changes under the reward's row lock
    (rewards.locks.reward_lock), so it is never oversold.
    """

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    type = models.CharField(
        _("type"),
        max_length=16,
        choices=RewardType.choices,
        default=RewardType.FREE_PRODUCT,
    )
    value = models.DecimalField(
        _("value"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_(
            "Money off for a fixed discount, a percentage for a percent discount; "
            "empty for products and gifts."
        ),
    )
    points_cost = models.PositiveIntegerField(
        _("points cost"), validators=[MinValueValidator(1)]
    )
    image_url = models.CharField(
        _("image"),
        max_length=500,
        blank=True,
        help_text=_('An image URL or a static path such as "img/rewards/coffee.jpg".'),
    )
    stock = models.PositiveIntegerField(
        _("stock"),
        null=True,
        blank=True,
        help_text=_("How many are left to give; empty for unlimited."),
    )
    limit_count = models.PositiveSmallIntegerField(
        _("limit per member"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("How many times one member may take it within the period."),
    )
    limit_days = models.PositiveSmallIntegerField(
        _("limit period (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
    )
    active_from = models.DateTimeField(_("available from"), null=True, blank=True)
    active_until = models.DateTimeField(_("available until"), null=True, blank=True)
    voucher_valid_days = models.PositiveSmallIntegerField(
        _("voucher valid for (days)"), default=30, validators=[MinValueValidator(1)]
    )
    refund_points_on_cancel = models.BooleanField(
        _("return points when a voucher is cancelled"), default=True
    )
    refund_points_on_expiry = models.BooleanField(
        _("return points when a voucher expires"), default=False
    )
    is_active = models.BooleanField(_("active"), default=True)
    tiers = models.ManyToManyField(
        "rewards.Tier",
        verbose_name=_("only for tiers"),
        blank=True,
        related_name="rewards",
        help_text=_("Empty: members of any tier, or of none, may take it."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        ordering = ["points_cost", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(points_cost__gt=0), name="reward_cost_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(stock__isnull=True) | models.Q(stock__gte=0),
                name="reward_stock_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(limit_count__isnull=True, limit_days__isnull=True)
                | models.Q(limit_count__gt=0, limit_days__gt=0),
                name="reward_limit_complete",
            ),
            models.CheckConstraint(
                condition=models.Q(active_from__isnull=True)
                | models.Q(active_until__isnull=True)
                | models.Q(active_until__gt=models.F("active_from")),
                name="reward_active_dates_ordered",
            ),
            models.CheckConstraint(
                condition=~models.Q(type="percent") | models.Q(value__lte=100),
                name="reward_percent_at_most_100",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        errors = {}
        if self.type in (RewardType.FIXED_DISCOUNT, RewardType.PERCENT_DISCOUNT):
            if self.value is None:
                errors["value"] = _("A discount needs its value.")
            elif self.type == RewardType.PERCENT_DISCOUNT and self.value > 100:
                errors["value"] = _("A percent discount is at most 100.")
        if (self.limit_count is None) != (self.limit_days is None):
            errors["limit_days"] = _("Give both the limit and its period, or neither.")
        if (
            self.active_from
            and self.active_until
            and self.active_until <= self.active_from
        ):
            errors["active_until"] = _("The end must come after the start.")
        if errors:
            raise ValidationError(errors)

    @property
    def value_text(self) -> str:
        """'50.00' for money, '10%' for a percentage, '' when there is no value."""
        if self.value is None:
            return ""
        if self.type == RewardType.PERCENT_DISCOUNT:
            return f"{self.value.normalize():f}%"
        return f"{self.value:.2f}"


class VoucherStatus(models.TextChoices):
    ISSUED = "issued", _("Ready to use")
    USED = "used", _("Used")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


class Voucher(models.Model):
    """A reward a member took for points: a unique code to show at a till, used once.

    Written only by rewards.services (reward_redeem, voucher_consume,
    voucher_cancel, voucher_expire_due) under the voucher's row lock.
    """

    reward = models.ForeignKey(
        Reward,
        verbose_name=_("reward"),
        on_delete=models.PROTECT,
        related_name="vouchers",
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="vouchers",
    )
    code = models.CharField(_("code"), max_length=16, unique=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=VoucherStatus.choices,
        default=VoucherStatus.ISSUED,
    )
    points_spent = models.PositiveIntegerField(_("points spent"))
    points_refunded = models.PositiveIntegerField(_("points returned"), default=0)
    issued_at = models.DateTimeField(_("issued"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    used_store = models.ForeignKey(
        "members.Store",
        verbose_name=_("used at store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    used_receipt_id = models.CharField(_("used on receipt"), max_length=64, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("used by staff user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cancelled by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    expired_at = models.DateTimeField(_("marked expired"), null=True, blank=True)
    idempotency_key = models.CharField(max_length=80, unique=True)
    fingerprint = models.CharField(max_length=64, editable=False)

    class Meta:
        verbose_name = _("voucher")
        verbose_name_plural = _("vouchers")
        ordering = ["-issued_at", "-id"]
        indexes = [
            models.Index(fields=["member", "-issued_at"]),
            models.Index(fields=["status", "expires_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(points_spent__gt=0),
                name="voucher_points_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(points_refunded__lte=models.F("points_spent")),
                name="voucher_refund_not_above_spent",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="used")
                | (models.Q(used_at__isnull=False) & ~models.Q(used_receipt_id="")),
                name="voucher_used_has_receipt",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("catalog:voucher", args=[self.code])


# --- tiers ---------------------------------------------------------------------------


class TierQualification(models.TextChoices):
    SPEND = "spend", _("Spend")
    POINTS_EARNED = "points", _("Points earned")
    VISITS = "visits", _("Visits")


class TierWindow(models.TextChoices):
    ROLLING = "rolling", _("Rolling months")
    CALENDAR_YEAR = "year", _("Calendar year")


class Tier(models.Model):
    """A level of the program (Bronze, Silver, Gold), higher `rank` is better.

    A member qualifies when their spend, points earned (never the balance) or
    visits over the window reach `threshold`. Written by staff in admin only;
    members move between tiers through rewards.services (tier_evaluate,
    tiers_downgrade_due), each move kept in TierHistory.
    """

    name = models.CharField(_("name"), max_length=60)
    rank = models.PositiveSmallIntegerField(
        _("rank"), unique=True, help_text=_("Higher is better: Bronze 1, Silver 2.")
    )
    qualification = models.CharField(
        _("qualifies by"),
        max_length=16,
        choices=TierQualification.choices,
        default=TierQualification.SPEND,
    )
    threshold = models.DecimalField(
        _("threshold"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Money spent, points earned or number of visits in the window."),
    )
    window = models.CharField(
        _("window"),
        max_length=16,
        choices=TierWindow.choices,
        default=TierWindow.ROLLING,
    )
    window_months = models.PositiveSmallIntegerField(
        _("window (months)"),
        default=12,
        validators=[MinValueValidator(1)],
        help_text=_("For a rolling window: how many months back are counted."),
    )
    earn_multiplier = models.DecimalField(
        _("earn multiplier"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("1"))],
        help_text=_("Multiplies the base earning rate, e.g. 1.25."),
    )
    benefits = models.TextField(_("benefits"), blank=True)
    grace_days = models.PositiveSmallIntegerField(
        _("grace days before a downgrade"), default=30
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["rank"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(earn_multiplier__gte=1),
                name="tier_multiplier_at_least_one",
            ),
            models.CheckConstraint(
                condition=models.Q(threshold__gte=0),
                name="tier_threshold_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(window_months__gte=1),
                name="tier_window_months_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TierHistory(models.Model):
    """One move of a member between tiers, with the reason and the value that caused it.

    Written only by rewards.services in the transaction that moves the tier."""

    class Kind(models.TextChoices):
        INITIAL = "initial", _("First tier")
        UP = "up", _("Upgrade")
        DOWN = "down", _("Downgrade")

    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="tier_history",
    )
    from_tier = models.ForeignKey(
        Tier,
        verbose_name=_("from tier"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    to_tier = models.ForeignKey(
        Tier,
        verbose_name=_("to tier"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    reason = models.CharField(_("reason"), max_length=255)
    value = models.DecimalField(_("value at the time"), max_digits=14, decimal_places=2)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("tier change")
        verbose_name_plural = _("tier history")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["member", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.from_tier or '—'} → {self.to_tier or '—'}"
