"""Back office for feedback: the complaints queue, surveys and their answers.

The complaint pages are views of their own around the services (no ModelForm
writes a complaint): "add" is the form a cashier fills in for a customer at the
counter, "change" is the work page (thread, reply, status, assignee, goodwill).
"""

from __future__ import annotations

import datetime as dt

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from campaigns.feedback.forms import ComplaintWorkForm, CounterComplaintForm
from campaigns.feedback.selectors import (
    complaint_is_overdue,
    complaint_overdue_hours,
    survey_for_prompt_forget,
)
from campaigns.feedback.services import (
    complaint_assign,
    complaint_file,
    complaint_resolve,
    complaint_staff_reply,
    complaint_status_set,
)
from campaigns.feedback.survey_admin import (
    SurveyAnswerInline,
    SurveyQuestionInline,
    save_inline_formset,
    survey_send_view,
)
from campaigns.models import (
    OPEN_STATUSES,
    Complaint,
    ComplaintStatus,
    Survey,
    SurveyQuestion,
    SurveyResponse,
)
from members.admin_base import ReadOnlyAdminMixin, TranslatedAdmin, every_language
from members.audit import StaffActor, member_viewed_record
from members.errors import ServiceError
from rewards.models import AdjustmentStatus


def duration_text(delta: dt.timedelta) -> str:
    """'3 d 4 h', '5 h 10 min', '7 min'."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return gettext("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
    if hours:
        return gettext("%(hours)d h %(minutes)d min") % {
            "hours": hours,
            "minutes": minutes,
        }
    return gettext("%(minutes)d min") % {"minutes": minutes}


class AssignedFilter(admin.SimpleListFilter):
    title = _("assigned")
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return (("me", _("To me")), ("nobody", _("To nobody")))

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(assignee=request.user)
        if self.value() == "nobody":
            return queryset.filter(assignee__isnull=True)
        return queryset


class OpenFilter(admin.SimpleListFilter):
    title = _("open")
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return (
            ("open", _("Open")),
            ("overdue", _("Overdue")),
            ("done", _("Resolved or closed")),
        )

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(status__in=OPEN_STATUSES)
        if self.value() == "overdue":
            limit = timezone.now() - dt.timedelta(hours=complaint_overdue_hours())
            return queryset.filter(status__in=OPEN_STATUSES, created_at__lt=limit)
        if self.value() == "done":
            return queryset.exclude(status__in=OPEN_STATUSES)
        return queryset


@admin.register(Complaint)
class ComplaintAdmin(admin.ModelAdmin):
    """The complaints queue. Open the row to work it; "assign to me" takes many."""

    list_display = (
        "number",
        "member",
        "topic",
        "status",
        "source",
        "store",
        "assignee",
        "time_open",
        "updated_at",
    )
    list_display_links = ("number", "member")
    list_filter = (
        OpenFilter,
        "status",
        "topic",
        "source",
        "store",
        AssignedFilter,
        ("assignee", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("member", "store", "assignee")
    search_fields = (
        "=id",
        "member__card_number",
        "member__phone",
        "member__search_text",
    )
    search_help_text = _("Complaint number, card number, phone, name or email.")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    actions = ("assign_to_me", "mark_in_progress")
    list_per_page = 50

    class Media:
        css = {"all": ("css/admin_feedback.css",)}

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # add_view and change_view write through the complaint services
        # (complaint_file, _work); Django's form save is never reached.
        raise PermissionDenied

    @admin.display(description=_("number"), ordering="id")
    def number(self, obj):
        return f"#{obj.pk}"

    @admin.display(description=_("time open"), ordering="created_at")
    def time_open(self, obj):
        end = obj.resolved_at if not obj.is_open and obj.resolved_at else None
        text = duration_text((end or timezone.now()) - obj.created_at)
        if complaint_is_overdue(obj):
            return format_html(
                '<span class="complaint-overdue" title="{}">{}</span>',
                gettext("Open for more than %(hours)d hours")
                % {"hours": complaint_overdue_hours()},
                text,
            )
        return text

    # --- actions ---

    @admin.action(description=_("Assign to me"), permissions=["change"])
    def assign_to_me(self, request, queryset):
        actor = StaffActor.from_request(request)
        done = 0
        for complaint_id in queryset.values_list("pk", flat=True):
            try:
                complaint_assign(
                    complaint_id=complaint_id, actor=actor, assignee=request.user
                )
            except ServiceError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return
            done += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d complaint assigned to you.",
                "%(count)d complaints assigned to you.",
                done,
            )
            % {"count": done},
            messages.SUCCESS,
        )

    @admin.action(description=_("Mark as in progress"), permissions=["change"])
    def mark_in_progress(self, request, queryset):
        actor = StaffActor.from_request(request)
        done = 0
        for complaint_id in queryset.values_list("pk", flat=True):
            try:
                complaint_status_set(
                    complaint_id=complaint_id,
                    actor=actor,
                    status=ComplaintStatus.IN_PROGRESS,
                )
            except ServiceError as exc:
                self.message_user(
                    request, f"#{complaint_id}: {exc.message}", messages.WARNING
                )
                continue
            done += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d complaint in progress.",
                "%(count)d complaints in progress.",
                done,
            )
            % {"count": done},
            messages.SUCCESS,
        )

    # --- add: a complaint heard at the counter ---

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = CounterComplaintForm(request.POST)
        else:
            # The Counter's member panel links here with the card number filled in.
            form = CounterComplaintForm(
                initial={"customer": request.GET.get("customer", "")[:32]}
            )
        if form.is_valid():
            data = form.cleaned_data
            try:
                complaint = complaint_file(
                    member=data["customer"],
                    topic=data["topic"],
                    body=data["message"],
                    actor=StaffActor.from_request(request),
                )
            except ServiceError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request,
                    gettext("Complaint #%(id)s logged for %(member)s.")
                    % {"id": complaint.pk, "member": complaint.member},
                    messages.SUCCESS,
                )
                if self.has_view_or_change_permission(request, complaint):
                    return HttpResponseRedirect(
                        reverse("admin:campaigns_complaint_change", args=[complaint.pk])
                    )
                return HttpResponseRedirect(reverse("admin:campaigns_complaint_add"))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Log a complaint from the counter"),
            "opts": self.opts,
            "form": form,
            "media": self.media + form.media,
            "has_view_permission": self.has_view_or_change_permission(request),
        }
        return TemplateResponse(
            request, "admin/campaigns/complaint/counter_add.html", context
        )

    # --- change: the work page ---

    def change_view(self, request, object_id, form_url="", extra_context=None):
        complaint = self.get_object(request, unquote(object_id))
        if complaint is None:
            raise Http404(gettext("No complaint with this id."))
        if not self.has_view_or_change_permission(request, complaint):
            raise PermissionDenied
        can_change = self.has_change_permission(request, complaint)
        actor = StaffActor.from_request(request)
        url = reverse("admin:campaigns_complaint_change", args=[complaint.pk])
        initial = {
            "status": complaint.status,
            "assignee": complaint.assignee_id,
            "goodwill_points": complaint.goodwill_points or None,
        }
        form = ComplaintWorkForm(
            request.POST if request.method == "POST" else None, initial=initial
        )
        if request.method == "POST":
            if not can_change:
                raise PermissionDenied
            if form.is_valid() and self._work(request, complaint, form, actor):
                return HttpResponseRedirect(url)
        else:
            member_viewed_record(
                actor=actor, member=complaint.member, where="complaint"
            )
        thread = complaint.messages.select_related("author", "sent_message")
        context = {
            **self.admin_site.each_context(request),
            "title": str(complaint),
            "subtitle": str(complaint.member),
            "opts": self.opts,
            "original": complaint,
            "complaint": complaint,
            "thread": thread,
            "form": form,
            "can_change": can_change,
            "overdue": complaint_is_overdue(complaint),
            "time_open": self.time_open(complaint),
            "adjustment_pending": (
                complaint.goodwill_adjustment is not None
                and complaint.goodwill_adjustment.status == AdjustmentStatus.PENDING
            ),
            "member_url": reverse(
                "admin:members_member_change", args=[complaint.member_id]
            ),
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/campaigns/complaint/work.html", context)

    def _work(self, request, complaint, form, actor) -> bool:
        """Apply the work form through the services; False when one refused."""
        data = form.cleaned_data
        done: list[str] = []
        try:
            if data["assignee"] != complaint.assignee:
                complaint_assign(
                    complaint_id=complaint.pk, actor=actor, assignee=data["assignee"]
                )
                done.append(gettext("assigned"))
            if data["reply"].strip():
                complaint_staff_reply(
                    complaint_id=complaint.pk, actor=actor, body=data["reply"]
                )
                done.append(gettext("reply sent"))
            status = data["status"]
            goodwill = data["goodwill_points"] or 0
            if status == ComplaintStatus.RESOLVED and (
                complaint.status != ComplaintStatus.RESOLVED
                or (goodwill and complaint.goodwill_adjustment_id is None)
            ):
                resolved = complaint_resolve(
                    complaint_id=complaint.pk, actor=actor, goodwill_points=goodwill
                )
                done.append(gettext("resolved"))
                adjustment = resolved.goodwill_adjustment
                if (
                    adjustment is not None
                    and adjustment.status == AdjustmentStatus.PENDING
                ):
                    self.message_user(
                        request,
                        gettext(
                            "The goodwill points are above the approval threshold: "
                            "they wait for another Manager's approval."
                        ),
                        messages.WARNING,
                    )
            elif status != complaint.status:
                # complaint is the row as the page was posted: a reply may have
                # moved it to "waiting" since, which the status menu did not ask.
                complaint_status_set(
                    complaint_id=complaint.pk, actor=actor, status=status
                )
                done.append(gettext("status changed"))
        except ServiceError as exc:
            field = exc.field if exc.field in form.fields else None
            form.add_error(field, exc.message)
            if done:
                self.message_user(
                    request,
                    gettext("Done before the error: %(done)s.")
                    % {"done": ", ".join(done)},
                    messages.WARNING,
                )
            return False
        if done:
            self.message_user(
                request,
                gettext("Complaint #%(id)s: %(done)s.")
                % {"id": complaint.pk, "done": ", ".join(done)},
                messages.SUCCESS,
            )
        else:
            self.message_user(request, gettext("Nothing to change."), messages.INFO)
        return True


@admin.register(Survey)
class SurveyAdmin(TranslatedAdmin):
    """Surveys are settings: Managers and Marketers edit them here."""

    list_display = (
        "name",
        "kind",
        "active",
        "post_purchase",
        "delay_hours",
        "response_count",
        "created_at",
    )
    list_filter = ("kind", "active", "post_purchase")
    search_fields = ("name", *every_language("question"))
    fieldsets = (
        (None, {"fields": ("name", "kind", "active")}),
        (
            _("Question"),
            {
                "fields": ("question",),
                "description": _(
                    "Customers see the question in their language; an empty one "
                    "falls back to the program's default language, then to the "
                    "others."
                ),
            },
        ),
        (
            _("When to ask"),
            {
                "fields": (
                    "post_purchase",
                    "after_registration",
                    "after_complaint",
                    "delay_hours",
                    "window_days",
                    "link_valid_days",
                )
            },
        ),
    )
    inlines = (SurveyQuestionInline,)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_formset(self, request, form, formset, change):
        if formset.model is SurveyQuestion:
            save_inline_formset(request, formset)
        else:
            super().save_formset(request, form, formset, change)

    def get_urls(self):
        send = self.admin_site.admin_view(
            lambda request, object_id: survey_send_view(self, request, object_id)
        )
        return [
            path("<path:object_id>/send/", send, name="campaigns_survey_send"),
            *super().get_urls(),
        ]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # The portal's "Tell us how we did" caches which survey it asks about.
        survey_for_prompt_forget()

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_responses=Count("responses"))

    @admin.display(description=_("answers"), ordering="_responses")
    def response_count(self, obj):
        return obj._responses


@admin.register(SurveyResponse)
class SurveyResponseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Answers are the customers' own words: read here, written by the service."""

    list_display = ("created_at", "survey", "score", "member", "store", "short_comment")
    list_filter = ("survey", "score", "store")
    list_select_related = ("survey", "member", "store")
    search_fields = ("member__card_number", "member__phone", "comment")
    search_help_text = _("Card number, phone or words of the comment.")
    date_hierarchy = "created_at"
    fields = ("survey", "member", "purchase", "store", "score", "comment", "created_at")
    readonly_fields = fields
    inlines = (SurveyAnswerInline,)

    @admin.display(description=_("comment"))
    def short_comment(self, obj):
        return obj.comment[:80]
