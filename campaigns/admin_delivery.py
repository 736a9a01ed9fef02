"""Back office of delivery: the message log, the development Outbox, journeys and
the delivery settings. Messages and the Outbox are read-only: only
campaigns.messaging writes them."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from campaigns.journey_render import variables_allowed, variables_unknown
from campaigns.journeys import journeys_switch
from campaigns.messaging import delivery_settings_get
from campaigns.models import (
    DeliverySettings,
    Journey,
    JourneyText,
    Message,
    OutboxEntry,
)
from members.admin_base import ReadOnlyAdminMixin, SingletonAdminMixin


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
    )
    list_filter = ("status", "channel", "kind", "marketing", "created_at")
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


class JourneyTextForm(forms.ModelForm):
    class Meta:
        model = JourneyText
        fields = ("language", "subject", "body")

    def clean(self):
        data = super().clean()
        journey = self.instance.journey if self.instance.journey_id else None
        kind = getattr(self, "journey_kind", None) or (journey.kind if journey else "")
        for name in ("subject", "body"):
            unknown = variables_unknown(data.get(name, ""), kind=kind)
            if unknown:
                self.add_error(
                    name,
                    _("Unknown variables: %(names)s. Known: %(known)s.")
                    % {
                        "names": ", ".join(unknown),
                        "known": ", ".join(sorted(variables_allowed(kind))),
                    },
                )
        return data


class JourneyTextInline(admin.StackedInline):
    model = JourneyText
    form = JourneyTextForm
    extra = 0
    min_num = 1

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        kind = obj.kind if obj is not None else request.POST.get("kind", "")
        formset.form = type("JourneyTextFormFor", (self.form,), {"journey_kind": kind})
        return formset


@admin.register(Journey)
class JourneyAdmin(admin.ModelAdmin):
    """A journey per kind, off until switched on, with its texts per language."""

    list_display = ("kind", "enabled", "channel", "days", "languages", "updated_at")
    list_filter = ("enabled", "channel")
    search_fields = ("kind", "texts__body", "texts__subject")
    list_editable = ("enabled",)
    fields = ("kind", "enabled", "channel", "days", "variables")
    readonly_fields = ("variables",)
    inlines = [JourneyTextInline]
    actions = ["switch_on", "switch_off"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("texts")

    def has_delete_permission(self, request, obj=None):
        return False  # switch it off instead: its messages refer to it by kind

    @admin.display(description=_("languages"))
    def languages(self, obj: Journey) -> str:
        return ", ".join(sorted(text.language for text in obj.texts.all()))

    @admin.display(description=_("variables"))
    def variables(self, obj: Journey | None) -> str:
        kind = obj.kind if obj is not None and obj.pk else ""
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li><code>{{{{ {} }}}}</code> — {}</li>",
                variables_allowed(kind).items(),
            ),
        )

    @admin.action(description=_("Switch on"), permissions=["change"])
    def switch_on(self, request, queryset):
        journeys_switch(
            journey_ids=list(queryset.values_list("pk", flat=True)), enabled=True
        )

    @admin.action(description=_("Switch off"), permissions=["change"])
    def switch_off(self, request, queryset):
        journeys_switch(
            journey_ids=list(queryset.values_list("pk", flat=True)), enabled=False
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

    def has_add_permission(self, request):
        # The changelist creates the row (delivery_settings_get); no "add" ever,
        # and no query on every admin page to find out.
        return False
