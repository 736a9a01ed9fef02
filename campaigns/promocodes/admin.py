"""Back office: a promo code's campaign and the segments that may use it."""

from __future__ import annotations

from django.contrib import admin

from campaigns.models import PromoCodeTargeting
from campaigns.promocodes.services import promo_code_targeting_save
from members.admin_base import every_language
from members.audit import StaffActor


@admin.register(PromoCodeTargeting)
class PromoCodeTargetingAdmin(admin.ModelAdmin):
    list_display = ("promo_code", "campaign")
    list_filter = ("campaign", "segments")
    search_fields = (
        *every_language("promo_code__name"),
        "promo_code__keys__code",
        "campaign__name",
    )
    list_select_related = ("promo_code", "campaign")
    autocomplete_fields = ("promo_code", "campaign", "segments")

    def has_delete_permission(self, request, obj=None):
        return False  # empty its campaign and segments instead

    def save_model(self, request, obj, form, change):
        promo_code_targeting_save(targeting=obj, actor=StaffActor.from_request(request))
