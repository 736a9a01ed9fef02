"""The interests list members pick from: names in every language (tabs)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from members.admin_base import TranslatedAdmin, every_language
from members.models import Interest
from members.services import interest_save


@admin.register(Interest)
class InterestAdmin(TranslatedAdmin):
    list_display = ("name", "code", "active", "order", "purchase_categories", "picked")
    list_editable = ()
    list_filter = ("active",)
    search_fields = ("code", *every_language("name"))
    list_select_related = ()
    fields = ("code", "name", "active", "order", "purchase_categories")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(picked_count=Count("members"))

    @admin.display(description=_("members"), ordering="picked_count")
    def picked(self, obj: Interest) -> int:
        return obj.picked_count

    def has_delete_permission(self, request, obj=None):
        return False  # members picked it: make it inactive instead

    def save_model(self, request, obj, form, change):
        interest_save(interest=obj)
