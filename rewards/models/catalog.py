"""The rewards catalog and the vouchers members redeem them into."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.templatetags.static import static
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.formatting import money_format, percent_format


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
    image = models.ImageField(
        _("picture"),
        upload_to="rewards/",
        blank=True,
        help_text=_(
            "A photo or drawing of the reward (PNG or JPEG); the catalog and the "
            "voucher show a 600 × 400 thumbnail made from it."
        ),
    )
    image_thumbnail = models.ImageField(
        _("thumbnail"), upload_to="rewards/thumbs/", blank=True, editable=False
    )
    image_url = models.CharField(
        _("picture address"),
        max_length=500,
        blank=True,
        help_text=_(
            "Instead of an upload: an image URL or a static path such as "
            '"img/rewards/coffee.jpg".'
        ),
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
    funded_by = models.ForeignKey(
        "members.Partner",
        verbose_name=_("funded by partner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="funded_rewards",
        help_text=_("A partner who provides this reward; empty: the program."),
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
    def picture_url(self) -> str:
        """The thumbnail's URL, else the picture address's; "" when neither."""
        if self.image_thumbnail:
            return self.image_thumbnail.url
        if not self.image_url:
            return ""
        if "://" in self.image_url or self.image_url.startswith("/"):
            return self.image_url
        return static(self.image_url)

    @property
    def value_text(self) -> str:
        """'50,00 грн' for money, '10 %' for a percentage (the active
        language's forms), '' when there is no value."""
        if self.value is None:
            return ""
        if self.type == RewardType.PERCENT_DISCOUNT:
            return percent_format(self.value, places=2)
        return money_format(self.value)


class VoucherStatus(models.TextChoices):
    ISSUED = "issued", _("Ready to use")
    USED = "used", _("Used")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


class VoucherSource(models.TextChoices):
    REDEEMED = "redeemed", _("Bought with points")
    STAMP_CARD = "stamp_card", _("Full stamp card")
    BIRTHDAY = "birthday", _("Birthday gift")
    MEMBERSHIP = "membership", _("Membership perk")
    CAMPAIGN = "campaign", _("Campaign coupon")
    GOODWILL = "goodwill", _("Given by staff")
    PROMO_CODE = "promo_code", _("Promo code")


class Voucher(models.Model):
    """A reward a member took for points: a unique code to show at a till, used once.

    Bought with points (reward_redeem) or granted free by the program
    (voucher_grant: stamp cards, birthdays, memberships, campaigns).
    Written only by rewards.services (reward_redeem, voucher_grant, voucher_consume,
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
        # The index on (member, issued_at) serves it (tests/house/test_indexes.py).
        db_index=False,
    )
    code = models.CharField(_("code"), max_length=16, unique=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=VoucherStatus.choices,
        default=VoucherStatus.ISSUED,
    )
    source = models.CharField(
        _("source"),
        max_length=16,
        choices=VoucherSource.choices,
        default=VoucherSource.REDEEMED,
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
                # Only a voucher bought with points has a price; granted ones are free.
                condition=models.Q(points_spent__gt=0)
                | ~models.Q(source=VoucherSource.REDEEMED),
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
