"""Back office for online payments: read-only lists of payments (with a
refund action that asks the provider through payment_refund_request) and of
the providers' callbacks as they arrived."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from members.admin_base import ReadOnlyAdminMixin
from members.errors import ServiceError
from rewards.admin.base import member_search
from rewards.models import Payment, PaymentCallback, PaymentStatus
from rewards.services.payments import payment_refund_request


class PaymentCallbackInline(admin.TabularInline):
    model = PaymentCallback
    fields = ("received_at", "event_type", "outcome", "detail", "event_key")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Written only by rewards.services.payments: the checkout, the
    providers' callbacks, and the refund action."""

    list_display = (
        "order_id",
        "member",
        "plan",
        "purpose",
        "provider",
        "amount",
        "currency",
        "status",
        "created_at",
        "paid_at",
        "refunded_at",
    )
    list_filter = ("status", "provider", "purpose", "plan", "created_at")
    list_select_related = ("member", "plan")
    search_fields = (
        "order_id",
        "provider_payment_id",
        "provider_session_id",
        *member_search(""),
    )
    date_hierarchy = "created_at"
    actions = ("refund_payments",)
    inlines = (PaymentCallbackInline,)
    fields = (
        "order_id",
        "member",
        "plan",
        "purpose",
        "provider",
        "amount",
        "currency",
        "status",
        "auto_renew",
        "subscription",
        "provider_session_id",
        "provider_payment_id",
        "refunded_amount",
        "note",
        "created_at",
        "paid_at",
        "refunded_at",
    )

    def has_refund_permission(self, request) -> bool:
        return request.user.has_perm("rewards.change_payment")

    @admin.action(
        description=_("Refund the selected payments in full"), permissions=["refund"]
    )
    def refund_payments(self, request, queryset):
        done = 0
        for payment in queryset.filter(status=PaymentStatus.PAID).order_by("pk"):
            try:
                payment = payment_refund_request(payment=payment, by=request.user)
            except ServiceError as exc:
                self.message_user(
                    request, f"{payment.order_id}: {exc.message}", messages.ERROR
                )
            else:
                done += 1
        self.message_user(
            request,
            ngettext(
                "Refund asked for %(count)d payment; the membership ends when "
                "the provider confirms it.",
                "Refund asked for %(count)d payments; the memberships end when "
                "the provider confirms them.",
                done,
            )
            % {"count": done},
            messages.SUCCESS if done else messages.WARNING,
        )


@admin.register(PaymentCallback)
class PaymentCallbackAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "received_at",
        "provider",
        "event_type",
        "outcome",
        "payment",
        "detail",
    )
    list_filter = ("provider", "outcome", "event_type", "received_at")
    list_select_related = ("payment",)
    search_fields = ("event_key", "payment__order_id", "detail")
    date_hierarchy = "received_at"
