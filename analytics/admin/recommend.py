"""Back office for "Recommended for you": the purchase categories of each
reward, and the items with how often they were bought (read-only: the nightly
service rebuilds them)."""

from __future__ import annotations

from django.contrib import admin

from analytics.models import ItemStat, RewardCategory
from members.admin_base import ReadOnlyAdminMixin


@admin.register(RewardCategory)
class RewardCategoryAdmin(admin.ModelAdmin):
    """Which purchase categories a reward belongs to, for the reward suggestion."""

    list_display = ("reward", "category")
    list_filter = ("category",)
    list_select_related = ("reward",)
    search_fields = ("reward__name", "category")
    autocomplete_fields = ("reward",)


@admin.register(ItemStat)
class ItemStatAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Items and how often they were bought (rebuilt nightly with the pairs)."""

    list_display = ("sku", "name", "category", "baskets", "buyers", "computed_at")
    list_filter = ("category",)
    list_select_related = ()
    search_fields = ("sku", "name")
