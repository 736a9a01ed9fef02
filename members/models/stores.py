"""Places: the chain's stores and the coalition's partners."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Partner(models.Model):
    """A partner business of the coalition: its stores earn and redeem our points.

    Each month the program settles with it: the partner pays for the points its
    stores issued and is paid for the points redeemed through it, each at
    `point_value` (rewards.selectors.partners.partner_settlements).
    """

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(
        _("description for customers"),
        blank=True,
        help_text=_("Shown on the portal's Partners page, in every language."),
    )
    contact_email = models.EmailField(_("contact email"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    point_value = models.DecimalField(
        _("settlement value of one point"),
        max_digits=8,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.0001"))],
        help_text=_("Money per point in the settlement; empty: the program's value."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Store(models.Model):
    """A shop of the chain, or of a partner; purchases, tokens and staff belong to one."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120)
    address = models.CharField(_("address"), max_length=255, blank=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/Kyiv")
    is_active = models.BooleanField(_("active"), default=True)
    partner = models.ForeignKey(
        Partner,
        verbose_name=_("partner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="stores",
        help_text=_("Empty for our own stores."),
    )

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"
