"""Back office for tiers and the history of members' moves between them."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from members.admin_base import ReadOnlyAdminMixin, TranslatedAdmin, every_language
from rewards.admin.base import SystemReasonAdminMixin, member_search
from rewards.models import Tier, TierHistory
from rewards.services.tiers import tier_save


@admin.register(Tier)
class TierAdmin(TranslatedAdmin):
    """Tiers are program settings: staff edit them here; members move between them
    only through the services (a purchase upgrades, the nightly job downgrades)."""

    list_display = (
        "rank",
        "name",
        "qualification",
        "threshold",
        "window",
        "window_months",
        "earn_multiplier",
        "grace_days",
        "is_active",
    )
    list_display_links = ("rank", "name")
    list_filter = ("is_active", "qualification", "window")
    search_fields = every_language("name", "benefits")
    list_select_related = ()
    ordering = ("rank",)
    fieldsets = (
        (None, {"fields": ("name", "rank", "is_active", "benefits")}),
        (
            _("Qualification"),
            {"fields": ("qualification", "threshold", "window", "window_months")},
        ),
        (_("Earning and downgrade"), {"fields": ("earn_multiplier", "grace_days")}),
    )

    def has_delete_permission(self, request, obj=None):
        return False  # accounts and the history point at it; deactivate instead

    def save_model(self, request, obj, form, change):
        tier_save(tier=obj)


@admin.register(TierHistory)
class TierHistoryAdmin(SystemReasonAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "member",
        "kind",
        "from_tier",
        "to_tier",
        "value",
        "reason_display",
    )
    list_filter = ("kind", "to_tier", "created_at")
    list_select_related = ("member", "from_tier", "to_tier")
    search_fields = ("reason", "reason_code", *member_search(""))
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "member",
        "kind",
        "from_tier",
        "to_tier",
        "value",
        "reason_display",
        "reason_code",
        "reason",
    )
