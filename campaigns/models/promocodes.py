"""Which campaign a promo code belongs to and which segments may use it.

rewards keeps the promo codes and knows nothing of campaigns or segments
(the apps depend one way); this row, on the campaigns side, links a code to
its campaign and limits it to members of its segments. campaigns plugs the
segment check into rewards from its AppConfig.ready()
(rewards.services.promocodes.promo_eligibility_register)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PromoCodeTargeting(models.Model):
    """A promo code's campaign and the segments whose members may use it
    (none: every member, as far as segments go)."""

    promo_code = models.OneToOneField(
        "rewards.PromoCode",
        verbose_name=_("promo code"),
        on_delete=models.CASCADE,
        related_name="targeting",
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="promo_codes",
    )
    segments = models.ManyToManyField(
        "campaigns.Segment",
        verbose_name=_("only for members of"),
        blank=True,
        related_name="promo_codes",
    )

    class Meta:
        verbose_name = _("promo code targeting")
        verbose_name_plural = _("promo code targeting")

    def __str__(self) -> str:
        return str(self.promo_code)
