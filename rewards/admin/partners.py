"""Back office for coalition partners: the partners, and the monthly settlement
with each (points issued and redeemed through them, in money), on a page and
as CSV."""

from __future__ import annotations

import datetime as dt

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext

from members.admin_base import (
    PartnerScopedAdminMixin,
    TranslatedAdmin,
    every_language,
    staff_partner_id,
)
from members.audit import StaffActor
from members.csvexport import csv_response
from members.models import Partner
from members.services import partner_save
from rewards.selectors.partners import PartnerSettlement, partner_settlements

SETTLEMENT_PERMISSION = "members.view_partner"


def settlement_month(raw: str | None) -> dt.date:
    """ "2026-10" → 1 October 2026; anything else → the previous month, the one
    usually settled."""
    try:
        year, month = (int(part) for part in (raw or "").split("-"))
        return dt.date(year, month, 1)
    except ValueError:
        first = timezone.localdate().replace(day=1)
        return (first - dt.timedelta(days=1)).replace(day=1)


def settlement_columns() -> list[tuple[str, str]]:
    """(attribute, translated header) of each settlement column, page and CSV."""
    return [
        ("partner", gettext("Partner")),
        ("points_earned", gettext("Points earned at its stores")),
        ("points_clawed_back", gettext("Points taken back on returns")),
        ("points_issued", gettext("Points issued")),
        ("points_redeemed_at_till", gettext("Points redeemed at its tills")),
        ("voucher_count", gettext("Vouchers used")),
        ("voucher_points", gettext("Points of the vouchers used")),
        ("points_redeemed", gettext("Points redeemed")),
        ("point_value", gettext("Value of one point")),
        ("issued_value", gettext("Value issued (partner pays)")),
        ("redeemed_value", gettext("Value redeemed (program pays)")),
        ("net_value", gettext("Net (positive: partner pays)")),
    ]


def _settlements(request, month: dt.date) -> list[PartnerSettlement]:
    """Every partner's settlement, or only its own for a partner's staff."""
    partner_id = staff_partner_id(request.user)
    return partner_settlements(
        month=month, partner_ids=None if partner_id is None else [partner_id]
    )


def _row(settlement: PartnerSettlement, columns) -> list[str]:
    return [str(getattr(settlement, name)) for name, _header in columns]


@admin.register(Partner)
class PartnerAdmin(PartnerScopedAdminMixin, TranslatedAdmin):
    """The partners and their settlement. A partner's staff see their own
    partner and its settlement only."""

    partner_list_display = ("name", "contact_email", "contact_phone", "point_value")
    partner_search_fields = ("name",)
    list_display = (
        "name",
        "contact_email",
        "contact_phone",
        "point_value",
        "is_active",
    )
    list_filter = ("is_active",)
    search_fields = (
        "name",
        "contact_email",
        "contact_phone",
        *every_language("description"),
    )
    list_select_related = ()
    fields = (
        "name",
        "description",
        "contact_email",
        "contact_phone",
        "point_value",
        "is_active",
    )

    def partner_queryset(self, queryset, partner_id: int):
        return queryset.filter(pk=partner_id)

    def has_delete_permission(self, request, obj=None):
        return False  # stores and rewards point at it; deactivate instead

    def save_model(self, request, obj, form, change):
        partner_save(partner=obj, actor=StaffActor.from_request(request))

    def changelist_view(self, request, extra_context=None):
        context = dict(extra_context or {})
        context["settlement_url"] = reverse("admin:members_partner_settlement")
        return super().changelist_view(request, context)

    def get_urls(self):
        return [
            path(
                "settlement/",
                self.admin_site.admin_view(self.settlement_view),
                name="members_partner_settlement",
            ),
            path(
                "settlement/csv/",
                self.admin_site.admin_view(self.settlement_csv_view),
                name="members_partner_settlement_csv",
            ),
            *super().get_urls(),
        ]

    def settlement_view(self, request):
        if not request.user.has_perm(SETTLEMENT_PERMISSION):
            raise PermissionDenied
        month = settlement_month(request.GET.get("month"))
        columns = settlement_columns()
        rows = [_row(s, columns) for s in _settlements(request, month)]
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Partner settlement"),
            "opts": self.opts,
            "month": month,
            "month_value": f"{month:%Y-%m}",
            "headers": [header for _name, header in columns],
            "rows": rows,
            "csv_url": reverse("admin:members_partner_settlement_csv")
            + f"?month={month:%Y-%m}",
        }
        return TemplateResponse(
            request, "admin/members/partner/settlement.html", context
        )

    def settlement_csv_view(self, request):
        if not request.user.has_perm(SETTLEMENT_PERMISSION):
            raise PermissionDenied
        month = settlement_month(request.GET.get("month"))
        columns = settlement_columns()
        header = [gettext("Month"), *(h for _n, h in columns)]
        rows = (
            [f"{month:%Y-%m}", *_row(settlement, columns)]
            for settlement in _settlements(request, month)
        )
        return csv_response(f"partner-settlement-{month:%Y-%m}.csv", [header, *rows])
