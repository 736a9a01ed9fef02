"""Earning rules and promotions: what a purchase earns beyond the base rate.

The order they are applied in is fixed and shown to staff next to the rules
(rewards.earning.STAGES); no rule has a hidden priority.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RuleKind(models.TextChoices):
    EXCLUDE = "exclude", _("Excluded: earns nothing")
    MULTIPLIER = "multiplier", _("Product multiplier")
    FIXED = "fixed", _("Fixed bonus per unit")
    PROMOTION = "promotion", _("Promotion (time-boxed multiplier)")


class RuleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft (only for the simulator)")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")


class EarningRule(models.Model):
    """One earning rule. Which lines it matches (category, SKU; both empty = every
    line, allowed for promotions only), when (dates, weekdays, hours in the
    program's time zone) and where (stores; none = all), and what it does.

    A DRAFT is never applied to real purchases; the simulator applies it to past
    ones. A draft that `replaces` an active rule is a proposed change to it.
    Written by rewards.services.earning_rule_save / earning_rule_activate.
    """

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=RuleKind.choices)
    status = models.CharField(
        _("status"), max_length=8, choices=RuleStatus.choices, default=RuleStatus.DRAFT
    )
    category = models.CharField(
        _("category"),
        max_length=100,
        blank=True,
        help_text=_("Lines of this category (as the till sends it; case ignored)."),
    )
    sku = models.CharField(
        _("SKU"), max_length=64, blank=True, help_text=_("Lines with this SKU.")
    )
    multiplier = models.DecimalField(
        _("multiplier"),
        max_digits=6,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("For multipliers and promotions: 2 = double points."),
    )
    points_per_unit = models.PositiveIntegerField(
        _("bonus points per unit"),
        default=0,
        help_text=_("For fixed bonuses: points added per unit bought."),
    )
    stores = models.ManyToManyField(
        "members.Store",
        verbose_name=_("stores"),
        blank=True,
        related_name="+",
        help_text=_("Leave empty for every store."),
    )
    weekdays = models.CharField(
        _("weekdays"),
        max_length=7,
        blank=True,
        help_text=_("Days it applies on; none = every day."),
    )
    time_from = models.TimeField(_("from (time of day)"), null=True, blank=True)
    time_to = models.TimeField(_("until (time of day)"), null=True, blank=True)
    starts_at = models.DateTimeField(_("starts"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    replaces = models.ForeignKey(
        "self",
        verbose_name=_("proposed change to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="drafts",
        help_text=_("A draft that would replace this rule; the simulator compares."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("earning rule")
        verbose_name_plural = _("earning rules")
        ordering = ["kind", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="promotion")
                | ~models.Q(category="")
                | ~models.Q(sku=""),
                name="earning_rule_product_needed",
                violation_error_message=_(
                    "Name the category or the SKU the rule is for; only a "
                    "promotion may apply to every line."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(starts_at__isnull=True)
                | models.Q(ends_at__isnull=True)
                | models.Q(ends_at__gt=models.F("starts_at")),
                name="earning_rule_dates_ordered",
                violation_error_message=_("The end must be after the start."),
            ),
        ]

    def __str__(self) -> str:
        return self.name
