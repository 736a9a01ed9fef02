"""Staff users and stores in the back office."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from members.models import (
    Store,
    User,
)

# --- Staff users and stores --------------------------------------------------------


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Store"), {"fields": ("store",)}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (
            _("Staff"),
            {"classes": ("wide",), "fields": ("email", "is_staff", "store", "groups")},
        ),
    )
    list_display = ("username", "email", "first_name", "last_name", "store", "is_staff")
    list_filter = (*DjangoUserAdmin.list_filter, "store")
    list_select_related = ("store",)
    autocomplete_fields = ("store",)


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "address", "timezone", "partner", "is_active")
    list_filter = ("is_active", "timezone", "partner")
    list_select_related = ("partner",)
    search_fields = ("code", "name", "address")
    prepopulated_fields = {"code": ("name",)}
