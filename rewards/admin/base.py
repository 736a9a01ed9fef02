"""What several rewards admins share: the member search fields, a read-only
inline and the reason column of rows whose reason the system may write."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.utils.translation import gettext_lazy as _

from rewards.reasons import reasons_names_load

MEMBER_SEARCH = ("card_number", "phone", "email", "last_name")


def member_search(prefix: str) -> tuple[str, ...]:
    return tuple(f"{prefix}member__{name}" for name in MEMBER_SEARCH)


class ReadOnlyInline(admin.TabularInline):
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


class _ReasonChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        # The names the page's reasons refer to, one query per model.
        self.result_list = list(self.result_list)
        reasons_names_load(self.result_list)


class SystemReasonAdminMixin:
    """`reason_display`: the reason in the staff member's language (a system
    text from its code, a typed one as typed), for list_display and fields."""

    readonly_fields = ("reason_display",)

    def get_changelist(self, request, **kwargs):
        return _ReasonChangeList

    @admin.display(description=_("reason"), ordering="reason")
    def reason_display(self, obj) -> str:
        return obj.reason_text()
