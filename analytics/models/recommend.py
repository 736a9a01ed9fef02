"""What is bought together, item popularity, and which purchase categories a
reward belongs to: the inputs of the recommendations."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ItemStat(models.Model):
    """One item (a till SKU) and in how many baskets it was in the window, and
    in the last few weeks (`recent_baskets`).

    Rebuilt nightly with `CoPurchase` by
    `analytics.services.recommend.copurchase_refresh`.
    """

    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    category = models.CharField(_("category"), max_length=100, blank=True)
    baskets = models.PositiveIntegerField(_("baskets"))
    buyers = models.PositiveIntegerField(_("buyers"))
    # Baskets in the last POPULAR_DAYS (analytics.selectors.recommend_popular):
    # what is popular now; 0 for an item no longer sold (not offered as a fill).
    recent_baskets = models.PositiveIntegerField(
        _("baskets lately"), default=0, db_default=0
    )
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("item statistic")
        verbose_name_plural = _("item statistics")
        ordering = ["-baskets", "sku"]
        indexes = [models.Index(fields=["category", "-baskets"])]

    def __str__(self) -> str:
        return self.name or self.sku


class CoPurchase(models.Model):
    """How many baskets held both `item_a` and `item_b` (stored both ways round,
    so "what goes with A" is one index range)."""

    item_a = models.CharField(_("item"), max_length=64)
    item_b = models.CharField(_("bought with"), max_length=64)
    baskets = models.PositiveIntegerField(_("baskets with both"))

    class Meta:
        verbose_name = _("co-purchase count")
        verbose_name_plural = _("co-purchase counts")
        constraints = [
            models.UniqueConstraint(
                fields=["item_a", "item_b"], name="copurchase_pair_unique"
            )
        ]
        indexes = [models.Index(fields=["item_a", "-baskets"])]

    def __str__(self) -> str:
        return f"{self.item_a} + {self.item_b}: {self.baskets}"


class RewardCategory(models.Model):
    """A purchase category a reward belongs to ("Free coffee" → coffee).

    Rewards have no category of their own; staff map them here so that a
    member who buys coffee is offered the free coffee. Unmapped rewards
    (discounts, gifts) suit every member.
    """

    reward = models.ForeignKey(
        "rewards.Reward",
        verbose_name=_("reward"),
        on_delete=models.CASCADE,
        related_name="categories",
        # The index on (reward, category) serves it (tests/house/test_indexes.py).
        db_index=False,
    )
    category = models.CharField(
        _("purchase category"),
        max_length=100,
        help_text=_("As the tills send it on receipt lines, e.g. “coffee”."),
    )

    class Meta:
        verbose_name = _("reward category")
        verbose_name_plural = _("reward categories")
        ordering = ["reward", "category"]
        constraints = [
            models.UniqueConstraint(
                fields=["reward", "category"], name="reward_category_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.reward} → {self.category}"
