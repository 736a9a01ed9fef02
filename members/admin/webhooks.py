"""Webhooks out: the endpoints staff register (the signing secret shown once),
the events recorded for them and the delivery log with its resend action.
Every write goes through members.services.webhooks."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from members.admin_base import (
    ReadOnlyAdminMixin,
    ServiceRefused,
    ServiceWriteAdminMixin,
)
from members.audit import StaffActor
from members.errors import ServiceError
from members.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
)
from members.services import (
    webhook_delivery_resend,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_save,
    webhook_endpoint_secret_rotate,
)


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("events"),
        choices=WebhookEventType.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("url", "description", "events", "active")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ServiceWriteAdminMixin, admin.ModelAdmin):
    """An endpoint's secret is shown once, when it is made or replaced."""

    form = WebhookEndpointForm
    list_display = ("url", "description", "active", "events_display", "created_at")
    list_filter = ("active",)
    search_fields = ("url", "description")
    readonly_fields = ("secret_display", "created_at", "updated_at")
    actions = ("rotate_secret",)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("url", "description", "events", "active")
        return (
            "url",
            "description",
            "events",
            "active",
            "secret_display",
            "created_at",
            "updated_at",
        )

    @admin.display(description=_("events"))
    def events_display(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.events)

    @admin.display(description=_("signing secret"))
    def secret_display(self, obj: WebhookEndpoint) -> str:
        return f"{obj.secret[:6]}…{obj.secret[-4:]}" if obj.secret else ""

    def save_form(self, request, form, change):
        data = form.cleaned_data
        actor = StaffActor.from_request(request)
        try:
            if change:
                return webhook_endpoint_save(endpoint=form.instance, actor=actor)
            endpoint = webhook_endpoint_create(
                url=data["url"],
                events=data["events"],
                description=data["description"],
                active=data["active"],
                actor=actor,
            )
        except ServiceError as exc:
            raise ServiceRefused(exc.message) from exc
        endpoint._new_secret = endpoint.secret  # for response_add
        return endpoint

    def save_model(self, request, obj, form, change):
        return None  # the service saved it in save_form

    def get_deleted_objects(self, objs, request):
        # Its deliveries and their log go with an endpoint: nobody deletes
        # them one by one, so their admins allow no delete.
        deleted, counts, perms_needed, protected = super().get_deleted_objects(
            objs, request
        )
        log = {
            str(WebhookDelivery._meta.verbose_name),
            str(WebhookAttempt._meta.verbose_name),
        }
        return (
            deleted,
            counts,
            {p for p in perms_needed if str(p) not in log},
            protected,
        )

    def delete_model(self, request, obj):
        webhook_endpoint_delete(endpoint=obj, actor=StaffActor.from_request(request))

    def delete_queryset(self, request, queryset):
        actor = StaffActor.from_request(request)
        for endpoint in queryset:
            webhook_endpoint_delete(endpoint=endpoint, actor=actor)

    def response_add(self, request, obj, post_url_continue=None):
        self._secret_message(request, obj, getattr(obj, "_new_secret", ""))
        return super().response_add(request, obj, post_url_continue)

    def _secret_message(self, request, endpoint, secret: str) -> None:
        if secret:
            self.message_user(
                request,
                gettext(
                    "The signing secret of %(url)s is %(secret)s. Copy it to the "
                    "receiver now: it will not be shown again."
                )
                % {"url": endpoint.url, "secret": secret},
                messages.SUCCESS,
            )

    @admin.action(description=_("Replace the signing secret"), permissions=["change"])
    def rotate_secret(self, request, queryset):
        actor = StaffActor.from_request(request)
        for endpoint in queryset:
            secret = webhook_endpoint_secret_rotate(endpoint=endpoint, actor=actor)
            self._secret_message(request, endpoint, secret)


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "type", "member", "sequence")
    list_filter = ("type", "created_at")
    list_select_related = ("member",)
    search_fields = ("member__card_number", "member__phone", "type")
    date_hierarchy = "created_at"
    fields = ("type", "member", "sequence", "created_at", "data")


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = (
        "number",
        "started_at",
        "status_code",
        "duration_ms",
        "error",
        "response_excerpt",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log: read-only, with the resend action."""

    list_display = (
        "pk",
        "event",
        "endpoint",
        "member_id",
        "sequence",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ("status", "endpoint", "event__type")
    list_select_related = ("event", "endpoint")
    search_fields = ("endpoint__url", "event__type", "=member_id")
    inlines = (WebhookAttemptInline,)
    actions = ("resend",)
    fields = (
        "event",
        "endpoint",
        "member_id",
        "sequence",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "give_up_at",
        "delivered_at",
        "created_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # The changelist's resend action needs it; a delivery is never edited.
        return obj is None and super().has_change_permission(request, obj)

    @admin.action(description=_("Send again"), permissions=["change"])
    def resend(self, request, queryset):
        deliveries = list(queryset)
        for delivery in deliveries:
            webhook_delivery_resend(delivery=delivery)
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery queued again.",
                "%(count)d deliveries queued again.",
                len(deliveries),
            )
            % {"count": len(deliveries)},
            messages.SUCCESS,
        )
