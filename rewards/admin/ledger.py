"""Back office for the ledger: accounts, entries and the receipts that moved them,
all read-only (receipts come from the tills and the Counter; a manual
correction is the "Adjust points" page of a member)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from members.admin_base import ReadOnlyAdminMixin
from rewards.admin.base import ReadOnlyInline, SystemReasonAdminMixin, member_search
from rewards.models import (
    LedgerEntry,
    PointsAccount,
    Purchase,
    PurchaseLine,
    PurchaseReturn,
    Redemption,
)


class BalanceFilter(admin.SimpleListFilter):
    title = _("balance")
    parameter_name = "balance"

    def lookups(self, request, model_admin):
        return (
            ("owed", _("Below zero (owed)")),
            ("zero", _("Zero")),
            ("positive", _("Above zero")),
        )

    def queryset(self, request, queryset):
        match self.value():
            case "owed":
                return queryset.filter(balance__lt=0)
            case "zero":
                return queryset.filter(balance=0)
            case "positive":
                return queryset.filter(balance__gt=0)
        return queryset


@admin.register(PointsAccount)
class PointsAccountAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("member", "balance", "tier", "tier_since", "updated_at")
    list_filter = (BalanceFilter, "tier", "updated_at")
    list_select_related = ("member", "tier")
    search_fields = member_search("")
    fields = ("member", "balance", "tier", "tier_since", "tier_lapsed_on", "updated_at")


@admin.register(LedgerEntry)
class LedgerEntryAdmin(SystemReasonAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The append-only ledger. Corrections are new entries (Adjust points on a member)."""

    list_display = (
        "created_at",
        "member_display",
        "kind",
        "points",
        "balance_after",
        "reason_display",
        "created_by",
    )
    list_filter = ("kind", "created_at")
    list_select_related = ("account__member", "created_by")
    search_fields = (
        *member_search("account__"),
        "reason",
        "reason_code",
        "purchase__receipt_id",
        "redemption__receipt_id",
        "purchase_return__receipt_id",
    )
    date_hierarchy = "created_at"
    fields = (
        "account",
        "kind",
        "points",
        "balance_after",
        "reason_display",
        "reason_code",
        "reason",
        "purchase",
        "purchase_return",
        "redemption",
        "created_by",
        "created_at",
    )

    @admin.display(description=_("member"), ordering="account__member__card_number")
    def member_display(self, obj: LedgerEntry):
        return obj.account.member


class PurchaseLineInline(ReadOnlyInline):
    model = PurchaseLine
    fields = (
        "sku",
        "name",
        "category",
        "quantity",
        "unit_price",
        "amount",
        "quantity_returned",
    )


class PurchaseReturnInline(ReadOnlyInline):
    model = PurchaseReturn
    fields = (
        "receipt_id",
        "store",
        "amount",
        "points_reversed",
        "balance_after",
        "created_at",
    )
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("store")


@admin.register(Purchase)
class PurchaseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "receipt_id",
        "store",
        "member",
        "total",
        "points_earned",
        "returned_total",
        "points_reversed",
        "source",
        "occurred_at",
    )
    list_filter = ("source", "store", "occurred_at")
    list_select_related = ("store", "member")
    search_fields = ("receipt_id", *member_search(""))
    date_hierarchy = "occurred_at"
    fields = (
        "store",
        "receipt_id",
        "member",
        "total",
        "occurred_at",
        "points_earned",
        "points_per_unit",
        "min_purchase",
        "balance_after",
        "returned_total",
        "points_reversed",
        "source",
        "created_by",
        "created_at",
    )
    inlines = (PurchaseLineInline, PurchaseReturnInline)


@admin.register(PurchaseReturn)
class PurchaseReturnAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "receipt_id",
        "store",
        "purchase",
        "member_display",
        "amount",
        "points_reversed",
        "balance_after",
        "created_at",
    )
    list_filter = ("store", "created_at")
    list_select_related = ("store", "purchase__store", "purchase__member")
    search_fields = (
        "receipt_id",
        "purchase__receipt_id",
        *member_search("purchase__"),
    )
    fields = (
        "purchase",
        "store",
        "receipt_id",
        "amount",
        "points_reversed",
        "balance_after",
        "lines",
        "created_by",
        "created_at",
    )

    @admin.display(description=_("member"), ordering="purchase__member__card_number")
    def member_display(self, obj: PurchaseReturn):
        return obj.purchase.member


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "receipt_id",
        "store",
        "member",
        "points",
        "discount",
        "balance_after",
        "created_at",
    )
    list_filter = ("store", "created_at")
    list_select_related = ("store", "member")
    search_fields = ("receipt_id", *member_search(""))
    fields = (
        "member",
        "store",
        "receipt_id",
        "points",
        "discount",
        "balance_after",
        "created_by",
        "created_at",
    )
