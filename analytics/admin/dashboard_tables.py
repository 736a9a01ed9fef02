"""The dashboards' tables: one definition of each table's columns feeds the
page and its CSV export (admin:analytics_export)."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from analytics.selectors.campaign_returns import campaign_returns
from analytics.selectors.churn_asked import ASKED_COLUMNS, churn_asked_reasons
from analytics.selectors.churn_reasons import TOPIC_COLUMNS, churn_complaint_topics
from analytics.selectors.cohorts import cohort_matrix
from analytics.selectors.demographics import demographic_cohorts, demographic_kpis
from analytics.selectors.kpis import (
    OVERVIEW_KPIS,
    PROGRAM_KPIS,
    kpis,
    member_figures_needed,
)
from analytics.selectors.metrics import METRICS, metric_definitions
from analytics.selectors.periods import day_bounds, month_add
from analytics.selectors.sources import (
    CHANNEL_COLUMNS,
    CHANNEL_STORE_COLUMNS,
    UTM_COLUMNS,
    acquisition_by_channel,
    acquisition_by_channel_store,
    acquisition_by_utm,
)
from analytics.selectors.tables import (
    daily_series,
    monthly_points,
    program_state_latest,
    store_table,
    tier_table,
    voucher_sources,
)
from analytics.services.period_stats import (
    active_by_store_keep,
    period_member_figures_keep,
)
from rewards.selectors.reward_rate import reward_rates


def _fmt(value) -> str:
    return "" if value is None else str(value)


def member_figures_keep(period, store_id, keys) -> dict | None:
    """The member figures the cards of `keys` show, kept for the next visitor
    (analytics.services.period_stats); None when the cards show none."""
    if not member_figures_needed(keys):
        return None
    return period_member_figures_keep(period=period, store_id=store_id)


def kpi_table(period, store_id, keys=None) -> tuple[list[str], list[list]]:
    cards = kpis(
        period,
        store_id,
        keys,
        member_figures=member_figures_keep(period, store_id, keys),
    )
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
# The effective reward rate (rewards.selectors.reward_rate) by month, store and
# tier: the first column names the group.
REWARD_RATE_GROUPS = {
    "rate_months": ("month", _("Month"), _("Effective reward rate by month")),
    "rate_stores": ("store", _("Store"), _("Effective reward rate by store")),
    "rate_tiers": (
        "tier",
        _("Tier when they bought"),
        _("Effective reward rate by tier"),
    ),
}
REWARD_RATE_VALUES = [
    ("purchases", _("Purchases")),
    ("sales", _("Sales, less returns")),
    ("points", _("Points earned, less returns")),
    ("points_worth", _("Their worth")),
    ("reward_rate", _("Effective reward rate, %")),
]


def reward_rate_columns(table: str) -> list[tuple[str, str]]:
    return [("group", REWARD_RATE_GROUPS[table][1]), *REWARD_RATE_VALUES]


def reward_rate_caption(table: str) -> str:
    return str(REWARD_RATE_GROUPS[table][2])


def reward_rate_rows(
    table: str, period, store_id, *, rates: list | None = None, point_value=None
) -> list[dict]:
    """The rows of one reward rate table for the period (every month of it,
    those without purchases empty; the stores side by side whatever store
    the page shows); `rates`: the selector's rows, when already read."""
    by = REWARD_RATE_GROUPS[table][0]
    if rates is None:
        start, end = day_bounds(period.start, period.end)
        rates = reward_rates(
            start=start,
            end=end,
            by=by,
            store_id=None if by == "store" else store_id,
            point_value=point_value,
        )
    rows = [rate.as_row() for rate in rates]
    if by != "month":
        return rows
    found = {row["group"]: row for row in rows}
    out, month = [], period.first
    while month <= period.last:
        label = f"{month:%Y-%m}"
        out.append(
            found.get(label)
            or {"group": label, **dict.fromkeys(k for k, _l in REWARD_RATE_VALUES)}
        )
        month = month_add(month, 1)
    return out


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
    "points_worth": "money",
    "active_share": "percent",
    "sales_per_active": "money",
    "reward_rate": "percent",
    "own_spend": "money",
    "allocated": "money",
    "cac": "money",
    "clv": "money",
}
# The Acquisition page's tables (analytics.selectors.sources).
SOURCE_TABLES = {
    "channels": (acquisition_by_channel, CHANNEL_COLUMNS),
    "channel_stores": (acquisition_by_channel_store, CHANNEL_STORE_COLUMNS),
    "utm": (acquisition_by_utm, UTM_COLUMNS),
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
            [f"{r['cohort']:%Y-%m}", r["members"]]
            + [_fmt(c["pct"]) for c in r["cells"]]
            + [""] * (len(matrix["offsets"]) - len(r["cells"]))
        )
    return headers, rows


