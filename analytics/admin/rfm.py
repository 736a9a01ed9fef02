"""Back office for RFM and customer value.

The RFM page (`admin:analytics_memberrfm_overview`) shows the segments as a
chart and a table with a CSV export, and turns a segment into a static
campaign segment with one click. The tables themselves are read-only: only
the nightly services write them.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from analytics.admin.clv import clv_context
from analytics.models import MemberRFM, RFMSegment
from analytics.selectors.rfm import (
    rfm_last_computed_at,
    rfm_segment_summary,
    rfm_window_days,
)
from analytics.services.rfm import rfm_segment_to_campaign_segment
from members.admin_base import ReadOnlyAdminMixin
from members.csvexport import csv_response
from members.errors import ServiceError
from members.formatting import number_format

SEGMENT_ADD_PERMISSION = "campaigns.add_segment"


@admin.register(MemberRFM)
class MemberRFMAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "member",
        "segment",
        "code",
        "recency_days",
        "frequency",
        "monetary",
        "historic_value",
        "predicted_value",
        "churn_risk",
        "computed_at",
    )
    list_filter = ("segment", "churn_risk", "r_score", "f_score", "m_score")
    list_select_related = ("member",)
    search_fields = (
        "member__card_number",
        "member__phone",
        "member__email",
        "member__last_name",
    )
    search_help_text = gettext_lazy("Card number, phone, email or last name.")
    change_list_template = "admin/analytics/rfm_change_list.html"

    @admin.display(description=gettext_lazy("RFM"))
    def code(self, obj: MemberRFM) -> str:
        return obj.code

    def get_urls(self):
        def wrap(view, method):
            return self.admin_site.admin_view(method(view))

        return [
            path(
                "overview/",
                wrap(self.overview_view, require_GET),
                name="analytics_memberrfm_overview",
            ),
            path(
                "overview/csv/",
                wrap(self.csv_view, require_GET),
                name="analytics_memberrfm_csv",
            ),
            path(
                "to-segment/",
                wrap(self.to_segment_view, require_POST),
                name="analytics_memberrfm_to_segment",
            ),
            *super().get_urls(),
        ]

    def _require_view(self, request) -> None:
        if not self.has_view_permission(request):
            raise PermissionDenied

    def overview_view(self, request):
        self._require_view(request)
        summary = rfm_segment_summary()
        chart = {
            "labels": [row.label for row in summary],
            "members": [row.members for row in summary],
            "revenue": [float(row.revenue) for row in summary],
            "membersLabel": _("Members"),
            "revenueLabel": _("Net spend in window"),
        }
        context = {
            **self.admin_site.each_context(request),
            "title": _("RFM segments"),
            "opts": self.model._meta,
            "summary": summary,
            "chart": chart,
            "total_members": sum(row.members for row in summary),
            "computed_at": rfm_last_computed_at(),
            "window_days": rfm_window_days(),
            "can_make_segment": request.user.has_perm(SEGMENT_ADD_PERMISSION),
            "changelist_url": reverse("admin:analytics_memberrfm_changelist"),
            **clv_context(),
        }
        return TemplateResponse(request, "admin/analytics/rfm_overview.html", context)

    def csv_view(self, request):
        self._require_view(request)
        stamp = timezone.localdate().isoformat()
        rows = [
            [
                "segment",
                "name",
                "members",
                "share",
                "net_spend_in_window",
                "net_spend_to_date",
                "predicted_value_12m",
                "avg_recency_days",
                "avg_frequency",
            ]
        ]
        for row in rfm_segment_summary():
            rows.append(
                [
                    row.segment,
                    row.label,
                    row.members,
                    f"{row.share:.4f}",
                    f"{row.revenue:.2f}",
                    f"{row.historic_value:.2f}",
                    f"{row.predicted_value:.2f}",
                    f"{row.avg_recency_days:.1f}",
                    f"{row.avg_frequency:.2f}",
                ]
            )
        return csv_response(f"rfm-{stamp}.csv", rows)

    def to_segment_view(self, request):
        self._require_view(request)
        if not request.user.has_perm(SEGMENT_ADD_PERMISSION):
            raise PermissionDenied
        overview = reverse("admin:analytics_memberrfm_overview")
        name = request.POST.get("segment", "")
        if name not in RFMSegment.values:
            self.message_user(
                request,
                _("Choose one of the RFM segments (got “%(name)s”).") % {"name": name},
                messages.ERROR,
            )
            return HttpResponseRedirect(overview)
        try:
            segment = rfm_segment_to_campaign_segment(
                segment=name, created_by=request.user
            )
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(overview)
        count = segment.static_members.count()
        self.message_user(
            request,
            ngettext(
                "Campaign segment “%(name)s” created with %(count)s member.",
                "Campaign segment “%(name)s” created with %(count)s members.",
                count,
            )
            % {"name": segment.name, "count": number_format(count)},
            messages.SUCCESS,
        )
        try:
            return HttpResponseRedirect(
                reverse("admin:campaigns_segment_change", args=[segment.pk])
            )
        except NoReverseMatch:  # the segments admin arrives with its own area
            return HttpResponseRedirect(overview)
