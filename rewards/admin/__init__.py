"""Back office for points: settings, accounts, the ledger and what moved it.

Everything here except the program settings is read-only: receipts come from
the tills and the Counter, and the ledger changes only through the services
(a manual correction is the "Adjust points" page of a member).
"""

from __future__ import annotations

import datetime as dt

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.admin_base import ReadOnlyAdminMixin, SingletonAdminMixin
from rewards.earning import STAGES
from rewards.forms import EarningRuleForm, RuleSimulateForm
from rewards.models import (
    EarningRule,
    LedgerEntry,
    PointsAccount,
    ProgramSettings,
    Purchase,
    PurchaseLine,
    PurchaseReturn,
    Redemption,
    Reward,
    StampCard,
    StampEntry,
    StampProgram,
    Tier,
    TierHistory,
    Voucher,
    VoucherStatus,
)
from rewards.selectors import program_settings_get

MEMBER_SEARCH = ("card_number", "phone", "email", "last_name")


def _member_search(prefix: str) -> tuple[str, ...]:
    return tuple(f"{prefix}member__{name}" for name in MEMBER_SEARCH)


@admin.register(ProgramSettings)
class ProgramSettingsAdmin(SingletonAdminMixin, admin.ModelAdmin):
    """One row: the changelist opens it, it cannot be added twice or deleted."""

    singleton_get = staticmethod(program_settings_get)

    list_display = (
        "__str__",
        "currency",
        "points_per_unit",
        "min_purchase",
        "point_value",
    )
    list_filter = ("currency",)
    search_fields = ("currency",)
    fields = (
        "currency",
        "points_per_unit",
        "min_purchase",
        "point_value",
        "points_expire_months",
        "pending_days",
        "started_on",
        "backdate_days",
        "updated_at",
    )
    readonly_fields = ("updated_at",)


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
    search_fields = _member_search("")
    fields = ("member", "balance", "tier", "tier_since", "tier_lapsed_on", "updated_at")


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The append-only ledger. Corrections are new entries (Adjust points on a member)."""

    list_display = (
        "created_at",
        "member_display",
        "kind",
        "points",
        "balance_after",
        "reason",
        "created_by",
    )
    list_filter = ("kind", "created_at")
    list_select_related = ("account__member", "created_by")
    search_fields = (
        *_member_search("account__"),
        "reason",
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


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PurchaseLineInline(_ReadOnlyInline):
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


class PurchaseReturnInline(_ReadOnlyInline):
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
    search_fields = ("receipt_id", *_member_search(""))
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
        *_member_search("purchase__"),
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
    search_fields = ("receipt_id", *_member_search(""))
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


# --- rewards catalog and vouchers -------------------------------------------------------


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
class RewardAdmin(admin.ModelAdmin):
    """The catalog. Saving goes through reward_save, which applies a stock edit as a
    change under the reward's lock, so redemptions made meanwhile are kept."""

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
    search_fields = ("name", "description")
    list_select_related = ()
    fieldsets = (
        (None, {"fields": ("name", "description", "type", "value", "image_url")}),
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

    def has_delete_permission(self, request, obj=None):
        return False  # vouchers and ledger entries point at it; deactivate instead

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        # The stock the editor saw comes back with the form ("initial-stock").
        form.base_fields["stock"].show_hidden_initial = True
        return form

    def save_model(self, request, obj, form, change):
        from rewards.services import reward_save

        seen = None
        if change:
            raw = form.data.get(form.add_initial_prefix("stock"), "")
            seen = int(raw) if raw.isdigit() else form.initial.get("stock")
        reward_save(reward=obj, stock_seen=seen)


@admin.register(Voucher)
class VoucherAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Vouchers are issued, used, cancelled and expired only through the services."""

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
    search_fields = ("code", "used_receipt_id", "reward__name", *_member_search(""))
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

    def has_cancel_permission(self, request) -> bool:
        return request.user.has_perm("rewards.change_voucher")

    @admin.action(
        description=_(
            "Cancel the selected vouchers (points back where the reward says)"
        ),
        permissions=["cancel"],
    )
    def cancel_vouchers(self, request, queryset):
        from members.errors import ServiceError
        from rewards.services import voucher_cancel

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


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
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
    search_fields = ("name", "benefits")
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
        from rewards.services import tier_save

        tier_save(tier=obj)


@admin.register(TierHistory)
class TierHistoryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "member", "kind", "from_tier", "to_tier", "value")
    list_filter = ("kind", "to_tier", "created_at")
    list_select_related = ("member", "from_tier", "to_tier")
    search_fields = ("reason", *_member_search(""))
    date_hierarchy = "created_at"
    fields = ("created_at", "member", "kind", "from_tier", "to_tier", "value", "reason")


@admin.register(EarningRule)
class EarningRuleAdmin(admin.ModelAdmin):
    """Earning rules and promotions. The list shows the fixed order they apply
    in; drafts are tried in the simulator before they are put into force."""

    form = EarningRuleForm
    change_list_template = "admin/rewards/earningrule/change_list.html"
    list_display = (
        "name",
        "kind",
        "status",
        "category",
        "sku",
        "multiplier",
        "points_per_unit",
        "weekdays",
        "time_from",
        "time_to",
        "starts_at",
        "ends_at",
    )
    list_filter = ("status", "kind", "stores")
    search_fields = ("name", "category", "sku")
    list_select_related = ("replaces",)
    autocomplete_fields = ("replaces",)
    filter_horizontal = ("stores",)
    actions = ("activate", "pause")
    fieldsets = (
        (None, {"fields": ("name", "kind", "status", "replaces")}),
        (_("Which lines"), {"fields": ("category", "sku")}),
        (_("What it gives"), {"fields": ("multiplier", "points_per_unit")}),
        (
            _("When and where"),
            {
                "fields": (
                    "starts_at",
                    "ends_at",
                    "weekdays",
                    "time_from",
                    "time_to",
                    "stores",
                )
            },
        ),
    )

    def has_delete_permission(self, request, obj=None):
        return False  # earn breakdowns name it; pause it instead

    def save_model(self, request, obj, form, change):
        pass  # saved with its stores in save_related, through the service

    def save_related(self, request, form, formsets, change):
        from rewards.services import earning_rule_save

        earning_rule_save(rule=form.instance, stores=form.cleaned_data["stores"])

    @admin.action(description=_("Put into force"), permissions=["change"])
    def activate(self, request, queryset):
        from rewards.services import earning_rule_activate

        for rule in queryset:
            earning_rule_activate(rule=rule)
        self.message_user(request, _("Rules put into force."), messages.SUCCESS)

    @admin.action(description=_("Pause"), permissions=["change"])
    def pause(self, request, queryset):
        from rewards.services import earning_rule_pause

        for rule in queryset:
            earning_rule_pause(rule=rule)
        self.message_user(request, _("Rules paused."), messages.SUCCESS)

    def get_urls(self):
        return [
            path(
                "simulate/",
                self.admin_site.admin_view(self.simulate_view),
                name="rewards_earningrule_simulate",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {"stages": STAGES, **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    def simulate_view(self, request):
        """Recompute past receipts with and without a rule; writes nothing."""
        from rewards.simulator import rule_simulate

        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        initial = {"start": today - dt.timedelta(days=90), "end": today}
        if request.GET.get("rule"):
            initial["rule"] = request.GET["rule"]
        form = RuleSimulateForm(
            request.GET if "start" in request.GET else None, initial=initial
        )
        result = None
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            tz = timezone.get_current_timezone()
            result = rule_simulate(
                rule=data["rule"],
                start=dt.datetime.combine(data["start"], dt.time.min, tz),
                end=dt.datetime.combine(
                    data["end"] + dt.timedelta(days=1), dt.time.min, tz
                ),
                store_id=data["store"].pk if data["store"] else None,
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Rule simulator"),
            "form": form,
            "result": result,
            "stages": STAGES,
            "changelist_url": reverse("admin:rewards_earningrule_changelist"),
        }
        return TemplateResponse(
            request, "admin/rewards/earningrule/simulate.html", context
        )


# --- stamp cards ------------------------------------------------------------------------


@admin.register(StampProgram)
class StampProgramAdmin(admin.ModelAdmin):
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
    search_fields = ("name", "description", "category", "sku")
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
        from rewards.services import stamp_program_save

        stamp_program_save(program=obj)


class StampEntryInline(_ReadOnlyInline):
    model = StampEntry
    fields = (
        "created_at",
        "kind",
        "delta",
        "owed_delta",
        "reason",
        "purchase",
        "purchase_return",
    )
    ordering = ("created_at", "id")

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
    search_fields = ("program__name", "voucher__code", *_member_search(""))
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


from rewards import admin_memberships, admin_partners  # noqa: E402, F401
from rewards.admin import controls, members, referrals  # noqa: E402, F401
