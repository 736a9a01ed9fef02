"""Till receipts, their lines, returns and counter redemptions."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
        # The receipt key, unique (store, receipt_id), serves every look-up by
        # store; a second index on store alone was taken by the generic plan
        # of the till's prepared statements (rewards/tests/ledger/
        # test_receipt_lookup_plan.py).
        db_index=False,
    )
    receipt_id = models.CharField(_("receipt id"), max_length=64)
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="purchases",
        # (member, -occurred_at) serves every look-up by member; with a second
        # index on member alone, the generic plan of a tier value's prepared
        # statement read all the member's purchases (see `store`).
        db_index=False,
    )
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    occurred_at = models.DateTimeField(_("time of purchase"), default=timezone.now)
    points_earned = models.IntegerField(_("points earned"), default=0)
    points_per_unit = models.DecimalField(max_digits=8, decimal_places=4)
    min_purchase = models.DecimalField(max_digits=12, decimal_places=2)
    # What the rules gave, before rounding down, and the part of the total that
    # could earn (excluded lines left out): returns keep the kept share of it.
    points_exact = models.DecimalField(
        max_digits=24, decimal_places=6, default=Decimal("0")
    )
    eligible_total = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0")
    )
    tier_multiplier = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("1")
    )
    membership_multiplier = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("1")
    )
    # The member's tier when they bought (its multiplier applied), for the
    # reward rate per tier; empty for purchases recorded before it was kept.
    tier = models.ForeignKey(
        "rewards.Tier",
        verbose_name=_("tier"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The program's cap when it was recorded (ProgramSettings.earn_cap_percent
    # at its point value, in points per currency unit); returns keep the kept
    # part under it. Empty: no cap.
    points_cap_per_unit = models.DecimalField(
        max_digits=14, decimal_places=6, null=True, blank=True
    )
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
    eligible = models.BooleanField(_("earns points"), default=True)
    points_exact = models.DecimalField(
        max_digits=24, decimal_places=6, default=Decimal("0")
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
        db_index=False,  # the receipt key serves it (see Purchase.store)
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
        db_index=False,  # the receipt key serves it (see Purchase.store)
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
