"""Item categories as customers read them: the code the till sends ("bakery")
and a name staff write in every language ("Випічка", "Pastry")."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    """The customer-facing name of an item category. `code` is the category as
    the till sends it on purchase lines (case ignored), the same code earning
    rules and stamp programs match; `name` is translated (rewards/translation.py).
    A code without a row is shown as it is. Configuration, edited in admin."""

    code = models.CharField(
        _("code"),
        max_length=100,
        help_text=_("The category as the till sends it, e.g. “bakery”."),
    )
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        verbose_name = _("item category")
        verbose_name_plural = _("item categories")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                Lower("code"),
                name="category_code_unique_ci",
                violation_error_message=_("A category with this code exists."),
            )
        ]

    def __str__(self) -> str:
        return self.name or self.code
