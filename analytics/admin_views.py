"""The analytics dashboards in the back office (Overview, Program, Cohorts), their
CSV exports, and the admin of the figures staff enter (store sales, marketing
spend). Every page reads the snapshot tables through analytics.selectors.

URLs (admin namespace): analytics_overview, analytics_program,
analytics_cohorts, analytics_churn, analytics_export (…/export/<table>/ with the page's query)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from analytics import selectors
from analytics.metrics import METRICS, metric_definitions
from analytics.models import MarketingSpend, StoreSales
from members.csvexport import csv_response
from members.models import Store

DASHBOARD_PERMISSION = "analytics.view_dashboard"


def dashboard_allowed(user) -> bool:
    return user.is_active and user.is_staff and user.has_perm(DASHBOARD_PERMISSION)


def analytics_urls(site) -> list:
    """The dashboard URLs, mounted by LoyaltyAdminSite.get_urls."""
    return [
        path(
            "analytics/dashboard/",
            site.admin_view(overview_view),
            name="analytics_overview",
        ),
        path(
            "analytics/dashboard/program/",
            site.admin_view(program_view),
            name="analytics_program",
        ),
        path(
            "analytics/dashboard/cohorts/",
            site.admin_view(cohorts_view),
            name="analytics_cohorts",
        ),
        path(
            "analytics/dashboard/churn/",
            site.admin_view(churn_view),
            name="analytics_churn",
        ),
        path(
            "analytics/dashboard/export/<slug:table>/",
            site.admin_view(export_view),
            name="analytics_export",
        ),
    ]


# --- the tables: one definition feeds the page and its CSV ----------------------------


def _fmt(value) -> str:
    return "" if value is None else str(value)


def kpi_table(period, store_id, keys=None) -> tuple[list[str], list[list]]:
    cards = selectors.kpis(period, store_id, keys)
    headers = [
        gettext("Metric"),
        gettext("Period"),
        gettext("Previous period"),
        gettext("Change"),
        gettext("Definition"),
    ]
    rows = []
    for key in keys or METRICS:
        k = cards[key]
        change = "" if k.change is None else f"{k.change} {k.change_unit}"
        rows.append(
            [str(k.label), _fmt(k.value), _fmt(k.previous), change, str(k.definition)]
        )
    return headers, rows


def _dict_table(rows: list[dict], columns: list[tuple[str, str]]):
    return [str(label) for _key, label in columns], [
        [_fmt(r[key]) for key, _label in columns] for r in rows
    ]


STORE_COLUMNS = [
    ("store", _("Store")),
    ("purchases", _("Purchases")),
    ("sales", _("Sales")),
    ("aov", _("Average order value")),
    ("enrollments", _("New members")),
    ("active_members", _("Active members")),
    ("participation", _("Participation, %")),
]
DAILY_COLUMNS = [
    ("day", _("Day")),
    ("purchases", _("Purchases")),
    ("sales", _("Sales")),
    ("buyers", _("Buyers")),
    ("enrollments", _("New members")),
    ("points_issued", _("Points issued")),
    ("points_redeemed", _("Points redeemed")),
    ("points_expired", _("Points expired")),
]
POINTS_COLUMNS = [
    ("month", _("Month")),
    ("points_issued", _("Points issued")),
    ("points_redeemed", _("Points redeemed")),
    ("points_expired", _("Points expired")),
    ("points_outstanding", _("Outstanding points at the month's end")),
    ("liability", _("Liability (money)")),
    ("vouchers_issued", _("Vouchers issued")),
    ("vouchers_used", _("Vouchers used")),
]
VOUCHER_COLUMNS = [
    ("source", _("Source")),
    ("issued", _("Issued")),
    ("used", _("Used")),
    ("use_rate", _("Used, %")),
]
CAMPAIGN_COLUMNS = [
    ("campaign", _("Campaign")),
    ("runs", _("Runs")),
    ("recipients", _("Recipients")),
    ("held_out", _("Held out")),
    ("revenue", _("Recipients' revenue")),
    ("revenue_per_recipient", _("Revenue per recipient")),
    ("revenue_per_held_out", _("Revenue per held-out member")),
    ("incremental", _("Revenue over the holdout")),
    ("spend", _("Marketing spend")),
    ("return_on_spend", _("Return on spend")),
]
TIER_COLUMNS = [
    ("tier", _("Tier")),
    ("members", _("Members")),
    ("share", _("Share, %")),
]


# How the page writes each column (the CSV keeps plain numbers); a column not
# named here is text, or a number written with the locale's separators.
COLUMN_FORMATS = {
    "sales": "money",
    "aov": "money",
    "liability": "money",
    "revenue": "money",
    "revenue_per_recipient": "money",
    "revenue_per_held_out": "money",
    "incremental": "money",
    "spend": "money",
    "participation": "percent",
    "use_rate": "percent",
    "share": "percent",
}


def page_columns(columns) -> list[tuple[str, str]]:
    """(key, format) of each column, for admin/analytics/_table.html."""
    return [(key, COLUMN_FORMATS.get(key, "number")) for key, _label in columns]


def cohort_table(matrix) -> tuple[list[str], list[list]]:
    headers = [gettext("Enrollment month"), gettext("Members")] + [
        gettext("Month %(n)s") % {"n": o} for o in matrix["offsets"]
    ]
    rows = []
    for r in matrix["rows"]:
        rows.append(
            [r["cohort"], r["members"]]
            + [_fmt(c["pct"]) for c in r["cells"]]
            + [""] * (len(matrix["offsets"]) - len(r["cells"]))
        )
    return headers, rows


def _table(name: str, period, store_id):
    """(headers, rows) of one exportable table, or Http404."""
    if name == "overview":
        from analytics.selectors import OVERVIEW_KPIS

        return kpi_table(period, store_id, OVERVIEW_KPIS)
    if name == "program":
        from analytics.selectors import PROGRAM_KPIS

        return kpi_table(period, store_id, PROGRAM_KPIS)
    if name == "metrics":
        return kpi_table(period, store_id)
    if name == "stores":
        return _dict_table(selectors.store_table(period), STORE_COLUMNS)
    if name == "daily":
        return _dict_table(selectors.daily_series(period, store_id), DAILY_COLUMNS)
    if name == "points":
        return _dict_table(selectors.monthly_points(period), POINTS_COLUMNS)
    if name == "campaigns":
        return _dict_table(selectors.campaign_returns(period), CAMPAIGN_COLUMNS)
    if name == "vouchers":
        return _dict_table(selectors.voucher_sources(period), VOUCHER_COLUMNS)
    if name == "tiers":
        return _dict_table(
            selectors.tier_table(selectors.program_state_latest()), TIER_COLUMNS
        )
    if name == "cohorts":
        return cohort_table(
            selectors.cohort_matrix(last=period.last, store_id=store_id)
        )
    if name == "churn_reasons":
        from analytics.churn_reasons import TOPIC_COLUMNS, churn_complaint_topics

        return _dict_table(churn_complaint_topics(period, store_id), TOPIC_COLUMNS)
    if name == "definitions":
        return [gettext("Key"), gettext("Metric"), gettext("Definition")], [
            list(d) for d in metric_definitions()
        ]
    raise Http404(gettext("No such table."))


# --- views -----------------------------------------------------------------------------


def _context(request, title: str, page: str):
    if not dashboard_allowed(request.user):
        raise PermissionDenied
    period, store_id, errors = selectors.period_from_params(request.GET)
    query = {"from": f"{period.first:%Y-%m}", "to": f"{period.last:%Y-%m}"}
    if store_id:
        query["store"] = store_id
    qs = urlencode(query)

    def csv_url(table):
        return reverse("admin:analytics_export", args=[table]) + "?" + qs

    return (
        period,
        store_id,
        {
            **admin.site.each_context(request),
            "title": title,
            "page": page,
            "period": period,
            "previous": period.previous(),
            "store_id": store_id,
            "stores": list(Store.objects.order_by("name").values("id", "name")),
            "errors": errors,
            "query": qs,
            "csv": {
                t: csv_url(t)
                for t in (
                    "overview",
                    "program",
                    "metrics",
                    "stores",
                    "daily",
                    "points",
                    "vouchers",
                    "campaigns",
                    "tiers",
                    "cohorts",
                    "churn_reasons",
                    "definitions",
                )
            },
            "nav": [
                (
                    "overview",
                    gettext("Overview"),
                    reverse("admin:analytics_overview") + "?" + qs,
                ),
                (
                    "program",
                    gettext("Program"),
                    reverse("admin:analytics_program") + "?" + qs,
                ),
                (
                    "cohorts",
                    gettext("Cohorts"),
                    reverse("admin:analytics_cohorts") + "?" + qs,
                ),
                (
                    "churn",
                    gettext("Churn reasons"),
                    reverse("admin:analytics_churn") + "?" + qs,
                ),
            ],
            "state": selectors.program_state_latest(),
        },
    )


def _cards(period, store_id, keys):
    cards = selectors.kpis(period, store_id, keys)
    return [cards[k] for k in keys]


def overview_view(request):
    """KPI cards with the change against the previous period, sales and
    enrollments over time, the stores side by side, campaigns against their
    holdout and spend."""
    period, store_id, context = _context(
        request, gettext("Analytics: overview"), "overview"
    )
    daily = selectors.daily_series(period, store_id)
    labels = [d["day"] for d in daily]
    acquisition = None
    if store_id:
        # A store's acquisition cost carries a share of the program-wide
        # spend: the card says how much and by what rule.
        acquisition = selectors.acquisition_spend(period, store_id)["cur"]
        if not acquisition.program_wide:
            acquisition = None
    context.update(
        acquisition=acquisition,
        cards=_cards(period, store_id, selectors.OVERVIEW_KPIS),
        store_rows=selectors.store_table(period),
        store_headers=[str(label) for _k, label in STORE_COLUMNS],
        store_keys=page_columns(STORE_COLUMNS),
        campaign_rows=selectors.campaign_returns(period),
        campaign_headers=[str(label) for _k, label in CAMPAIGN_COLUMNS],
        campaign_keys=page_columns(CAMPAIGN_COLUMNS),
        charts={
            "sales": {
                "type": "line",
                "labels": labels,
                "datasets": [
                    {
                        "label": gettext("Sales"),
                        "data": [float(d["sales"]) for d in daily],
                    },
                ],
            },
            "activity": {
                "type": "bar",
                "labels": labels,
                "datasets": [
                    {
                        "label": gettext("Purchases"),
                        "data": [d["purchases"] for d in daily],
                    },
                    {
                        "label": gettext("New members"),
                        "data": [d["enrollments"] for d in daily],
                    },
                ],
            },
        },
    )
    return TemplateResponse(request, "admin/analytics/overview.html", context)


def program_view(request):
    """Points (issued, redeemed, expired, outstanding, liability), vouchers by
    source, members per tier and tier moves, referrals, points owed."""
    period, store_id, context = _context(
        request, gettext("Analytics: program"), "program"
    )
    points = selectors.monthly_points(period)
    labels = [p["month"] for p in points]
    context.update(
        cards=_cards(period, store_id, selectors.PROGRAM_KPIS),
        points_rows=points,
        points_headers=[str(label) for _k, label in POINTS_COLUMNS],
        points_keys=page_columns(POINTS_COLUMNS),
        voucher_rows=selectors.voucher_sources(period),
        voucher_headers=[str(label) for _k, label in VOUCHER_COLUMNS],
        voucher_keys=page_columns(VOUCHER_COLUMNS),
        tier_rows=selectors.tier_table(context["state"]),
        tier_headers=[str(label) for _k, label in TIER_COLUMNS],
        tier_keys=page_columns(TIER_COLUMNS),
        charts={
            "points": {
                "type": "bar",
                "labels": labels,
                "datasets": [
                    {
                        "label": gettext("Points issued"),
                        "data": [p["points_issued"] for p in points],
                    },
                    {
                        "label": gettext("Points redeemed"),
                        "data": [p["points_redeemed"] for p in points],
                    },
                    {
                        "label": gettext("Points expired"),
                        "data": [p["points_expired"] for p in points],
                    },
                ],
            },
            "liability": {
                "type": "line",
                "labels": labels,
                "datasets": [
                    {
                        "label": gettext("Outstanding points"),
                        "data": [p["points_outstanding"] for p in points],
                    },
                ],
            },
        },
    )
    return TemplateResponse(request, "admin/analytics/program.html", context)


def cohorts_view(request):
    """Retention by enrollment month as a heat map: the share of each cohort
    that bought in each month after it enrolled."""
    period, store_id, context = _context(
        request, gettext("Analytics: cohorts"), "cohorts"
    )
    matrix = selectors.cohort_matrix(last=period.last, store_id=store_id)
    # The average retention curve over the cohorts that reached each offset.
    curve = []
    for offset in matrix["offsets"]:
        cells = [r["cells"][offset] for r in matrix["rows"] if len(r["cells"]) > offset]
        sizes = sum(r["members"] for r in matrix["rows"] if len(r["cells"]) > offset)
        active = sum(c["active"] for c in cells)
        curve.append(round(active * 100 / sizes, 1) if sizes else None)
    context.update(
        matrix=matrix,
        charts={
            "curve": {
                "type": "line",
                "labels": [
                    gettext("Month %(n)s") % {"n": o} for o in matrix["offsets"]
                ],
                "datasets": [
                    {"label": gettext("Bought (percent of cohort)"), "data": curve}
                ],
            }
        },
    )
    return TemplateResponse(request, "admin/analytics/cohorts.html", context)


def churn_view(request):
    """What the members who churned in the period complained about (by topic,
    chart and table) and their newest low-scored survey comments."""
    from analytics import churn_reasons

    period, store_id, context = _context(
        request, gettext("Analytics: churn reasons"), "churn"
    )
    topics = churn_reasons.churn_complaint_topics(period, store_id)
    context.update(
        definition=churn_reasons.definition_text(),
        topic_rows=topics,
        topic_headers=[str(label) for _k, label in churn_reasons.TOPIC_COLUMNS],
        topic_keys=page_columns(churn_reasons.TOPIC_COLUMNS),
        comments=churn_reasons.churn_low_comments(period, store_id),
        charts={
            "topics": {
                "type": "bar",
                "labels": [t["label"] for t in topics],
                "datasets": [
                    {
                        "label": gettext("Complaints"),
                        "data": [t["complaints"] for t in topics],
                    }
                ],
            }
        },
    )
    return TemplateResponse(request, "admin/analytics/churn.html", context)


def export_view(request, table: str):
    """Any dashboard table as CSV, for the period and store of the page."""
    if not dashboard_allowed(request.user):
        raise PermissionDenied
    period, store_id, _errors = selectors.period_from_params(request.GET)
    headers, rows = _table(table, period, store_id)
    name = f"analytics-{table}-{period.first:%Y-%m}-{period.last:%Y-%m}"
    if store_id:
        name += f"-store{store_id}"
    return csv_response(f"{name}.csv", [headers, *rows])


# --- what staff enter -----------------------------------------------------------------


@admin.register(StoreSales)
class StoreSalesAdmin(admin.ModelAdmin):
    """All sales of a store per day, from the tills' daily report (Managers)."""

    list_display = ("day", "store", "total", "receipts", "entered_by")
    list_filter = ("store", "day")
    search_fields = ("store__name", "store__code")
    list_select_related = ("store", "entered_by")
    date_hierarchy = "day"
    fields = ("store", "day", "total", "receipts")

    def save_model(self, request, obj, form, change):
        from analytics.services import store_sales_save

        store_sales_save(row=obj, entered_by=request.user)


class MarketingSpendForm(forms.ModelForm):
    class Meta:
        model = MarketingSpend
        fields = ("month", "amount", "kind", "store", "campaign", "note")

    def clean_month(self):
        # Any day stands for its month (the row is per month).
        return self.cleaned_data["month"].replace(day=1)


@admin.register(MarketingSpend)
class MarketingSpendAdmin(admin.ModelAdmin):
    """Marketing spend per month, for a store or the whole program, optionally
    per campaign; acquisition spend makes the acquisition cost."""

    form = MarketingSpendForm

    list_display = (
        "month",
        "kind",
        "store",
        "campaign",
        "amount",
        "note",
        "entered_by",
    )
    list_filter = ("kind", "store", "month")
    search_fields = ("campaign", "note", "store__name")
    list_select_related = ("store", "entered_by")
    fields = ("month", "amount", "kind", "store", "campaign", "note")

    def save_model(self, request, obj, form, change):
        from analytics.services import marketing_spend_save

        marketing_spend_save(row=obj, entered_by=request.user)
