"""What several rewards admins share: the member search fields and a read-only
inline."""

from __future__ import annotations

from django.contrib import admin

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
