"""Promo codes: a promotion a customer unlocks with a code, the codes (one
shared, or a batch of unique ones) and every use of them."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

CODE_MAX_LENGTH = 32


class PromoEffect(models.TextChoices):
    BONUS_POINTS = "bonus_points", _("Bonus points")
    MULTIPLIER = "multiplier", _("Points multiplier on the purchase")
    VOUCHER = "voucher", _("Reward voucher")
    DISCOUNT_FIXED = "discount_fixed", _("Discount, fixed amount")
    DISCOUNT_PERCENT = "discount_percent", _("Discount, percent")


class PromoStacking(models.TextChoices):
    STACK = "stack", _("Stacks with promotions")
    REPLACE = "replace", _("Replaces promotions")
    BEST_OF = "best_of", _("The better of the code and the promotions")


class PromoCodeMode(models.TextChoices):
    SHARED = "shared", _("One shared code")
    BATCH = "batch", _("Unique codes, each used once")


class PromoChannel(models.TextChoices):
    """Where the code was handed out (the marketing channel it belongs to)."""

    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    SOCIAL = "social", _("Social media")
    WEBSITE = "website", _("Website")
    PRINT = "print", _("Print")
    IN_STORE = "in_store", _("In store")
    PARTNER = "partner", _("Partner")
    OTHER = "other", _("Other")


class PromoUseSource(models.TextChoices):
    TILL = "till", _("Till API")
    COUNTER = "counter", _("Counter")
    ONLINE = "online", _("Online")


class PromoCode(models.Model):
    """A promotion unlocked by a code: its effect, when and where it applies,
    who may use it, how often, and how it goes with the earning rules'
    promotions. `uses_count` counts the uses not reversed; a CheckConstraint
    keeps it within `max_uses`, and rewards.services.promocodes counts it under
    the row's lock, so the limit holds under concurrency."""

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    mode = models.CharField(
        _("codes"),
        max_length=10,
        choices=PromoCodeMode.choices,
        default=PromoCodeMode.SHARED,
    )
    effect = models.CharField(_("effect"), max_length=20, choices=PromoEffect.choices)
    points = models.PositiveIntegerField(
        _("bonus points"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(1_000_000)],
    )
    multiplier = models.DecimalField(
        _("points multiplier"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("1.01")), MaxValueValidator(100)],
    )
    reward = models.ForeignKey(
        "rewards.Reward",
        verbose_name=_("reward"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="promo_codes",
    )
    discount_amount = models.DecimalField(
        _("discount amount"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    discount_percent = models.DecimalField(
        _("discount percent"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(100)],
    )
    starts_at = models.DateTimeField(_("valid from"), null=True, blank=True)
    ends_at = models.DateTimeField(_("valid until"), null=True, blank=True)
    stores = models.ManyToManyField(
        "members.Store",
        verbose_name=_("stores"),
        blank=True,
        related_name="+",
        help_text=_("None: every store."),
    )
    min_spend = models.DecimalField(
        _("minimum spend"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    max_uses = models.PositiveIntegerField(
        _("uses in total"), null=True, blank=True, help_text=_("Empty: no limit.")
    )
    max_uses_per_member = models.PositiveIntegerField(
        _("uses per member"), null=True, blank=True, help_text=_("Empty: no limit.")
    )
    max_uses_per_day = models.PositiveIntegerField(
        _("uses per day"),
        null=True,
        blank=True,
        help_text=_("All members together, per calendar day. Empty: no limit."),
    )
    tiers = models.ManyToManyField(
        "rewards.Tier",
        verbose_name=_("tiers"),
        blank=True,
        related_name="+",
        help_text=_("Only members of these tiers; none: every member."),
    )
    stacking = models.CharField(
        _("with promotions"),
        max_length=10,
        choices=PromoStacking.choices,
        default=PromoStacking.STACK,
        help_text=_(
            "How the code goes with the promotions of the earning rules on the "
            "same purchase."
        ),
    )
    channel = models.CharField(
        _("channel"),
        max_length=16,
        choices=PromoChannel.choices,
        default=PromoChannel.OTHER,
    )
    active = models.BooleanField(_("active"), default=True)
    uses_count = models.PositiveIntegerField(_("uses"), default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("promo code")
        verbose_name_plural = _("promo codes")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_uses__isnull=True)
                | models.Q(uses_count__lte=models.F("max_uses")),
                name="promo_uses_within_limit",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PromoCodeBatch(models.Model):
    """Unique codes generated together for one promotion (CSV export)."""

    promo = models.ForeignKey(
        PromoCode,
        verbose_name=_("promo code"),
        on_delete=models.PROTECT,
        related_name="batches",
    )
    label = models.CharField(_("label"), max_length=120, blank=True)
    size = models.PositiveIntegerField(_("codes"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("promo code batch")
        verbose_name_plural = _("promo code batches")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.label or f"{self.promo} #{self.pk}"


class PromoCodeKey(models.Model):
    """One code a customer can type: the shared code of a promotion, or one
    of a batch (used at most `max_uses` times, 1 for a batch code). Codes are
    unique across all promotions, kept upper case without spaces or dashes."""

    code = models.CharField(_("code"), max_length=CODE_MAX_LENGTH, unique=True)
    promo = models.ForeignKey(
        PromoCode,
        verbose_name=_("promo code"),
        on_delete=models.PROTECT,
        related_name="keys",
    )
    batch = models.ForeignKey(
        PromoCodeBatch,
        verbose_name=_("batch"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="keys",
    )
    max_uses = models.PositiveIntegerField(_("uses allowed"), null=True, blank=True)
    uses_count = models.PositiveIntegerField(_("uses"), default=0)

    class Meta:
        verbose_name = _("code")
        verbose_name_plural = _("codes")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_uses__isnull=True)
                | models.Q(uses_count__lte=models.F("max_uses")),
                name="promo_key_uses_within_limit",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class PromoCodeUse(models.Model):
    """One use of a code: by whom, where, on which purchase, and what it cost
    (bonus points, a voucher, the discount the till gave). A return of the
    whole purchase reverses it once (`reversed_at`), taking its points back
    and freeing its place in the limits."""

    promo = models.ForeignKey(
        PromoCode,
        verbose_name=_("promo code"),
        on_delete=models.PROTECT,
        related_name="uses",
        # The index on (promo, member) serves it (tests/house/test_indexes.py).
        db_index=False,
    )
    key = models.ForeignKey(
        PromoCodeKey,
        verbose_name=_("code"),
        on_delete=models.PROTECT,
        related_name="uses",
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="promo_code_uses",
    )
    purchase = models.OneToOneField(
        "rewards.Purchase",
        verbose_name=_("purchase"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="promo_code_use",
    )
    store = models.ForeignKey(
        "members.Store",
        verbose_name=_("store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    source = models.CharField(
        _("source"), max_length=10, choices=PromoUseSource.choices
    )
    effect = models.CharField(_("effect"), max_length=20, choices=PromoEffect.choices)
    points = models.IntegerField(_("bonus points"), default=0)
    discount = models.DecimalField(
        _("discount"), max_digits=12, decimal_places=2, default=Decimal("0")
    )
    revenue = models.DecimalField(
        _("revenue"), max_digits=12, decimal_places=2, default=Decimal("0")
    )
    voucher = models.ForeignKey(
        "rewards.Voucher",
        verbose_name=_("voucher"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    entry = models.OneToOneField(
        "rewards.LedgerEntry",
        verbose_name=_("bonus entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="promo_code_use",
    )
    used_at = models.DateTimeField(_("used"), default=timezone.now)
    used_on = models.DateField(_("day"))
    idempotency_key = models.CharField(
        max_length=80, null=True, blank=True, unique=True
    )
    reversed_at = models.DateTimeField(_("reversed"), null=True, blank=True)
    reversal_entry = models.OneToOneField(
        "rewards.LedgerEntry",
        verbose_name=_("reversal entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="promo_code_reversal",
    )

    class Meta:
        verbose_name = _("promo code use")
        verbose_name_plural = _("promo code uses")
        ordering = ["-used_at", "-id"]
        indexes = [
            models.Index(fields=["promo", "member"]),
            models.Index(fields=["promo", "used_on"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(points__gte=0), name="promo_use_points_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} · {self.member_id}"