DEMOGRAPHIC_COLUMNS = [
    ("label", _("Group")),
    ("members", _("Members")),
    ("new", _("New members")),
    ("active", _("Active members")),
    ("active_share", _("Active share")),
    ("purchases", _("Purchases")),
    ("sales", _("Sales")),
    ("sales_per_active", _("Sales per active member")),
]
# CSV name -> grouping (analytics.selectors.demographics)
DEMOGRAPHIC_TABLES = {"age_bands": "age_band", "genders": "gender"}
DEMOGRAPHIC_COHORT_TABLES = {
    "cohorts_age_bands": "age_band",
    "cohorts_genders": "gender",
}


def demographic_cohort_table(matrix) -> tuple[list[str], list[list]]:
    headers = [gettext("Group"), gettext("Members")] + [
        gettext("Month %(n)s") % {"n": o} for o in matrix["offsets"]
    ]
    rows = [
        [r["label"], r["members"]] + [_fmt(c["pct"]) for c in r["cells"]]
        for r in matrix["rows"]
    ]
    return headers, rows


def export_table(
    name: str, period, store_id, *, segment: str | None = None, saved=None
):
    """(headers, rows) of one exportable table, or Http404 (`segment`: the RFM
    segment filter of the churn tables; `saved`: their saved-segment one)."""
    if name == "overview":
        return kpi_table(period, store_id, OVERVIEW_KPIS)
    if name == "program":
        return kpi_table(period, store_id, PROGRAM_KPIS)
    if name == "metrics":
        return kpi_table(period, store_id)
    if name == "stores":
        active = active_by_store_keep(period=period)
        return _dict_table(store_table(period, active=active), STORE_COLUMNS)
    if name == "daily":
        return _dict_table(daily_series(period, store_id), DAILY_COLUMNS)
    if name == "points":
        return _dict_table(monthly_points(period), POINTS_COLUMNS)
    if name == "campaigns":
        return _dict_table(campaign_returns(period), CAMPAIGN_COLUMNS)
    if name == "vouchers":
        return _dict_table(voucher_sources(period), VOUCHER_COLUMNS)
    if name == "tiers":
        return _dict_table(tier_table(program_state_latest()), TIER_COLUMNS)
    if name in REWARD_RATE_GROUPS:
        return _dict_table(
            reward_rate_rows(name, period, store_id), reward_rate_columns(name)
        )
    if name == "cohorts":
        return cohort_table(cohort_matrix(last=period.last, store_id=store_id))
    if name in DEMOGRAPHIC_TABLES:
        rows = demographic_kpis(period, store_id, DEMOGRAPHIC_TABLES[name])
        return _dict_table(rows, DEMOGRAPHIC_COLUMNS)
    if name in DEMOGRAPHIC_COHORT_TABLES:
        matrix = demographic_cohorts(
            last=period.last, by=DEMOGRAPHIC_COHORT_TABLES[name], store_id=store_id
        )
        return demographic_cohort_table(matrix)
    if name == "churn_reasons":
        return _dict_table(
            churn_complaint_topics(period, store_id, segment, saved=saved),
            TOPIC_COLUMNS,
        )
    if name == "churn_asked":
        return _dict_table(
            churn_asked_reasons(period, store_id, segment, saved=saved),
            ASKED_COLUMNS,
        )
    if name in SOURCE_TABLES:
        rows, columns = SOURCE_TABLES[name]
        return _dict_table(rows(period, store_id), columns)
    if name == "definitions":
        return [gettext("Key"), gettext("Metric"), gettext("Definition")], [
            list(d) for d in metric_definitions()
        ]
    raise Http404(gettext("No such table."))
