"""Where members come from: the new members of a period per source (channel)
and store, the acquisition spend of each channel, and what they are worth
against what they cost. Read by the Acquisition dashboard
(admin:analytics_acquisition) and its CSV exports (tables `channels`,
`channel_stores`, `utm`). Definitions: docs/analytics.md, "Where members
come from".

- new members: enrolled in the period (Member.enrolled_at), by Member.source
  and the store of enrolment; with a store filter, that store's.
- spend: acquisition MarketingSpend of the period's months, by its channel. A
  channel's program-wide spend (no store) is shared among the stores by their
  part of the channel's new members (members with no store — online sign-ups —
  are a part of their own); with nobody new, it stays with "no store".
- acquisition cost (CAC) = spend ÷ new members.
- CLV per member = net spend to date + predicted value of the next 12 months
  (analytics.selectors.clv through MemberRFM, nightly); 0 before a purchase.
- CLV:CAC = average CLV ÷ CAC.
- months to pay back = spend ÷ the channel's new members' expected monthly
  revenue (their predicted 12-month value ÷ 12).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from analytics.models import MarketingSpend, SpendKind
from analytics.selectors.metrics import ZERO
from analytics.selectors.periods import Period, day_bounds
from members.models import Member, MemberSource, Store

CENT = Decimal("0.01")
TENTH = Decimal("0.1")

CHANNEL_COLUMNS = [
    ("label", _("Channel")),
    ("new_members", _("New members")),
    ("spend", _("Acquisition spend")),
    ("cac", _("Acquisition cost per member")),
    ("clv", _("CLV per member")),
    ("clv_to_cac", _("CLV : CAC")),
    ("months_to_payback", _("Months to pay back")),
]
CHANNEL_STORE_COLUMNS = [
    ("label", _("Channel")),
    ("store", _("Store")),
    ("new_members", _("New members")),
    ("own_spend", _("Own spend")),
    ("allocated", _("Share of program-wide spend")),
    ("spend", _("Acquisition spend")),
    ("cac", _("Acquisition cost per member")),
    ("clv", _("CLV per member")),
]
UTM_COLUMNS = [
    ("utm_source", _("UTM source")),
    ("utm_medium", _("UTM medium")),
    ("utm_campaign", _("UTM campaign")),
    ("new_members", _("New members")),
    ("clv", _("CLV per member")),
]


def _div(num: Decimal, den, step: Decimal = CENT) -> Decimal | None:
    if not den:
        return None
    return (Decimal(num) / Decimal(den)).quantize(step)


def _cells(period: Period):
    """(source, store_id) → new members, their value to date and predicted;
    (channel, store_id) → own spend. Two queries."""
    start, end = day_bounds(period.start, period.end)
    members = {
        (r["source"], r["enrolled_store_id"]): r
        for r in Member.objects.filter(enrolled_at__gte=start, enrolled_at__lt=end)
        .values("source", "enrolled_store_id")
        .annotate(
            n=Count("pk"),
            historic=Coalesce(Sum("rfm__historic_value"), ZERO),
            predicted=Coalesce(Sum("rfm__predicted_value"), ZERO),
        )
        .order_by()
    }
    spend = {
        (r["channel"], r["store_id"]): r["amount"]
        for r in MarketingSpend.objects.filter(
            kind=SpendKind.ACQUISITION,
            month__gte=period.first,
            month__lte=period.last,
        )
        .values("channel", "store_id")
        .annotate(amount=Sum("amount"))
        .order_by()
    }
    return members, spend


def channel_store_cells(period: Period) -> list[dict]:
    """Every (channel, store) with new members or spend, the program-wide spend
    allocated (module docstring). Two queries; the page reads them once for
    both tables (`cells=` of acquisition_by_channel and _channel_store)."""
    members, spend = _cells(period)
    keys = set(members) | {k for k in spend if k[1] is not None}
    by_channel = defaultdict(list)
    for channel, store_id in keys:
        by_channel[channel].append(store_id)
    for channel, store_id in spend:
        if store_id is None:
            by_channel.setdefault(channel, [])
    out = []
    for channel, stores in by_channel.items():
        wide = spend.get((channel, None), ZERO)
        total = sum(members.get((channel, s), {}).get("n", 0) for s in stores)
        if wide and not total and None not in stores:
            stores.append(None)
        for store_id in stores:
            m = members.get((channel, store_id), {})
            n = m.get("n", 0)
            if total:
                allocated = (wide * n / total).quantize(CENT)
            else:
                allocated = wide if store_id is None else ZERO
            own = spend.get((channel, store_id), ZERO) if store_id else ZERO
            out.append(
                {
                    "channel": channel,
                    "store_id": store_id,
                    "new_members": n,
                    "historic": m.get("historic", ZERO),
                    "predicted": m.get("predicted", ZERO),
                    "own_spend": own,
                    "allocated": allocated,
                    "spend": own + allocated,
                }
            )
    return out


def _figures(row: dict) -> dict:
    n = row["new_members"]
    cac = _div(row["spend"], n)
    clv = _div(row["historic"] + row["predicted"], n)
    monthly = row["predicted"] / 12
    return {
        **row,
        "label": str(MemberSource(row["channel"]).label),
        "cac": cac,
        "clv": clv,
        "clv_to_cac": _div(clv, cac) if clv is not None and cac else None,
        "months_to_payback": _div(row["spend"], monthly, TENTH)
        if row["spend"]
        else None,
    }


def acquisition_by_channel(
    period: Period, store_id: int | None = None, *, cells: list | None = None
) -> list[dict]:
    """One row per channel (every source, in MemberSource's order): new
    members, spend, CAC, CLV, CLV:CAC, months to pay back; with `store_id`,
    that store's members and spend (its own plus its share). Two queries."""
    totals = {
        c: {
            "channel": c,
            "new_members": 0,
            "historic": ZERO,
            "predicted": ZERO,
            "spend": ZERO,
        }
        for c in MemberSource.values
    }
    for cell in channel_store_cells(period) if cells is None else cells:
        row = totals.get(cell["channel"])
        if row is None or (store_id and cell["store_id"] != store_id):
            continue
        for key in ("new_members", "historic", "predicted", "spend"):
            row[key] += cell[key]
    return [_figures(row) for row in totals.values()]


def acquisition_by_channel_store(
    period: Period, store_id: int | None = None, *, cells: list | None = None
) -> list[dict]:
    """One row per channel and store of enrolment ("no store" for online
    sign-ups and program-wide spend nobody new shares), with the spend split
    into the store's own and its share of the program-wide. One query and
    channel_store_cells'."""
    names = dict(Store.objects.values_list("pk", "name"))
    rows = []
    for cell in channel_store_cells(period) if cells is None else cells:
        if store_id and cell["store_id"] != store_id:
            continue
        row = _figures(cell)
        row["store"] = names.get(cell["store_id"]) or gettext("No store")
        rows.append(row)
    order = {c: i for i, c in enumerate(MemberSource.values)}
    rows.sort(key=lambda r: (order.get(r["channel"], 99), r["store"]))
    return rows


def acquisition_by_utm(period: Period, store_id: int | None = None) -> list[dict]:
    """The period's new members who came with UTM parameters, per source,
    medium and campaign, most members first: how many and their CLV. One
    query."""
    start, end = day_bounds(period.start, period.end)
    qs = Member.objects.filter(enrolled_at__gte=start, enrolled_at__lt=end).exclude(
        Q(utm_source="") & Q(utm_medium="") & Q(utm_campaign="")
    )
    if store_id:
        qs = qs.filter(enrolled_store_id=store_id)
    rows = (
        qs.values("utm_source", "utm_medium", "utm_campaign")
        .annotate(
            new_members=Count("pk"),
            value=Coalesce(Sum("rfm__historic_value"), ZERO)
            + Coalesce(Sum("rfm__predicted_value"), ZERO),
        )
        .order_by("-new_members", "utm_source", "utm_medium", "utm_campaign")
    )
    return [{**r, "clv": _div(r["value"], r["new_members"])} for r in rows]
