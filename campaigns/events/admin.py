"""Back office for events and members-only pages: Managers and Marketers write
them; each event has an attendee list with its counts, where staff with the
Counter right check members in (and let walk-ins in while places are left)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from campaigns.events.checkin import event_checkin
from campaigns.events.selectors import event_attendees, event_counts
from campaigns.events.services import (
    content_page_delete,
    content_page_save,
    event_cancel,
    event_save,
)
from campaigns.models import ContentPage, Event, EventRsvp, EventStatus
from members.admin_base import (
    COUNTER_PERMISSION,
    ReadOnlyAdminMixin,
    ServiceRefused,
    ServiceWriteAdminMixin,
    TranslatedAdmin,
    every_language,
)
from members.audit import StaffActor
from members.errors import ServiceError
from members.models import Member
from members.selectors import member_search

MEMBER_SEARCH = ("card_number", "phone", "email", "last_name")
TITLES = every_language("title")


class CheckinSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Card number or phone"), max_length=80, required=False, strip=True
    )


class CheckinForm(forms.Form):
    member = forms.ModelChoiceField(
        queryset=Member.objects.all(), widget=forms.HiddenInput
    )


@admin.register(Event)
class EventAdmin(ServiceWriteAdminMixin, TranslatedAdmin):
    """Events. Saving goes through event_save (a cancellation also tells the
    members); the attendee list is where staff check members in."""

    list_display = (
        "title",
        "kind",
        "store",
        "starts_at",
        "status",
        "places",
        "min_tier",
        "checkin_points",
        "attendees_link",
    )
    list_filter = ("status", "kind", "store", "min_tier", "starts_at")
    search_fields = (*TITLES, "store__name")
    list_select_related = ("store", "min_tier")
    date_hierarchy = "starts_at"
    ordering = ("-starts_at",)
    actions = ("publish_selected", "cancel_selected")
    readonly_fields = ("going_count", "reminders_sent_at", "cancelled_at")
    fieldsets = (
        (None, {"fields": ("kind", "status", "store", "starts_at", "ends_at")}),
        (_("Text"), {"fields": ("title", "description")}),
        (
            _("Sign-up"),
            {
                "fields": (
                    "capacity",
                    "going_count",
                    "min_tier",
                    "rsvp_opens_at",
                    "rsvp_closes_at",
                    "checkin_points",
                )
            },
        ),
        (
            _("Messages"),
            {"fields": ("reminder_hours", "reminders_sent_at", "cancelled_at")},
        ),
    )

    def has_delete_permission(self, request, obj=None):
        return False  # sign-ups and points point at it; cancel it instead

    @admin.display(description=_("going / places"))
    def places(self, obj: Event) -> str:
        return f"{obj.going_count} / {obj.capacity}"

    @admin.display(description=_("attendees"))
    def attendees_link(self, obj: Event) -> str:
        return format_html(
            '<a href="{}">{}</a>', self._attendees_url(obj.pk), gettext("Attendees")
        )

    def _attendees_url(self, event_id: int) -> str:
        return reverse(
            "admin:campaigns_event_attendees",
            args=[event_id],
            current_app=self.admin_site.name,
        )

    def save_model(self, request, obj, form, change):
        try:
            event_save(event=obj, actor=request.user)
        except ServiceError as exc:
            raise ServiceRefused(exc.message) from exc

    @admin.action(description=_("Publish the selected events"), permissions=["change"])
    def publish_selected(self, request, queryset):
        done = 0
        for event in queryset.filter(status=EventStatus.DRAFT):
            event.status = EventStatus.PUBLISHED
            try:
                event_save(event=event, actor=request.user)
            except ServiceError as exc:
                self.message_user(request, f"{event}: {exc.message}", messages.ERROR)
            else:
                done += 1
        self.message_user(
            request,
            ngettext("%(n)s event published.", "%(n)s events published.", done)
            % {"n": done},
        )

    @admin.action(
        description=_("Cancel the selected events and tell the members"),
        permissions=["change"],
    )
    def cancel_selected(self, request, queryset):
        ids = list(
            queryset.exclude(status=EventStatus.CANCELLED).values_list("pk", flat=True)
        )
        for event_id in ids:
            event_cancel(event_id=event_id)
        self.message_user(
            request,
            ngettext(
                "%(n)s event cancelled; its members are being told.",
                "%(n)s events cancelled; their members are being told.",
                len(ids),
            )
            % {"n": len(ids)},
        )

    # --- attendee list and check-in ---

    def get_urls(self):
        return [
            path(
                "<int:event_id>/attendees/",
                self.admin_site.admin_view(self.attendees_view),
                name="campaigns_event_attendees",
            ),
            path(
                "<int:event_id>/checkin/",
                self.admin_site.admin_view(require_POST(self.checkin_view)),
                name="campaigns_event_checkin",
            ),
            *super().get_urls(),
        ]

    def _event_get(self, request, event_id: int) -> Event:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(
            Event.objects.select_related("store", "min_tier"), pk=event_id
        )

    def attendees_view(self, request, event_id: int):
        event = self._event_get(request, event_id)
        can_checkin = request.user.has_perm(COUNTER_PERMISSION)
        search_form = CheckinSearchForm(request.GET or None)
        found = None
        if can_checkin and search_form.is_valid() and search_form.cleaned_data["q"]:
            found = member_search(query=search_form.cleaned_data["q"], limit=10)
        attendees = list(event_attendees(event=event))
        by_member = {rsvp.member_id: rsvp for rsvp in attendees}
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Attendees: %(title)s") % {"title": event.title},
            "event": event,
            "counts": event_counts(event=event),
            "attendees": attendees,
            "found": [(m, by_member.get(m.pk)) for m in found] if found else found,
            "search_form": search_form,
            "can_checkin": can_checkin,
            "checkin_url": reverse(
                "admin:campaigns_event_checkin",
                args=[event.pk],
                current_app=self.admin_site.name,
            ),
            "now": timezone.now(),
        }
        return TemplateResponse(
            request, "campaigns/events/admin_attendees.html", context
        )

    def checkin_view(self, request, event_id: int):
        event = self._event_get(request, event_id)
        if not request.user.has_perm(COUNTER_PERMISSION):
            raise PermissionDenied
        back = HttpResponseRedirect(self._attendees_url(event.pk))
        form = CheckinForm(request.POST)
        if not form.is_valid():
            self.message_user(request, gettext("Choose a member."), messages.ERROR)
            return back
        member = form.cleaned_data["member"]
        try:
            result = event_checkin(
                event_id=event.pk,
                member=member,
                actor=StaffActor.from_request(request),
            )
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return back
        name = member.full_name or member.card_number
        if result.already:
            text = gettext("%(name)s was already checked in.") % {"name": name}
            level = messages.WARNING
        else:
            text = gettext("%(name)s is checked in.") % {"name": name}
            if result.walk_in:
                text += " " + gettext("Let in as a walk-in.")
            if result.entry is not None:
                text += " " + ngettext(
                    "+%(points)s point.", "+%(points)s points.", result.entry.points
                ) % {"points": result.entry.points}
            level = messages.SUCCESS
        self.message_user(request, text, level)
        return back


@admin.register(EventRsvp)
class EventRsvpAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Sign-ups, for looking one up; they are written by members and at check-in."""

    list_display = (
        "event",
        "member",
        "status",
        "walk_in",
        "queued_at",
        "checked_in_at",
        "checked_in_by",
    )
    list_filter = ("status", "walk_in", "event__status", "event__store")
    search_fields = (
        *(f"member__{name}" for name in MEMBER_SEARCH),
        *(f"event__{name}" for name in TITLES),
    )
    list_select_related = ("event", "member", "checked_in_by")


@admin.register(ContentPage)
class ContentPageAdmin(ServiceWriteAdminMixin, TranslatedAdmin):
    """Members-only pages and offers. The text is plain: shown escaped, with its
    line breaks; no HTML or markup."""

    list_display = (
        "title",
        "kind",
        "slug",
        "min_tier",
        "published_from",
        "published_until",
    )
    list_filter = ("kind", "min_tier", "published_from")
    search_fields = (*TITLES, "slug", *every_language("body"))
    list_select_related = ("min_tier",)
    ordering = ("-published_from", "pk")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "kind",
                    "slug",
                    "min_tier",
                    "published_from",
                    "published_until",
                )
            },
        ),
        (_("Text"), {"fields": ("title", "body")}),
    )

    def save_model(self, request, obj, form, change):
        try:
            content_page_save(page=obj)
        except ServiceError as exc:
            raise ServiceRefused(exc.message) from exc

    def delete_model(self, request, obj):
        content_page_delete(page=obj, actor=StaffActor.from_request(request))

    def delete_queryset(self, request, queryset):
        actor = StaffActor.from_request(request)
        for page in queryset:
            content_page_delete(page=page, actor=actor)
