"""Back office of delivery: the message log, the development Outbox and the
delivery settings (journeys: campaigns.journeys.admin). Messages and the Outbox
are read-only: only delivery (campaigns.messaging) writes them."""

from __future__ import annotations

import json

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from campaigns.messaging.services import delivery_settings_get, delivery_settings_save
from campaigns.models import DeliverySettings, Message, OutboxEntry
from members.admin_base import ReadOnlyAdminMixin, SingletonAdminMixin
from members.audit import StaffActor


@admin.register(Message)
class MessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every message to a member and what became of it (sent, delayed, not sent
    and why, failed, opened, clicked)."""

    list_display = (
        "created_at",
        "member",
        "channel",
        "kind",
        "marketing",
        "status",
        "error",
        "sent_at",
        "opened_at",
        "clicked_at",
        "fallback_channel",
    )
    list_filter = (
        "status",
        "channel",
        "fallback_channel",
        "kind",
        "marketing",
        "created_at",
    )
    search_fields = ("to", "key", "subject", "member__card_number", "member__phone")
    search_help_text = _("Address, purpose key, subject, card number or phone.")
    list_select_related = ("member",)
    date_hierarchy = "created_at"
    fields = (
        "member",
        "key",
        "kind",
        "marketing",
        "channel",
        "to",
        "language",
        "subject",
        "body",
        "status",
        "error",
        "attempts",
        "claim",
        "send_after",
        "created_at",
        "sent_at",
        "failed_at",
        "opened_at",
        "clicked_at",
        "provider_id",
        "provider_status",
        "fallback_channel",
        "token",
    )
    readonly_fields = fields


@admin.register(OutboxEntry)
class OutboxEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What the development backends kept instead of sending (make run)."""

    list_display = ("created_at", "channel", "to", "subject", "text_start")
    list_filter = ("channel", "created_at")
    search_fields = ("to", "subject", "body", "reference")
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "channel",
        "to",
        "from_address",
        "subject",
        "body",
        "headers_display",
        "html",
        "reference",
    )
    readonly_fields = fields

    @admin.display(description=_("text"))
    def text_start(self, obj: OutboxEntry) -> str:
        return obj.body[:80]

    @admin.display(description=_("headers"))
    def headers_display(self, obj: OutboxEntry) -> str:
        return format_html(
            "<pre>{}</pre>", json.dumps(obj.headers, indent=2, ensure_ascii=False)
        )


@admin.register(DeliverySettings)
class DeliverySettingsAdmin(SingletonAdminMixin, admin.ModelAdmin):
    """One row: the frequency cap, quiet hours and attempts."""

    singleton_get = staticmethod(delivery_settings_get)

    list_display = ("__str__", "frequency_cap", "quiet_start", "quiet_end")
    list_filter = ("frequency_cap",)
    search_fields = ("frequency_cap",)
    fields = ("frequency_cap", "quiet_start", "quiet_end", "max_attempts", "updated_at")
    readonly_fields = ("updated_at",)

    def save_model(self, request, obj, form, change):
        delivery_settings_save(settings_row=obj, actor=StaffActor.from_request(request))

    def has_add_permission(self, request):
        # The changelist creates the row (delivery_settings_get); no "add" ever,
        # and no query on every admin page to find out.
        return False
