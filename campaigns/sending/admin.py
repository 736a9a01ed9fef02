"""Back office for campaigns (Marketers and Managers): write the texts, preview
them with a real member's data, test-send to yourself, send now or schedule,
watch the progress, read the figures.

State changes go through campaigns.sending.services; the texts (variants)
are saved by their inline forms after the sandbox checked them.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from campaigns.feedback.selectors import campaign_survey_figures
from campaigns.messaging.templating import FILTERS, variables_known
from campaigns.models import (
    Campaign,
    CampaignRun,
    CampaignStatus,
    CampaignVariant,
    MessageStatus,
)
from campaigns.sending.forms import CampaignForm, CampaignVariantForm, PreviewForm
from campaigns.sending.rendering import campaign_render
from campaigns.sending.selectors import campaign_runs, run_figures, run_progress
from campaigns.sending.services import (
    MESSAGE_KIND,
    campaign_cancel,
    campaign_delete,
    campaign_save,
    campaign_schedule,
    campaign_send_now,
    campaign_test_send,
    campaign_unknown_variables,
)
from members.admin_base import ServiceRefused, TranslatedStackedInline
from members.audit import StaffActor
from members.errors import ServiceError


class CampaignVariantInline(TranslatedStackedInline):
    """A variant's subject and text, a tab per language."""

    model = CampaignVariant
    form = CampaignVariantForm
    extra = 0
    min_num = 1
    max_num = 2
    fields = ["label", "subject", "body"]

    def _editable(self, obj) -> bool:
        return obj is None or obj.is_editable

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignForm
    inlines = [CampaignVariantInline]
    list_display = [
        "name",
        "status",
        "channel",
        "segment",
        "scheduled_at",
        "recurrence",
        "progress",
        "created_by",
    ]
    list_filter = ["status", "channel", "recurrence", "promotion"]
    search_fields = ["name", "segment__name"]
    list_select_related = ["segment", "created_by"]
    date_hierarchy = "created_at"
    readonly_fields = ["status", "created_by", "created_at", "variables_help"]
    fieldsets = [
        (None, {"fields": ["name", "segment", "channel", "status"]}),
        (_("When"), {"fields": ["scheduled_at", "recurrence"]}),
        (
            _("A/B test and holdout"),
            {"fields": ["variant_b_percent", "holdout_percent", "window_days"]},
        ),
        (
            _("Promotion"),
            {"fields": ["promotion", "bonus_points", "coupon_reward"]},
        ),
        (_("Survey"), {"fields": ["survey"]}),
        (_("Text variables"), {"fields": ["variables_help"]}),
        (None, {"fields": ["created_by", "created_at"]}),
    ]
    actions = ["schedule_selected", "cancel_selected"]
    change_form_template = "admin/campaigns/campaign/change_form.html"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        campaign = Q(messages__kind=MESSAGE_KIND)
        return qs.annotate(
            n_queued=Count(
                "messages", filter=campaign & Q(messages__status=MessageStatus.QUEUED)
            ),
            n_sent=Count(
                "messages", filter=campaign & Q(messages__status=MessageStatus.SENT)
            ),
            n_failed=Count(
                "messages", filter=campaign & Q(messages__status=MessageStatus.FAILED)
            ),
        )

    @admin.display(description=_("queued / sent / failed"))
    def progress(self, obj):
        if obj.status in (CampaignStatus.DRAFT,) and not obj.n_sent:
            return "—"
        return f"{obj.n_queued} / {obj.n_sent} / {obj.n_failed}"

    @admin.display(description=_("Variables you can use"))
    def variables_help(self, obj=None):
        return format_html(
            '{}<p class="mt-2 mb-1">{}</p>{}',
            format_html_join(
                "",
                "<div><code>{{{{ {} }}}}</code> — {}</div>",
                ((name, meaning) for name, meaning in variables_known().items()),
            ),
            _(
                "Numbers and dates print in the language of the text. "
                "Filters you can use:"
            ),
            format_html_join("", "<div><code>{}</code> — {}</div>", FILTERS.items()),
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return [f.name for f in Campaign._meta.fields if f.name != "id"] + [
                "variables_help"
            ]
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        # Runs and their messages are history; a sent campaign stays.
        if obj is not None and obj.status != CampaignStatus.DRAFT:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        try:
            campaign_save(campaign=obj, user=request.user)
        except ServiceError as exc:
            raise ServiceRefused(exc.message) from exc

    def delete_model(self, request, obj):
        campaign_delete(campaign=obj, actor=StaffActor.from_request(request))

    def delete_queryset(self, request, queryset):
        actor = StaffActor.from_request(request)
        for campaign in queryset:
            try:
                campaign_delete(campaign=campaign, actor=actor)
            except ServiceError as exc:
                self.message_user(request, f"{campaign}: {exc.message}", messages.ERROR)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        unknown = campaign_unknown_variables(form.instance)
        if unknown:
            self.message_user(
                request,
                gettext(
                    "These variables are not known and will print nothing: %(names)s."
                )
                % {"names": ", ".join(unknown)},
                messages.WARNING,
            )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def render_change_form(
        self, request, context, add=False, change=False, form_url="", obj=None
    ):
        if obj is not None:
            run = campaign_runs(campaign=obj).first()
            context["run"] = run
            context["run_progress"] = run_progress(run=run) if run else None
            context["can_send"] = obj.is_editable and self.has_change_permission(
                request, obj
            )
            context["can_cancel"] = obj.status in (
                CampaignStatus.DRAFT,
                CampaignStatus.SCHEDULED,
                CampaignStatus.SENDING,
            ) and self.has_change_permission(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- actions ---------------------------------------------------------------------

    @admin.action(description=_("Schedule the selected campaigns at their date"))
    def schedule_selected(self, request, queryset):
        done = 0
        for campaign in queryset:
            try:
                campaign_schedule(
                    campaign=campaign,
                    at=campaign.scheduled_at,
                    actor=StaffActor.from_request(request),
                )
            except ServiceError as exc:
                self.message_user(request, f"{campaign}: {exc.message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(n)d campaign scheduled.", "%(n)d campaigns scheduled.", done
                )
                % {"n": done},
                messages.SUCCESS,
            )

    @admin.action(description=_("Cancel the selected campaigns"))
    def cancel_selected(self, request, queryset):
        for campaign in queryset:
            try:
                campaign_cancel(
                    campaign=campaign, actor=StaffActor.from_request(request)
                )
            except ServiceError as exc:
                self.message_user(request, f"{campaign}: {exc.message}", messages.ERROR)

    # --- custom pages ----------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/send-now/",
                view(self.send_now_view),
                name="campaigns_campaign_send_now",
            ),
            path(
                "<path:object_id>/schedule/",
                view(self.schedule_view),
                name="campaigns_campaign_schedule",
            ),
            path(
                "<path:object_id>/cancel/",
                view(self.cancel_view),
                name="campaigns_campaign_cancel",
            ),
            path(
                "<path:object_id>/preview/",
                view(self.preview_view),
                name="campaigns_campaign_preview",
            ),
            path(
                "<path:object_id>/figures/",
                view(self.figures_view),
                name="campaigns_campaign_figures",
            ),
            path(
                "<path:object_id>/progress/",
                view(self.progress_view),
                name="campaigns_campaign_progress",
            ),
            *super().get_urls(),
        ]

    def _campaign(self, request, object_id, *, change: bool) -> Campaign:
        campaign = self.get_object(request, unquote(object_id))
        if campaign is None:
            raise Http404(gettext("No campaign with this id."))
        allowed = (
            self.has_change_permission(request, campaign)
            if change
            else self.has_view_or_change_permission(request, campaign)
        )
        if not allowed:
            raise PermissionDenied
        return campaign

    def _change_url(self, campaign: Campaign) -> str:
        return reverse("admin:campaigns_campaign_change", args=[campaign.pk])

    def _post_action(self, request, object_id, work, done_message):
        if request.method != "POST":
            return HttpResponseRedirect(
                self._change_url(self._campaign(request, object_id, change=False))
            )
        campaign = self._campaign(request, object_id, change=True)
        try:
            work(campaign)
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.log_change(request, campaign, done_message)
            self.message_user(request, done_message, messages.SUCCESS)
        return HttpResponseRedirect(self._change_url(campaign))

    def send_now_view(self, request, object_id):
        return self._post_action(
            request,
            object_id,
            lambda c: campaign_send_now(
                campaign=c, actor=StaffActor.from_request(request)
            ),
            gettext("The campaign is being sent."),
        )

    def schedule_view(self, request, object_id):
        return self._post_action(
            request,
            object_id,
            lambda c: campaign_schedule(
                campaign=c, at=c.scheduled_at, actor=StaffActor.from_request(request)
            ),
            gettext("The campaign is scheduled."),
        )

    def cancel_view(self, request, object_id):
        return self._post_action(
            request,
            object_id,
            lambda c: campaign_cancel(
                campaign=c, actor=StaffActor.from_request(request)
            ),
            gettext("The campaign is cancelled."),
        )

    def preview_view(self, request, object_id):
        """The text as one member would get it; optionally sent to yourself."""
        campaign = self._campaign(request, object_id, change=False)
        data = request.POST if request.method == "POST" else (request.GET or None)
        form = PreviewForm(data)
        rendered = None
        if form.is_valid():
            member = form.cleaned_data["member"]
            label = form.cleaned_data["variant"]
            variant = campaign.variants.filter(label=label).first()
            if variant is None:
                form.add_error(
                    "variant",
                    gettext("This campaign has no variant %(label)s.")
                    % {"label": label},
                )
            elif request.method == "POST":
                try:
                    message = campaign_test_send(
                        campaign=campaign, member=member, user=request.user, label=label
                    )
                except ServiceError as exc:
                    self.message_user(request, exc.message, messages.ERROR)
                else:
                    self.message_user(
                        request,
                        gettext("A test was sent to %(to)s.") % {"to": message.to},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(request.get_full_path())
            else:
                language, subject, body = campaign_render(
                    campaign=campaign, variant=variant, member=member
                )
                rendered = {
                    "language": language,
                    "subject": subject,
                    "body": body,
                    "member": member,
                }
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Preview"),
            "subtitle": str(campaign),
            "opts": self.opts,
            "original": campaign,
            "form": form,
            "rendered": rendered,
            "change_url": self._change_url(campaign),
            "staff_email": request.user.email,
        }
        return TemplateResponse(
            request, "admin/campaigns/campaign/preview.html", context
        )

    def _run(self, request, campaign) -> CampaignRun | None:
        runs = campaign_runs(campaign=campaign)
        wanted = request.GET.get("run")
        if wanted and wanted.isdigit():
            return runs.filter(number=int(wanted)).first()
        return runs.first()

    def figures_view(self, request, object_id):
        """Figures of a run: a chart and a table, recipients by variant vs the holdout."""
        campaign = self._campaign(request, object_id, change=False)
        run = self._run(request, campaign)
        figures = run_figures(run=run) if run else None
        chart = None
        if figures:
            groups = [*figures.variants, figures.holdout]
            chart = {
                "labels": [
                    gettext("Holdout")
                    if g.name == "holdout"
                    else gettext("Variant %(label)s") % {"label": g.name}
                    for g in groups
                ],
                "conversion": [round(100 * (g.conversion or 0), 2) for g in groups],
                "revenue_per_member": [
                    float(g.revenue_per_member or 0) for g in groups
                ],
                "conversion_label": gettext("Bought within the window, %"),
                "revenue_label": gettext("Net revenue per member"),
            }
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Figures"),
            "subtitle": str(campaign),
            "opts": self.opts,
            "original": campaign,
            "run": run,
            "runs": campaign_runs(campaign=campaign),
            "figures": figures,
            "chart": chart,
            "change_url": self._change_url(campaign),
            "survey": campaign_survey_figures(campaign=campaign),
        }
        return TemplateResponse(
            request, "admin/campaigns/campaign/figures.html", context
        )

    def progress_view(self, request, object_id):
        """JSON for the change page while a run is sending (polled by campaign_progress.js)."""
        campaign = self._campaign(request, object_id, change=False)
        run = campaign_runs(campaign=campaign).first()
        if run is None:
            return JsonResponse({"status": campaign.status, "run": None})
        progress = run_progress(run=run)
        return JsonResponse(
            {
                "status": campaign.status,
                "run": run.number,
                "recipients": progress.recipients,
                "queued": progress.queued,
                "sending": progress.sending,
                "sent": progress.sent,
                "failed": progress.failed,
                "suppressed": progress.suppressed,
                "chunks_done": progress.chunks_done,
                "chunks_total": progress.chunks_total,
                "percent": progress.percent,
                "at": timezone.now().isoformat(),
            }
        )


__all__ = ["CampaignAdmin"]
