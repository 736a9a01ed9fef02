"""Program-wide settings: the earning rate, point value and validity."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


def config_token() -> str:
    return secrets.token_hex(16)


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
    earn_cap_percent = models.DecimalField(
        _("cap on the points of one purchase, percent of its amount"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[
            MinValueValidator(Decimal("0.01")),
            MaxValueValidator(Decimal("100")),
        ],
        help_text=_(
            "One purchase earns points worth at most this percentage of its "
            "amount, applied after every multiplier, bonus and promotion; "
            "empty = no cap."
        ),
    )
    points_expire_months = models.PositiveSmallIntegerField(
        _("points expire after (months)"),
        null=True,
        blank=True,
        help_text=_("Each earning expires this many months after it; empty = never."),
    )
    pending_days = models.PositiveSmallIntegerField(
        _("points pending for (days)"),
        default=0,
        help_text=_(
            "Points from a purchase can be spent only this many days after it, "
            "so that a quick return cannot be exploited; 0 = at once."
        ),
    )
    started_on = models.DateField(
        _("program started on"),
        null=True,
        blank=True,
        help_text=_(
            "A till may not send a purchase dated before this day; empty = no "
            "such limit. Imports are not checked."
        ),
    )
    backdate_days = models.PositiveSmallIntegerField(
        _("purchases may be dated back (days)"),
        default=30,
        help_text=_(
            "A till may send a purchase made at most this many days ago (a till "
            "that was offline catches up). Imports are not checked."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # A new random token whenever tiers, earning rules, stamp programs or
    # rewards change (rewards.earn_config): processes keep what every purchase
    # reads and reload it when the token they hold is not this one. Random, not
    # a counter, so a change that rolled back can never be mistaken for another.
    config_version = models.CharField(
        max_length=32, default=config_token, editable=False
    )

    class Meta:
        verbose_name = _("program settings")
        verbose_name_plural = _("program settings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(earn_cap_percent__isnull=True)
                | models.Q(earn_cap_percent__gt=0, earn_cap_percent__lte=100),
                name="program_earn_cap_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return str(_("Program settings"))
