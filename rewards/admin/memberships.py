"""Back office for paid membership: plans (Managers edit), subscriptions
(read-only, sold through a form and cancelled by an action that call the
services) and their history."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from members.admin_base import ReadOnlyAdminMixin, TranslatedAdmin, every_language
from members.errors import ServiceError
from members.models import Member, Store
from members.selectors import member_get_by_card, member_get_by_phone
from rewards.admin.base import member_search
from rewards.forms import receipt_id_new, service_error_to_form
from rewards.models import (
    MembershipPlan,
    Subscription,
    SubscriptionEvent,
    SubscriptionStatus,
)
from rewards.reasons import system_reason
from rewards.reasons_stamps import SUBSCRIPTION_CANCELLED_IN_ADMIN
from rewards.services.memberships import (
    membership_plan_save,
    subscription_cancel,
    subscription_sell,
)

SELL_PERMISSION = "rewards.add_subscription"


@admin.register(MembershipPlan)
class MembershipPlanAdmin(TranslatedAdmin):
    """Plans are program settings: saved through membership_plan_save."""

    list_display = (
        "name",
        "price",
        "period_months",
        "earn_multiplier",
        "monthly_reward",
        "guaranteed_tier",
        "is_active",
    )
    list_filter = ("is_active", "period_months", "guaranteed_tier")
    search_fields = every_language("name", "description")
    list_select_related = ("monthly_reward", "guaranteed_tier")
    autocomplete_fields = ("monthly_reward",)
    fieldsets = (
        (None, {"fields": ("name", "description", "is_active")}),
        (_("Price"), {"fields": ("price", "period_months", "refund_ends")}),
        (
            _("Perks"),
            {"fields": ("earn_multiplier", "monthly_reward", "guaranteed_tier")},
        ),
    )

    def has_delete_permission(self, request, obj=None):
        return False  # subscriptions point at it; take it off sale instead

    def save_model(self, request, obj, form, change):
        membership_plan_save(plan=obj)


class SubscriptionSellForm(forms.Form):
    """Record a membership paid at a till (start or renew)."""

    card_number = forms.CharField(label=_("Card number or phone"), max_length=40)
    plan = forms.ModelChoiceField(
        label=_("Plan"), queryset=MembershipPlan.objects.filter(is_active=True)
    )
    store = forms.ModelChoiceField(
        label=_("Store"), queryset=Store.objects.filter(is_active=True, partner=None)
    )
    receipt_id = forms.CharField(
        label=_("Receipt id"),
        max_length=64,
        help_text=_("The receipt the membership was paid on."),
    )

    def clean_card_number(self) -> Member:
        raw = self.cleaned_data["card_number"].strip()
        digits = raw.replace(" ", "").replace("-", "")
        member = member_get_by_card(card_number=digits) if digits.isdigit() else None
        if member is None:
            try:
                member = member_get_by_phone(phone=raw)
            except ServiceError:
                member = None
        if member is None:
            raise forms.ValidationError(_("No member has this card number or phone."))
        return member


class SubscriptionEventInline(admin.TabularInline):
    model = SubscriptionEvent
    extra = 0
    can_delete = False
    fields = (
        "created_at",
        "kind",
        "store",
        "receipt_id",
        "price_paid",
        "period_end",
        "voucher",
        "created_by",
    )
    readonly_fields = fields
    ordering = ("-created_at", "-id")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Written only by the services: "Sell a membership" (subscription_sell) and the
    cancel action (subscription_cancel)."""

    list_display = (
        "member",
        "plan",
        "status",
        "started_at",
        "current_period_end",
        "store",
        "auto_renew",
        "ended_at",
    )
    list_filter = ("status", "plan", "store", "auto_renew", "current_period_end")
    list_select_related = ("member", "plan", "store")
    search_fields = member_search("")
    date_hierarchy = "started_at"
    actions = ("cancel_subscriptions",)
    inlines = (SubscriptionEventInline,)
    fields = (
        "member",
        "plan",
        "status",
        "started_at",
        "current_period_end",
        "auto_renew",
        "store",
        "sold_by",
        "ended_at",
        "cancelled_by",
        "cancel_reason_display",
        "reminder_sent_for",
    )
    readonly_fields = ("cancel_reason_display",)

    @admin.display(description=_("why cancelled"))
    def cancel_reason_display(self, obj) -> str:
        """In the staff member's language when the system wrote it
        (rewards.reasons), as typed otherwise."""
        return obj.reason_text()

    def has_cancel_permission(self, request) -> bool:
        return request.user.has_perm("rewards.change_subscription")

    @admin.action(
        description=_("Cancel the selected memberships now"), permissions=["cancel"]
    )
    def cancel_subscriptions(self, request, queryset):
        done = 0
        for sub in queryset.filter(status=SubscriptionStatus.ACTIVE).order_by("pk"):
            try:
                subscription_cancel(
                    subscription=sub,
                    by=request.user,
                    reason=system_reason(SUBSCRIPTION_CANCELLED_IN_ADMIN),
                )
            except ServiceError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                done += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d membership cancelled.",
                "%(count)d memberships cancelled.",
                done,
            )
            % {"count": done},
            messages.SUCCESS if done else messages.WARNING,
        )

    def changelist_view(self, request, extra_context=None):
        context = dict(extra_context or {})
        if request.user.has_perm(SELL_PERMISSION):
            context["sell_url"] = reverse("admin:rewards_subscription_sell")
        return super().changelist_view(request, context)

    def get_urls(self):
        return [
            path(
                "sell/",
                self.admin_site.admin_view(self.sell_view),
                name="rewards_subscription_sell",
            ),
            *super().get_urls(),
        ]

    def sell_view(self, request):
        """A sale paid at a till, recorded by staff: subscription_sell."""
        if not request.user.has_perm(SELL_PERMISSION):
            raise PermissionDenied
        if request.method == "POST":
            form = SubscriptionSellForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    sub, replayed = subscription_sell(
                        member=data["card_number"],
                        plan=data["plan"],
                        store=data["store"],
                        receipt_id=data["receipt_id"],
                        sold_by=request.user,
                    )
                except ServiceError as exc:
                    service_error_to_form(form, exc, aliases={"member": "card_number"})
                else:
                    self.message_user(
                        request,
                        gettext("%(plan)s for %(member)s, paid until %(date)s.")
                        % {
                            "plan": sub.plan.name,
                            "member": sub.member,
                            "date": sub.current_period_end.date(),
                        },
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(
                        reverse("admin:rewards_subscription_change", args=[sub.pk])
                    )
        else:
            store = request.user.store
            form = SubscriptionSellForm(
                initial={
                    "store": store if store and store.partner_id is None else None,
                    "receipt_id": receipt_id_new("MEM", store),
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Sell a membership"),
            "opts": self.opts,
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(
            request, "admin/rewards/subscription/sell.html", context
        )


@admin.register(SubscriptionEvent)
class SubscriptionEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "subscription",
        "kind",
        "store",
        "receipt_id",
        "price_paid",
        "period_end",
    )
    list_filter = ("kind", "store", "created_at")
    list_select_related = ("subscription__member", "subscription__plan", "store")
    search_fields = (
        "receipt_id",
        *member_search("subscription__"),
    )
    date_hierarchy = "created_at"
