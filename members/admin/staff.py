"""Staff users and stores in the back office."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from members.admin_base import PartnerScopedAdminMixin
from members.audit import StaffActor
from members.models import (
    Store,
    User,
)
from members.services import store_delete, store_save, user_delete, user_save

# --- Staff users and stores --------------------------------------------------------


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Store"), {"fields": ("store", "partner")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (
            _("Staff"),
            {
                "classes": ("wide",),
                "fields": ("email", "is_staff", "store", "partner", "groups"),
            },
        ),
    )
    list_display = ("username", "email", "first_name", "last_name", "store", "is_staff")
    list_filter = (*DjangoUserAdmin.list_filter, "store", "partner")
    list_select_related = ("store", "partner")
    autocomplete_fields = ("store", "partner")

    def save_model(self, request, obj, form, change):
        user_save(user=obj, actor=StaffActor.from_request(request))

    def delete_model(self, request, obj):
        user_delete(user=obj, actor=StaffActor.from_request(request))

    def delete_queryset(self, request, queryset):
        actor = StaffActor.from_request(request)
        for user in queryset:
            user_delete(user=user, actor=actor)


@admin.register(Store)
class StoreAdmin(PartnerScopedAdminMixin, admin.ModelAdmin):
    """Our stores and the partners'. A partner's staff see their partner's."""

    partner_list_display = ("name", "code", "address", "is_active")
    partner_list_filter = ("is_active",)
    partner_search_fields = ("code", "name", "address")
    partner_fields = ("name", "code", "address", "timezone", "is_active")
    list_display = ("name", "code", "address", "timezone", "partner", "is_active")
    list_filter = ("is_active", "timezone", "partner")
    list_select_related = ("partner",)
    search_fields = ("code", "name", "address")
    prepopulated_fields = {"code": ("name",)}

    def partner_queryset(self, queryset, partner_id: int):
        return queryset.filter(partner_id=partner_id)

    def save_model(self, request, obj, form, change):
        store_save(store=obj, actor=StaffActor.from_request(request))

    def delete_model(self, request, obj):
        store_delete(store=obj, actor=StaffActor.from_request(request))

    def delete_queryset(self, request, queryset):
        actor = StaffActor.from_request(request)
        for store in queryset:
            store_delete(store=store, actor=actor)
