"""Back office for wallet passes: read-only, to see whose card is in a wallet,
which Apple devices receive its pushes and why its last update failed."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from members.admin_base import ReadOnlyAdminMixin
from rewards.admin.base import ReadOnlyInline, member_search
from rewards.models import AppleDeviceRegistration, WalletPass


class AppleDeviceRegistrationInline(ReadOnlyInline):
    model = AppleDeviceRegistration
    fields = ("device_library_id", "created_at")
    readonly_fields = fields


@admin.register(WalletPass)
class WalletPassAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Written only by rewards.wallet (the member's download or save link,
    the ledger's change mark, the sync)."""

    list_display = (
        "serial_number",
        "member",
        "updated_at",
        "in_google",
        "sync_due_at",
        "sync_attempts",
        "synced_at",
    )
    list_filter = ("updated_at", "synced_at", "sync_attempts")
    list_select_related = ("member",)
    search_fields = ("serial_number", *member_search(""))
    fields = (
        "serial_number",
        "member",
        "created_at",
        "updated_at",
        "google_object_id",
        "sync_due_at",
        "sync_attempts",
        "last_sync_error",
        "synced_at",
    )
    readonly_fields = fields
    inlines = (AppleDeviceRegistrationInline,)

    @admin.display(boolean=True, description=_("in Google Wallet"))
    def in_google(self, obj: WalletPass) -> bool:
        return bool(obj.google_object_id)
