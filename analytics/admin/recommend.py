"""Back office for "Recommended for you": the purchase categories of each
reward, and the items with how often they were bought (read-only: the nightly
service rebuilds them)."""

from __future__ import annotations

from django.contrib import admin

from analytics.models import ItemStat, RewardCategory
from analytics.services.recommend import reward_category_delete, reward_category_save
from members.admin_base import ReadOnlyAdminMixin
from members.audit import StaffActor


@admin.register(RewardCategory)
class RewardCategoryAdmin(admin.ModelAdmin):
    """Which purchase categories a reward belongs to, for the reward suggestion."""

    list_display = ("reward", "category")
    list_filter = ("category",)
    list_select_related = ("reward",)
    search_fields = ("reward__name", "category")
    autocomplete_fields = ("reward",)

    def save_model(self, request, obj, form, change):
        reward_category_save(row=obj, actor=StaffActor.from_request(request))

    def delete_model(self, request, obj):
        reward_category_delete(row=obj, actor=StaffActor.from_request(request))

    def delete_queryset(self, request, queryset):
        actor = StaffActor.from_request(request)
        for row in queryset:
            reward_category_delete(row=row, actor=actor)


@admin.register(ItemStat)
class ItemStatAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Items and how often they were bought (rebuilt nightly with the pairs)."""

    list_display = (
        "sku",
        "name",
        "category",
        "baskets",
        "recent_baskets",
        "buyers",
        "computed_at",
    )
    list_filter = ("category",)
    list_select_related = ()
    search_fields = ("sku", "name")
