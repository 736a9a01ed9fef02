"""Back office for the leaving question: the reasons offered (texts in every
language, staff edit them) and the answers (read-only; members write them)."""

from __future__ import annotations

from django.contrib import admin

from members.admin_base import ReadOnlyAdminMixin, TranslatedAdmin, every_language
from members.audit import StaffActor
from members.models import LeaveAnswer, LeaveReason
from members.services.churn import leave_reason_save


@admin.register(LeaveReason)
class LeaveReasonAdmin(TranslatedAdmin):
    """The choices of "Why are you leaving?". Switch a reason off rather than
    delete it: its old answers keep it."""

    list_display = ("name", "code", "position", "asks_text", "active")
    list_editable = ("position", "active")
    list_filter = ("active", "asks_text")
    search_fields = ("code", *every_language("name"))
    fields = ("code", "name", "asks_text", "position", "active")

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        leave_reason_save(reason=obj, actor=StaffActor.from_request(request))


@admin.register(LeaveAnswer)
class LeaveAnswerAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What members answered, newest first."""

    list_display = ("answered_at", "reason", "trigger", "store", "member", "text")
    list_filter = ("trigger", "reason", "store", "answered_at")
    list_select_related = ("reason", "store", "member")
    search_fields = ("text", "member__card_number")
    date_hierarchy = "answered_at"
    fields = ("member", "trigger", "key", "reason", "text", "store", "answered_at")
