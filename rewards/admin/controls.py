"""Back office for staff controls: the limits row, the queue of adjustments
waiting for a second Manager, and the anomaly flags (moved from members.admin
with the models)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from members.admin_base import ReadOnlyAdminMixin, SingletonAdminMixin
from members.audit import StaffActor
from members.errors import ServiceError
from rewards.admin.base import SystemReasonAdminMixin
from rewards.models import (
    AdjustmentRequest,
    AdjustmentStatus,
    AnomalyFlag,
    AnomalyStatus,
    StaffControls,
)
from rewards.services.adjustments import adjustment_approve, adjustment_refuse
from rewards.services.anomalies import anomaly_flags_review
from rewards.services.counter_controls import staff_controls_ensure, staff_controls_save


@admin.register(StaffControls)
class StaffControlsAdmin(SingletonAdminMixin, admin.ModelAdmin):
    """One row: the approval threshold and the cashier daily limits."""

    singleton_get = staticmethod(staff_controls_ensure)

    list_display = (
        "__str__",
        "adjustment_approval_threshold",
        "cashier_daily_redeemed_points",
        "cashier_daily_returns",
    )
    list_filter = ("updated_at",)
    search_fields = ("adjustment_approval_threshold",)
    fields = (
        "adjustment_approval_threshold",
        "cashier_daily_redeemed_points",
        "cashier_daily_returns",
        "anomaly_member_daily_transactions",
        "anomaly_cashier_daily_operations",
        "anomaly_return_window_days",
        "anomaly_adjustment_points",
        "updated_at",
    )
    readonly_fields = ("updated_at",)

    def save_model(self, request, obj, form, change):
        staff_controls_save(controls=obj, actor=StaffActor.from_request(request))


@admin.register(AdjustmentRequest)
class AdjustmentRequestAdmin(
    SystemReasonAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin
):
    """The queue of manual adjustments above the threshold. Managers approve or
    refuse them with the actions (never their own); nothing here is edited."""

    list_display = (
        "requested_at",
        "member",
        "points",
        "reason_display",
        "status",
        "requested_by",
        "decided_by",
        "decided_at",
    )
    list_filter = ("status", ("requested_by", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("member", "requested_by", "decided_by")
    search_fields = ("member__card_number", "member__phone", "reason")
    date_hierarchy = "requested_at"
    fields = (
        "member",
        "points",
        "reason_display",
        "reason_code",
        "reason",
        "status",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
        "decision_note",
        "ledger_entry",
    )
    readonly_fields = fields
    actions = ("approve", "refuse")

    def has_approve_permission(self, request) -> bool:
        return request.user.has_perm("rewards.approve_adjustmentrequest")

    def changelist_view(self, request, extra_context=None):
        # The queue opens on what waits for a decision.
        if not request.GET and request.method == "GET":
            return HttpResponseRedirect(
                f"{request.path}?status__exact={AdjustmentStatus.PENDING}"
            )
        return super().changelist_view(request, extra_context)

    def _decide(self, request, queryset, service, done_text) -> None:
        actor = StaffActor.from_request(request)
        done = 0
        for pk in queryset.values_list("pk", flat=True):
            try:
                _adjustment, replayed = service(adjustment_id=pk, actor=actor)
            except ServiceError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                done += not replayed
        self.message_user(request, done_text(done), messages.SUCCESS)

    @admin.action(
        description=_("Approve the selected adjustments"), permissions=["approve"]
    )
    def approve(self, request, queryset):
        self._decide(
            request,
            queryset,
            adjustment_approve,
            lambda n: (
                ngettext(
                    "%(count)d adjustment approved.",
                    "%(count)d adjustments approved.",
                    n,
                )
                % {"count": n}
            ),
        )

    @admin.action(
        description=_("Refuse the selected adjustments"), permissions=["approve"]
    )
    def refuse(self, request, queryset):
        self._decide(
            request,
            queryset,
            adjustment_refuse,
            lambda n: (
                ngettext(
                    "%(count)d adjustment refused.", "%(count)d adjustments refused.", n
                )
                % {"count": n}
            ),
        )


@admin.register(AnomalyFlag)
class AnomalyFlagAdmin(admin.ModelAdmin):
    """Unusual activity found by the nightly scan. Managers dismiss or confirm
    flags with the actions (anomaly_flags_review); nothing else is edited."""

    list_display = (
        "day",
        "rule",
        "subject_kind",
        "member",
        "user",
        "details",
        "status",
        "reviewed_by",
        "reviewed_at",
    )
    list_filter = ("rule", "status", "subject_kind", "day")
    list_select_related = ("member", "user", "reviewed_by")
    search_fields = ("member__card_number", "member__phone", "user__username")
    search_help_text = _("Card number, phone or staff username.")
    date_hierarchy = "day"
    fields = (
        "day",
        "rule",
        "subject_kind",
        "member",
        "user",
        "details",
        "status",
        "created_at",
        "reviewed_by",
        "reviewed_at",
        "note",
    )
    readonly_fields = fields
    actions = ("dismiss", "confirm")

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _review(self, request, queryset, status, done_text) -> None:
        done = anomaly_flags_review(
            flag_ids=list(queryset.values_list("pk", flat=True)),
            status=status,
            by=request.user,
        )
        self.message_user(request, done_text(done), messages.SUCCESS)

    @admin.action(description=_("Dismiss the selected flags"), permissions=["change"])
    def dismiss(self, request, queryset):
        self._review(
            request,
            queryset,
            AnomalyStatus.DISMISSED,
            lambda n: (
                ngettext("%(count)d flag dismissed.", "%(count)d flags dismissed.", n)
                % {"count": n}
            ),
        )

    @admin.action(description=_("Confirm the selected flags"), permissions=["change"])
    def confirm(self, request, queryset):
        self._review(
            request,
            queryset,
            AnomalyStatus.CONFIRMED,
            lambda n: (
                ngettext("%(count)d flag confirmed.", "%(count)d flags confirmed.", n)
                % {"count": n}
            ),
        )
