"""The admin of the figures staff enter for analytics: store sales per day and
marketing spend per month. Both save through analytics.services.inputs."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.urls import reverse

from analytics.admin.store_sales_import import (
    store_sales_import_allowed,
    store_sales_import_urls,
)
from analytics.models import MarketingSpend, StoreSales
from analytics.services.inputs import (
    marketing_spend_delete,
    marketing_spend_save,
    store_sales_delete,
    store_sales_save,
)
from members.audit import StaffActor


@admin.register(StoreSales)
class StoreSalesAdmin(admin.ModelAdmin):
    """All sales of a store per day, from the tills' daily report (Managers)."""

    list_display = ("day", "store", "total", "receipts", "entered_by")
    list_filter = ("store", "day")
    search_fields = ("store__name", "store__code")
    list_select_related = ("store", "entered_by")
    date_hierarchy = "day"
    fields = ("store", "day", "total", "receipts")

    def get_urls(self):
        # Before the stock URLs: "<path:object_id>/" would swallow these.
        return [*store_sales_import_urls(self), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        context = dict(extra_context or {})
        if store_sales_import_allowed(request.user):
            context["import_url"] = reverse("admin:analytics_storesales_import")
        return super().changelist_view(request, context)

    def save_model(self, request, obj, form, change):
        store_sales_save(row=obj, entered_by=request.user)

    def delete_model(self, request, obj):
        store_sales_delete(row=obj, actor=StaffActor.from_request(request))

    def delete_queryset(self, request, queryset):
        actor = StaffActor.from_request(request)
        for row in queryset:
            store_sales_delete(row=row, actor=actor)


class MarketingSpendForm(forms.ModelForm):
    class Meta:
        model = MarketingSpend
        fields = ("month", "amount", "kind", "channel", "store", "campaign", "note")

    def clean_month(self):
        # Any day stands for its month (the row is per month).
        return self.cleaned_data["month"].replace(day=1)


@admin.register(MarketingSpend)
class MarketingSpendAdmin(admin.ModelAdmin):
    """Marketing spend per month, for a store or the whole program, optionally
    per campaign; acquisition spend makes the acquisition cost."""

    form = MarketingSpendForm

    list_display = (
        "month",
        "kind",
        "channel",
        "store",
        "campaign",
        "amount",
        "note",
        "entered_by",
    )
    list_filter = ("kind", "channel", "store", "month")
    search_fields = ("campaign", "note", "store__name")
    list_select_related = ("store", "entered_by")
    fields = ("month", "amount", "kind", "channel", "store", "campaign", "note")

    def save_model(self, request, obj, form, change):
        marketing_spend_save(row=obj, entered_by=request.user)

    def delete_model(self, request, obj):
        marketing_spend_delete(row=obj, actor=StaffActor.from_request(request))

    def delete_queryset(self, request, queryset):
        actor = StaffActor.from_request(request)
        for row in queryset:
            marketing_spend_delete(row=row, actor=actor)
