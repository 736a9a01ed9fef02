"""Read-only records about members: consent history, API tokens (issued and
revoked through the services), the staff audit log and erasures."""

from __future__ import annotations

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
    ApiToken,
    ConsentEvent,
    Member,
    MemberErasure,
    StaffAuditEvent,
)
from members.services import (
    api_token_create,
    api_token_delete,
    api_token_revoke,
)

# --- Consent history, API tokens -----------------------------------------------------


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "member",
        "channel",
        "granted",
        "source",
        "changed_by",
    )
    list_filter = ("channel", "granted", "source", "created_at")
    list_select_related = ("member", "changed_by")
    search_fields = (
        "member__card_number",
        "member__phone",
        "member__email",
        "member__last_name",
    )
    date_hierarchy = "created_at"


class ApiTokenStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return (("active", _("Active")), ("revoked", _("Revoked")))

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiToken)
class ApiTokenAdmin(ServiceWriteAdminMixin, admin.ModelAdmin):
    """Till tokens: created by api_token_create, shown raw once, revoked by an action.

    The key hash is never displayed; an existing token cannot be edited.
    """

    list_display = (
        "name",
        "store",
        "prefix_display",
        "created_at",
        "last_used_at",
        "is_active_display",
    )
    list_filter = (ApiTokenStatusFilter, "store")
    list_select_related = ("store",)
    search_fields = ("name", "prefix", "store__code", "store__name")
    autocomplete_fields = ("store",)
    actions = ("revoke",)
    add_fields = ("store", "name")
    view_fields = (
        "store",
        "name",
        "prefix_display",
        "created_at",
        "last_used_at",
        "revoked_at",
    )

    @admin.display(description=_("starts with"))
    def prefix_display(self, obj: ApiToken) -> str:
        return f"{obj.prefix}…"

    @admin.display(description=_("active"), boolean=True, ordering="revoked_at")
    def is_active_display(self, obj: ApiToken) -> bool:
        return obj.is_active

    def has_change_permission(self, request, obj=None):
        # The changelist (and the revoke action) need the permission; a token
        # itself is never edited.
        return obj is None and super().has_change_permission(request, obj)

    def get_fields(self, request, obj=None):
        return self.add_fields if obj is None else self.view_fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.view_fields

    def save_form(self, request, form, change):
        try:
            token, raw = api_token_create(
                store=form.cleaned_data["store"], name=form.cleaned_data["name"]
            )
        except ServiceError as exc:
            raise ServiceRefused(exc.message) from exc
        token._raw_token = raw  # shown by response_add, never stored
        return token

    def save_model(self, request, obj, form, change):
        return None  # api_token_create saved it in save_form

    def delete_model(self, request, obj):
        api_token_delete(token=obj, actor=StaffActor.from_request(request))

    def delete_queryset(self, request, queryset):
        actor = StaffActor.from_request(request)
        for token in queryset:
            api_token_delete(token=token, actor=actor)

    def response_add(self, request, obj, post_url_continue=None):
        raw = getattr(obj, "_raw_token", None)
        if raw:
            self.message_user(
                request,
                gettext(
                    "The token for %(name)s is %(token)s. Copy it into the till now: "
                    "it is not stored and will not be shown again."
                )
                % {"name": obj.name, "token": raw},
                messages.SUCCESS,
            )
        return super().response_add(request, obj, post_url_continue)

    @admin.action(description=_("Revoke the selected tokens"), permissions=["change"])
    def revoke(self, request, queryset):
        tokens = list(queryset.filter(revoked_at__isnull=True))
        for token in tokens:
            api_token_revoke(token=token)
        self.message_user(
            request,
            ngettext(
                "%(count)d token revoked.", "%(count)d tokens revoked.", len(tokens)
            )
            % {"count": len(tokens)},
            messages.SUCCESS,
        )


# --- Audit log, erasures ------------------------------------------------------------


class AuditMemberFilter(admin.SimpleListFilter):
    """The member's events, reached from the member page's "Audit log" link."""

    title = _("member")
    parameter_name = "member"

    def lookups(self, request, model_admin):
        value = self.value()
        if value and value.isdigit():
            member = Member.objects.filter(pk=value).first()
            if member is not None:
                return ((str(member.pk), str(member)),)
        return ()

    def queryset(self, request, queryset):
        value = self.value()
        if value:
            if not value.isdigit():
                return queryset.none()
            return queryset.filter(member_id=int(value))
        return queryset


@admin.register(StaffAuditEvent)
class StaffAuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who did what, and who opened whose data. Read-only for everyone."""

    list_display = (
        "created_at",
        "actor",
        "action",
        "member",
        "object_type",
        "object_id",
        "ip",
    )
    list_filter = (
        "action",
        ("actor", admin.RelatedOnlyFieldListFilter),
        AuditMemberFilter,
        "created_at",
    )
    list_select_related = ("actor", "member")
    search_fields = (
        "actor__username",
        "member__card_number",
        "object_id",
        "ip",
    )
    search_help_text = _("Staff username, card number, object id or IP address.")
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "actor",
        "action",
        "member",
        "object_type",
        "object_id",
        "details",
        "ip",
    )
    readonly_fields = fields
    show_full_result_count = False  # a COUNT(*) over the whole log on every page


@admin.register(MemberErasure)
class MemberErasureAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Members who were anonymized, by whom and when (done from the member page)."""

    list_display = ("created_at", "member", "source", "requested_by")
    list_filter = ("source", "created_at")
    list_select_related = ("member", "requested_by")
    search_fields = ("member__card_number",)
    date_hierarchy = "created_at"
    fields = ("member", "source", "requested_by", "created_at")
    readonly_fields = fields
