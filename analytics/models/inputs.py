"""Figures the loyalty data cannot know and staff enter: all sales of a store
(members and not) and marketing spend."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import MemberSource


class StoreSales(models.Model):
    """A store's total sales of one day, members and non-members alike, as the
    tills' daily report gives it. Participation (the members' share of sales)
    divides the members' purchases by this; the loyalty data only holds
    members' receipts."""

    store = models.ForeignKey(
        "members.Store",
        verbose_name=_("store"),
        on_delete=models.PROTECT,
        related_name="+",
        # The index on (store, day) serves it (tests/house/test_indexes.py).
        db_index=False,
    )
    day = models.DateField(_("day"))
    total = models.DecimalField(
        _("total sales"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    receipts = models.PositiveIntegerField(_("receipts"), default=0)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("entered"), default=timezone.now)

    class Meta:
        verbose_name = _("store sales (all customers)")
        verbose_name_plural = _("store sales (all customers)")
        ordering = ["-day", "store"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "day"], name="storesales_store_day_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(total__gte=0), name="storesales_total_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.store_id} {self.day}: {self.total}"


class SpendKind(models.TextChoices):
    """What marketing money was for: winning new members (counted in the
    acquisition cost) or keeping the ones the program has (not counted)."""

    ACQUISITION = "acquisition", _("Acquisition (new members)")
    RETENTION = "retention", _("Retention (existing members)")


class MarketingSpend(models.Model):
    """Money spent on marketing in a month, for one store or the whole program
    (no store), optionally for one campaign. Acquisition spend over the new
    members is the acquisition cost; a store's share of the program-wide
    acquisition spend follows its share of the new members
    (analytics.selectors.acquisition.acquisition_spend)."""

    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    amount = models.DecimalField(
        _("amount"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    kind = models.CharField(
        _("kind"),
        max_length=12,
        choices=SpendKind.choices,
        default=SpendKind.ACQUISITION,
        help_text=_("Only acquisition spend counts in the acquisition cost."),
    )
    store = models.ForeignKey(
        "members.Store",
        verbose_name=_("store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_(
            "Empty for program-wide spend, which is shared among the stores "
            "by their share of the new members."
        ),
    )
    channel = models.CharField(
        _("channel"),
        max_length=12,
        choices=MemberSource.choices,
        default=MemberSource.OTHER,
        db_default=MemberSource.OTHER,
        help_text=_(
            "Where the members this money brings come from; the acquisition "
            "cost of a channel divides its spend by its new members."
        ),
    )
    campaign = models.CharField(_("campaign"), max_length=120, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("entered"), default=timezone.now)

    class Meta:
        verbose_name = _("marketing spend")
        verbose_name_plural = _("marketing spend")
        ordering = ["-month", "campaign"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="marketingspend_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(month__day=1), name="marketingspend_first_of_month"
            ),
        ]

    def __str__(self) -> str:
        label = f" ({self.campaign})" if self.campaign else ""
        return f"{self.month:%Y-%m}{label}: {self.amount}"
