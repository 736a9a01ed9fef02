"""Back office for the rewards catalog and the vouchers bought with points."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Q
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from members.admin_base import (
    PartnerScopedAdminMixin,
    ReadOnlyAdminMixin,
    TranslatedAdmin,
    every_language,
)
from members.errors import ServiceError
from rewards.admin.base import member_search
from rewards.models import Category, Reward, Voucher, VoucherStatus
from rewards.services.vouchers import category_save, reward_save, voucher_cancel


class StockFilter(admin.SimpleListFilter):
    title = _("stock")
    parameter_name = "stock"

    def lookups(self, request, model_admin):
        return (
            ("unlimited", _("Unlimited")),
            ("out", _("Out of stock")),
            ("low", _("10 or fewer left")),
        )

    def queryset(self, request, queryset):
        match self.value():
            case "unlimited":
                return queryset.filter(stock__isnull=True)
            case "out":
                return queryset.filter(stock=0)
            case "low":
                return queryset.filter(stock__gt=0, stock__lte=10)
        return queryset


@admin.register(Reward)
class RewardAdmin(PartnerScopedAdminMixin, TranslatedAdmin):
    """The catalog. Saving goes through reward_save, which applies a stock edit as a
    change under the reward's lock, so redemptions made meanwhile are kept.
    A partner's staff see the rewards their partner funds, read only."""

    partner_list_filter = ("is_active", "type")
    partner_search_fields = every_language("name")

    list_display = (
        "name",
        "type",
        "value",
        "points_cost",
        "stock",
        "limit_count",
        "limit_days",
        "active_from",
        "active_until",
        "is_active",
    )
    list_filter = (
        "is_active",
        "type",
        StockFilter,
        "refund_points_on_expiry",
        "tiers",
        "funded_by",
    )
    search_fields = every_language("name", "description")
    list_select_related = ()
    fieldsets = (
        (None, {"fields": ("name", "description", "type", "value")}),
        (_("Picture"), {"fields": ("image", "picture_preview", "image_url")}),
        (
            _("Price and stock"),
            {"fields": ("points_cost", "stock", "limit_count", "limit_days")},
        ),
        (
            _("Availability"),
            {
                "fields": (
                    "is_active",
                    "tiers",
                    "active_from",
                    "active_until",
                    "voucher_valid_days",
                    "refund_points_on_cancel",
                    "refund_points_on_expiry",
                    "funded_by",
                )
            },
        ),
    )

    readonly_fields = ("picture_preview",)

    def has_delete_permission(self, request, obj=None):
        return False  # vouchers and ledger entries point at it; deactivate instead

    @admin.display(description=_("thumbnail"))
    def picture_preview(self, obj):
        if not obj or not obj.image_thumbnail:
            return "—"
        return format_html(
            '<img src="{}" alt="" width="180" height="120">', obj.image_thumbnail.url
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        # The stock the editor saw comes back with the form ("initial-stock").
        form.base_fields["stock"].show_hidden_initial = True
        return form

    def save_model(self, request, obj, form, change):
        seen = None
        if change:
            raw = form.data.get(form.add_initial_prefix("stock"), "")
            seen = int(raw) if raw.isdigit() else form.initial.get("stock")
        reward_save(reward=obj, stock_seen=seen)

    def partner_queryset(self, queryset, partner_id: int):
        return queryset.filter(funded_by_id=partner_id)


@admin.register(Category)
class CategoryAdmin(TranslatedAdmin):
    """The names customers read for the item categories the tills send."""

    list_display = ("code", "name")
    search_fields = ("code", *every_language("name"))
    list_filter = ()
    fields = ("code", "name")

    def has_delete_permission(self, request, obj=None):
        return False  # rename it instead: a code without a row shows as the code

    def save_model(self, request, obj, form, change):
        category_save(category=obj)


@admin.register(Voucher)
class VoucherAdmin(PartnerScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Vouchers are issued, used, cancelled and expired only through the services.

    A partner's staff see the vouchers used at its stores or of the rewards it
    funds (those its settlement counts), without the member or the program's
    staff who handled them."""

    partner_list_display = (
        "code",
        "reward",
        "status",
        "points_spent",
        "points_refunded",
        "used_at",
        "used_store",
    )
    partner_fields = (
        "code",
        "reward",
        "status",
        "points_spent",
        "points_refunded",
        "issued_at",
        "used_at",
        "used_store",
        "used_receipt_id",
    )
    partner_list_filter = (("used_store", admin.RelatedOnlyFieldListFilter),)
    partner_search_fields = ("code", "used_receipt_id")

    list_display = (
        "code",
        "reward",
        "member",
        "status",
        "points_spent",
        "points_refunded",
        "issued_at",
        "expires_at",
        "used_at",
        "used_store",
    )
    list_filter = ("status", "reward", "used_store", "issued_at")
    list_select_related = ("reward", "member", "used_store")
    search_fields = ("code", "used_receipt_id", "reward__name", *member_search(""))
    date_hierarchy = "issued_at"
    actions = ("cancel_vouchers",)
    fields = (
        "code",
        "reward",
        "member",
        "status",
        "points_spent",
        "points_refunded",
        "issued_at",
        "expires_at",
        "used_at",
        "used_store",
        "used_receipt_id",
        "used_by",
        "cancelled_at",
        "cancelled_by",
        "expired_at",
    )

    def partner_queryset(self, queryset, partner_id: int):
        return queryset.filter(status=VoucherStatus.USED).filter(
            Q(used_store__partner_id=partner_id) | Q(reward__funded_by_id=partner_id)
        )

    def has_cancel_permission(self, request) -> bool:
        return request.user.has_perm("rewards.change_voucher")

    @admin.action(
        description=_(
            "Cancel the selected vouchers (points back where the reward says)"
        ),
        permissions=["cancel"],
    )
    def cancel_vouchers(self, request, queryset):
        done, refused = 0, []
        skipped = queryset.exclude(status=VoucherStatus.ISSUED).count()
        for voucher in queryset.filter(status=VoucherStatus.ISSUED).order_by("pk"):
            try:
                voucher_cancel(voucher=voucher, by=request.user)
            except ServiceError as exc:
                refused.append(exc.message)
            else:
                done += 1
        self.message_user(
            request,
            _(
                "Cancelled %(done)s voucher(s); %(skipped)s were not unused and were left as they are."
            )
            % {"done": done, "skipped": skipped},
            messages.SUCCESS if done else messages.WARNING,
        )
        for message in refused:
            self.message_user(request, message, messages.ERROR)
