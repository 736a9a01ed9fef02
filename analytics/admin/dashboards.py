"""The analytics dashboards in the back office (Overview, Program, Cohorts, Churn
reasons) and their CSV exports. Every page reads the snapshot tables through
analytics.selectors; the member figures of a period are kept for the next
visitor (analytics.services.period_stats).

URLs (admin namespace): analytics_overview, analytics_program,
analytics_cohorts, analytics_demographics, analytics_churn, analytics_export (…/export/<table>/ with the page's query)."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext

from analytics.admin.charts import ChartUnit, chart_spec
from analytics.admin.dashboard_tables import (
    CAMPAIGN_COLUMNS,
    DEMOGRAPHIC_COHORT_TABLES,
    DEMOGRAPHIC_COLUMNS,
    DEMOGRAPHIC_TABLES,
    POINTS_COLUMNS,
    REWARD_RATE_GROUPS,
    SOURCE_TABLES,
    STORE_COLUMNS,
    TIER_COLUMNS,
    VOUCHER_COLUMNS,
    export_table,
    member_figures_keep,
    page_columns,
    reward_rate_caption,
    reward_rate_columns,
    reward_rate_rows,
)
from analytics.admin.surveys import survey_urls
from analytics.models import RFMSegment
from analytics.selectors.acquisition import acquisition_spend
from analytics.selectors.campaign_returns import campaign_returns
from analytics.selectors.churn_asked import (
    ASKED_COLUMNS,
    ASKED_DEFINITION,
    churn_answered_share,
    churn_asked_reasons,
    saved_segment_from_params,
    segment_from_params,
)
from analytics.selectors.churn_reasons import (
    TOPIC_COLUMNS,
    churn_complaint_topics,
    churn_low_comments,
    definition_text,
)
from analytics.selectors.cohorts import cohort_matrix
from analytics.selectors.demographics import (
    GROUPINGS,
    demographic_cohorts,
    demographic_kpis,
)
from analytics.selectors.kpis import OVERVIEW_KPIS, PROGRAM_KPIS, kpis
from analytics.selectors.periods import day_bounds, period_from_params
from analytics.selectors.sources import (
    CHANNEL_COLUMNS,
    CHANNEL_STORE_COLUMNS,
    UTM_COLUMNS,
    acquisition_by_channel,
    acquisition_by_channel_store,
    acquisition_by_utm,
    channel_store_cells,
)
from analytics.selectors.tables import (
    daily_series,
    monthly_points,
    program_state_latest,
    store_table,
    tier_table,
    voucher_sources,
)
from analytics.services.period_stats import active_by_store_keep
from campaigns.models import Segment
from members.csvexport import csv_response
from members.models import Store
from members.replica import replica_reads
from rewards.selectors.program import program_settings_get
from rewards.selectors.reward_rate import reward_rate_total, reward_rates

DASHBOARD_PERMISSION = "analytics.view_dashboard"


def dashboard_allowed(user) -> bool:
    return user.is_active and user.is_staff and user.has_perm(DASHBOARD_PERMISSION)


def analytics_urls(site) -> list:
    """The dashboard URLs, mounted by LoyaltyAdminSite.get_urls. The
    dashboards and their exports read the replica when there is one
    (members.replica): the admin's login and permission checks around them
    do not."""
    return survey_urls(site) + [
        path(
            "analytics/dashboard/",
            site.admin_view(replica_reads()(overview_view)),
            name="analytics_overview",
        ),
        path(
            "analytics/dashboard/program/",
            site.admin_view(replica_reads()(program_view)),
            name="analytics_program",
        ),
        path(
            "analytics/dashboard/cohorts/",
            site.admin_view(replica_reads()(cohorts_view)),
            name="analytics_cohorts",
        ),
        path(
            "analytics/dashboard/age-gender/",
            site.admin_view(replica_reads()(demographics_view)),
            name="analytics_demographics",
        ),
        path(
            "analytics/dashboard/churn/",
            site.admin_view(replica_reads()(churn_view)),
            name="analytics_churn",
        ),
        path(
            "analytics/dashboard/acquisition/",
            site.admin_view(replica_reads()(acquisition_view)),
            name="analytics_acquisition",
        ),
        path(
            "analytics/dashboard/export/<slug:table>/",
            site.admin_view(replica_reads()(export_view)),
            name="analytics_export",
        ),
    ]


# --- views -----------------------------------------------------------------------------


def _context(request, title: str, page: str):
    if not dashboard_allowed(request.user):
        raise PermissionDenied
    period, store_id, errors = period_from_params(request.GET)
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
                    *DEMOGRAPHIC_TABLES,
                    *DEMOGRAPHIC_COHORT_TABLES,
                    *SOURCE_TABLES,
                    *REWARD_RATE_GROUPS,
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
                    "demographics",
                    gettext("Age and gender"),
                    reverse("admin:analytics_demographics") + "?" + qs,
                ),
                (
                    "churn",
                    gettext("Churn reasons"),
                    reverse("admin:analytics_churn") + "?" + qs,
                ),
                ("surveys", gettext("Surveys"), reverse("admin:analytics_surveys")),
                (
                    "acquisition",
                    gettext("Acquisition"),
                    reverse("admin:analytics_acquisition") + "?" + qs,
                ),
            ],
            "state": program_state_latest(),
        },
    )


def _cards(period, store_id, keys):
    cards = kpis(
        period,
        store_id,
        keys,
        member_figures=member_figures_keep(period, store_id, keys),
    )
    return [cards[k] for k in keys]


def overview_view(request):
    """KPI cards with the change against the previous period, sales and
    enrollments over time, the stores side by side, campaigns against their
    holdout and spend."""
    period, store_id, context = _context(
        request, gettext("Analytics: overview"), "overview"
    )
    daily = daily_series(period, store_id)
    labels = [d["day"] for d in daily]
    acquisition = None
    if store_id:
        # A store's acquisition cost carries a share of the program-wide
        # spend: the card says how much and by what rule.
        acquisition = acquisition_spend(period, store_id)["cur"]
        if not acquisition.program_wide:
            acquisition = None
    context.update(
        acquisition=acquisition,
        cards=_cards(period, store_id, OVERVIEW_KPIS),
        store_rows=store_table(period, active=active_by_store_keep(period=period)),
        store_headers=[str(label) for _k, label in STORE_COLUMNS],
        store_keys=page_columns(STORE_COLUMNS),
        campaign_rows=campaign_returns(period),
        campaign_headers=[str(label) for _k, label in CAMPAIGN_COLUMNS],
        campaign_keys=page_columns(CAMPAIGN_COLUMNS),
        charts={
            "sales": chart_spec(
                kind="line",
                labels=labels,
                datasets=[(gettext("Sales"), [float(d["sales"]) for d in daily])],
                unit=ChartUnit.MONEY,
            ),
            "activity": chart_spec(
                kind="bar",
                labels=labels,
                datasets=[
                    (gettext("Purchases"), [d["purchases"] for d in daily]),
                    (gettext("New members"), [d["enrollments"] for d in daily]),
                ],
                unit=ChartUnit.COUNT,
            ),
        },
    )
    return TemplateResponse(request, "admin/analytics/overview.html", context)


def _reward_rate(period, store_id) -> dict:
    """The effective reward rate of the period and the previous one, and the
    tables by month, store and tier (rewards.selectors.reward_rate)."""
    point_value = program_settings_get().point_value
    start, end = day_bounds(period.start, period.end)
    months = reward_rates(
        start=start, end=end, by="month", store_id=store_id, point_value=point_value
    )
    prev = period.previous()
    prev_start, prev_end = day_bounds(prev.start, prev.end)
    previous = reward_rates(
        start=prev_start, end=prev_end, store_id=store_id, point_value=point_value
    )[0]
    tables = [
        {
            "name": table,
            "caption": reward_rate_caption(table),
            "headers": [str(label) for _k, label in reward_rate_columns(table)],
            "keys": page_columns(reward_rate_columns(table)),
            "rows": reward_rate_rows(
                table,
                period,
                store_id,
                rates=months if table == "rate_months" else None,
                point_value=point_value,
            ),
        }
        for table in REWARD_RATE_GROUPS
    ]
    month_rows = tables[0]["rows"]
    return {
        "current": reward_rate_total(months),
        "previous": previous,
        "tables": tables,
        "chart": {
            "type": "line",
            "labels": [row["group"] for row in month_rows],
            "datasets": [
                {
                    "label": gettext("Effective reward rate, %"),
                    "data": [
                        None
                        if row["reward_rate"] is None
                        else float(row["reward_rate"])
                        for row in month_rows
                    ],
                },
            ],
        },
    }


def program_view(request):
    """Points (issued, redeemed, expired, outstanding, liability), the effective
    reward rate by month, store and tier, vouchers by source, members per tier
    and tier moves, referrals, points owed."""
    period, store_id, context = _context(
        request, gettext("Analytics: program"), "program"
    )
    points = monthly_points(period)
    labels = [p["month"] for p in points]
    context.update(
        reward_rate=_reward_rate(period, store_id),
        cards=_cards(period, store_id, PROGRAM_KPIS),
        points_rows=points,
        points_headers=[str(label) for _k, label in POINTS_COLUMNS],
        points_keys=page_columns(POINTS_COLUMNS),
        voucher_rows=voucher_sources(period),
        voucher_headers=[str(label) for _k, label in VOUCHER_COLUMNS],
        voucher_keys=page_columns(VOUCHER_COLUMNS),
        tier_rows=tier_table(context["state"]),
        tier_headers=[str(label) for _k, label in TIER_COLUMNS],
        tier_keys=page_columns(TIER_COLUMNS),
        charts={
            "points": chart_spec(
                kind="bar",
                labels=labels,
                datasets=[
                    (gettext("Points issued"), [p["points_issued"] for p in points]),
                    (
                        gettext("Points redeemed"),
                        [p["points_redeemed"] for p in points],
                    ),
                    (gettext("Points expired"), [p["points_expired"] for p in points]),
                ],
                unit=ChartUnit.COUNT,
            ),
            "liability": chart_spec(
                kind="line",
                labels=labels,
                datasets=[
                    (
                        gettext("Outstanding points"),
                        [p["points_outstanding"] for p in points],
                    )
                ],
                unit=ChartUnit.COUNT,
            ),
        },
    )
    return TemplateResponse(request, "admin/analytics/program.html", context)


def cohorts_view(request):
    """Retention by enrollment month as a heat map: the share of each cohort
    that bought in each month after it enrolled."""
    period, store_id, context = _context(
        request, gettext("Analytics: cohorts"), "cohorts"
    )
    matrix = cohort_matrix(last=period.last, store_id=store_id)
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
            "curve": chart_spec(
                kind="line",
                labels=[gettext("Month %(n)s") % {"n": o} for o in matrix["offsets"]],
                datasets=[(gettext("Bought (percent of cohort)"), curve)],
                unit=ChartUnit.PERCENT,
            )
        },
    )
    return TemplateResponse(request, "admin/analytics/cohorts.html", context)


def demographics_view(request):
    """The KPIs and the cohort retention by age band and by gender (tables,
    a chart of active members and sales per member by band, CSVs)."""
    period, store_id, context = _context(
        request, gettext("Analytics: age and gender"), "demographics"
    )
    tables = {by: demographic_kpis(period, store_id, by) for by in GROUPINGS}
    cohorts = {
        by: demographic_cohorts(last=period.last, by=by, store_id=store_id)
        for by in GROUPINGS
    }
    bands = tables["age_band"]
    context.update(
        tables=tables,
        cohort_tables=[
            (name, cohorts[by], context["csv"][name])
            for name, by in DEMOGRAPHIC_COHORT_TABLES.items()
        ],
        headers=[str(label) for _k, label in DEMOGRAPHIC_COLUMNS],
        keys=page_columns(DEMOGRAPHIC_COLUMNS),
        charts={
            "bands": chart_spec(
                kind="bar",
                labels=[r["label"] for r in bands],
                datasets=[
                    (gettext("Members"), [r["members"] for r in bands]),
                    (gettext("Active members"), [r["active"] for r in bands]),
                ],
                unit=ChartUnit.COUNT,
            ),
            "retention": chart_spec(
                kind="line",
                labels=[
                    gettext("Month %(n)s") % {"n": o}
                    for o in cohorts["age_band"]["offsets"]
                ],
                datasets=[
                    (
                        row["label"],
                        [
                            float(c["pct"]) if c["pct"] is not None else None
                            for c in row["cells"]
                        ],
                    )
                    for row in cohorts["age_band"]["rows"]
                    if row["members"]
                ],
                unit=ChartUnit.PERCENT,
            ),
        },
    )
    return TemplateResponse(request, "admin/analytics/demographics.html", context)


def churn_view(request):
    """Why members left, side by side: what they said when asked (the leaving
    question, by reason and trigger, and the share of the churned who answered)
    and what their complaints suggest (by topic), with their newest
    low-scored survey comments. Filters: period, store, RFM segment, saved
    segment."""
    period, store_id, context = _context(
        request, gettext("Analytics: churn reasons"), "churn"
    )
    segment, errors = segment_from_params(request.GET)
    saved, saved_errors = saved_segment_from_params(request.GET)
    extra = {"segment": segment, "saved_segment": saved.pk if saved else None}
    extra = {k: v for k, v in extra.items() if v}
    if extra:
        # The CSV links carry the segments too.
        context["query"] += "&" + urlencode(extra)
    for table in ("churn_reasons", "churn_asked"):
        context["csv"][table] = (
            reverse("admin:analytics_export", args=[table]) + "?" + context["query"]
        )
    topics = churn_complaint_topics(period, store_id, segment, saved=saved)
    asked = churn_asked_reasons(period, store_id, segment, saved=saved)
    context.update(
        errors=context["errors"] + errors + saved_errors,
        segment=segment,
        segments=RFMSegment.choices,
        saved_segment=saved,
        saved_segments=list(Segment.objects.order_by("name").values("id", "name")),
        definition=definition_text(),
        asked_definition=ASKED_DEFINITION,
        answered=churn_answered_share(period, store_id, segment, saved=saved),
        asked_rows=asked,
        asked_headers=[str(label) for _k, label in ASKED_COLUMNS],
        asked_keys=page_columns(ASKED_COLUMNS),
        topic_rows=topics,
        topic_headers=[str(label) for _k, label in TOPIC_COLUMNS],
        topic_keys=page_columns(TOPIC_COLUMNS),
        comments=churn_low_comments(period, store_id, segment, saved=saved),
        charts={
            "asked": chart_spec(
                kind="bar",
                labels=[r["label"] for r in asked],
                datasets=[(gettext("Answers"), [r["answers"] for r in asked])],
                unit=ChartUnit.COUNT,
            ),
            "topics": chart_spec(
                kind="bar",
                labels=[t["label"] for t in topics],
                datasets=[(gettext("Complaints"), [t["complaints"] for t in topics])],
                unit=ChartUnit.COUNT,
            ),
        },
    )
    return TemplateResponse(request, "admin/analytics/churn.html", context)


def acquisition_view(request):
    """Where the period's new members came from (source and store), what
    each channel cost per member, what they are worth (CLV), CLV:CAC and the
    months to pay back (analytics.selectors.sources); the UTM breakdown of
    the online sign-ups."""
    period, store_id, context = _context(
        request, gettext("Analytics: acquisition"), "acquisition"
    )
    cells = channel_store_cells(period)
    channels = acquisition_by_channel(period, store_id, cells=cells)
    labels = [row["label"] for row in channels]
    context.update(
        channel_rows=channels,
        channel_headers=[str(label) for _k, label in CHANNEL_COLUMNS],
        channel_keys=page_columns(CHANNEL_COLUMNS),
        store_rows=acquisition_by_channel_store(period, store_id, cells=cells),
        store_headers=[str(label) for _k, label in CHANNEL_STORE_COLUMNS],
        store_keys=page_columns(CHANNEL_STORE_COLUMNS),
        utm_rows=acquisition_by_utm(period, store_id),
        utm_headers=[str(label) for _k, label in UTM_COLUMNS],
        utm_keys=page_columns(UTM_COLUMNS),
        charts={
            "members": chart_spec(
                kind="bar",
                labels=labels,
                datasets=[
                    (gettext("New members"), [r["new_members"] for r in channels])
                ],
                unit=ChartUnit.COUNT,
            ),
            "value": chart_spec(
                kind="bar",
                labels=labels,
                datasets=[
                    (
                        gettext("Acquisition cost per member"),
                        [
                            None if r["cac"] is None else float(r["cac"])
                            for r in channels
                        ],
                    ),
                    (
                        gettext("CLV per member"),
                        [
                            None if r["clv"] is None else float(r["clv"])
                            for r in channels
                        ],
                    ),
                ],
                unit=ChartUnit.MONEY,
            ),
        },
    )
    return TemplateResponse(request, "admin/analytics/acquisition.html", context)


def export_view(request, table: str):
    """Any dashboard table as CSV, for the period and store of the page."""
    if not dashboard_allowed(request.user):
        raise PermissionDenied
    period, store_id, _errors = period_from_params(request.GET)
    segment, _errors = segment_from_params(request.GET)
    saved, saved_errors = saved_segment_from_params(request.GET)
    if saved_errors:  # a file filtered by nothing would pass for the segment's
        return HttpResponseBadRequest(" ".join(saved_errors))
    headers, rows = export_table(table, period, store_id, segment=segment, saved=saved)
    name = f"analytics-{table}-{period.first:%Y-%m}-{period.last:%Y-%m}"
    if store_id:
        name += f"-store{store_id}"
    if segment:
        name += f"-{segment}"
    if saved:
        name += f"-segment{saved.pk}"
    return csv_response(f"{name}.csv", [headers, *rows])
