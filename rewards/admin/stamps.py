"""Back office for stamp programs and the members' cards."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from members.admin_base import ReadOnlyAdminMixin, TranslatedAdmin, every_language
from rewards.admin.base import ReadOnlyInline, member_search
from rewards.models import StampCard, StampEntry, StampProgram
from rewards.services.stamps import stamp_program_save


@admin.register(StampProgram)
class StampProgramAdmin(TranslatedAdmin):
    """Stamp card offers. Once a program has cards, what earns a stamp is fixed
    (returns are judged by the rule that stamped); end it and start another."""

    RULE_FIELDS = ("trigger", "category", "sku", "min_spend")

    list_display = (
        "name",
        "trigger",
        "category",
        "sku",
        "min_spend",
        "stamps_needed",
        "reward",
        "card_valid_days",
        "active",
        "starts_on",
        "ends_on",
    )
    list_filter = ("active", "trigger", "reward", "stores")
    list_select_related = ("reward",)
    search_fields = (*every_language("name", "description"), "category", "sku")
    filter_horizontal = ("stores",)
    fieldsets = (
        (None, {"fields": ("name", "description", "active")}),
        (
            _("What earns a stamp"),
            {"fields": ("trigger", "category", "sku", "min_spend", "stores")},
        ),
        (
            _("The card"),
            {
                "fields": (
                    "stamps_needed",
                    "reward",
                    "card_valid_days",
                    "starts_on",
                    "ends_on",
                )
            },
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.cards.exists():
            return self.RULE_FIELDS
        return ()

    def has_delete_permission(self, request, obj=None):
        return False  # cards point at it; deactivate it instead

    def save_model(self, request, obj, form, change):
        stamp_program_save(program=obj)


class StampEntryInline(ReadOnlyInline):
    model = StampEntry
    fields = (
        "created_at",
        "kind",
        "delta",
        "owed_delta",
        "reason_display",
        "purchase",
        "purchase_return",
    )
    readonly_fields = ("reason_display",)
    ordering = ("created_at", "id")

    @admin.display(description=_("reason"))
    def reason_display(self, obj) -> str:
        """In the staff member's language (rewards.reasons)."""
        return obj.reason_text()

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("purchase__store", "purchase_return__store")
        )


@admin.register(StampCard)
class StampCardAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Cards change only through purchases, returns and the nightly expiry; each
    change is an entry below the card."""

    list_display = (
        "member",
        "program",
        "number",
        "stamps",
        "needed",
        "owed",
        "status",
        "opened_at",
        "expires_at",
        "completed_at",
        "voucher",
    )
    list_filter = ("status", "program", "opened_at")
    list_select_related = ("member", "program", "voucher")
    search_fields = ("program__name", "voucher__code", *member_search(""))
    date_hierarchy = "opened_at"
    fields = (
        "member",
        "program",
        "number",
        "stamps",
        "needed",
        "owed",
        "status",
        "opened_at",
        "expires_at",
        "completed_at",
        "closed_at",
        "voucher",
    )
    inlines = (StampEntryInline,)
