"""Membership tiers and the history of every move between them."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rewards.models.reasons import SystemReasonFields


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


class TierHistory(SystemReasonFields):
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
        # The index on (member, created_at) serves it (tests/house/test_indexes.py).
        db_index=False,
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
