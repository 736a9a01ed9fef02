"""Interests: the list staff keep (names in every language) that members pick
from on their profile. Segments select by them; the recommendations read each
interest's purchase categories for members with little history."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class InterestQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)


class Interest(models.Model):
    code = models.SlugField(
        _("code"),
        max_length=40,
        unique=True,
        help_text=_("Stays the same when the name changes; segments store it."),
    )
    name = models.CharField(_("name"), max_length=80)
    active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Only active interests are offered on the profile page."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    purchase_categories = models.CharField(
        _("purchase categories"),
        max_length=300,
        blank=True,
        help_text=_(
            "Comma-separated, as the tills send them on receipt lines (e.g. "
            "“coffee, beans”): what a member with this interest is likely to buy."
        ),
    )

    objects = InterestQuerySet.as_manager()

    class Meta:
        verbose_name = _("interest")
        verbose_name_plural = _("interests")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name or self.code

    def categories(self) -> list[str]:
        return [c.strip() for c in self.purchase_categories.split(",") if c.strip()]
