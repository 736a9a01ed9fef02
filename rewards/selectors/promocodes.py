"""Reads of promo codes: the staff report of their uses and what they cost."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, CharField, Count, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from rewards.models import PromoChannel, PromoCodeUse
from rewards.selectors.program import program_settings_get

# What the report groups by: (the value grouped on, the label shown for it).
DIMENSIONS = {
    "code": (("promo_id", "promo__name"), _("Promo code")),
    "batch": (("key__batch_id", "key__batch__label"), _("Batch")),
    "channel": (("promo__channel",), _("Channel")),
    "store": (("store_id", "store__name"), _("Store")),
    "day": (("used_on",), _("Day")),
}


# Groupings a higher app knows (campaigns: per campaign), registered from its
# AppConfig.ready(): key → (label, a function giving {promo id: group name}).
GROUPINGS: dict[str, tuple[object, Callable[[], dict[int, str]]]] = {}


def promo_report_grouping_register(
    key: str, label: object, groups: Callable[[], dict[int, str]]
) -> None:
    """Let the report group promo codes by something rewards does not know."""
    GROUPINGS[key] = (label, groups)


def promo_report_dimensions() -> dict[str, object]:
    """What the report can group by: key → label."""
    return {
        **{key: label for key, (_fields, label) in DIMENSIONS.items()},
        **{key: label for key, (label, _groups) in GROUPINGS.items()},
    }


@dataclass(frozen=True)
class PromoReportRow:
    """One line of the report: a group's live uses (not reversed) and their cost."""

    label: str
    uses: int
    members: int
    revenue: Decimal
    discount: Decimal
    points: int
    money_cost: Decimal


def promo_use_for_purchase(*, purchase) -> PromoCodeUse | None:
    """The promo code used on a purchase (with its code), or None."""
    return (
        PromoCodeUse.objects.select_related("key")
        .filter(purchase_id=purchase.pk)
        .first()
    )


def promo_report(
    *,
    by: str = "code",
    start: dt.date | None = None,
    end: dt.date | None = None,
    promo_id: int | None = None,
) -> list[PromoReportRow]:
    """Uses of promo codes from `start` to `end` (days, both included) grouped
    `by` one of DIMENSIONS: uses, distinct members, revenue of the purchases,
    the discount given, the points given (bonus points and the points price of
    the vouchers given) and the money cost: points × the program's point value
    + the discount. Reversed uses are left out. One query (and the
    grouping's own, for a registered one)."""
    uses = PromoCodeUse.objects.filter(reversed_at__isnull=True)
    if by in GROUPINGS:
        by_name: dict[str, list[int]] = {}
        for promo, name in GROUPINGS[by][1]().items():
            by_name.setdefault(name, []).append(promo)
        uses = uses.annotate(
            group=Case(
                *(When(promo_id__in=ids, then=Value(n)) for n, ids in by_name.items()),
                default=Value(""),
                output_field=CharField(),
            )
        )
        fields = ("group", "group")
    else:
        fields, _label = DIMENSIONS.get(by, DIMENSIONS["code"])
    if start is not None:
        uses = uses.filter(used_on__gte=start)
    if end is not None:
        uses = uses.filter(used_on__lte=end)
    if promo_id is not None:
        uses = uses.filter(promo_id=promo_id)
    rows = (
        uses.values(*fields)
        .annotate(
            n=Count("pk"),
            members=Count("member_id", distinct=True),
            revenue_sum=Coalesce(Sum("revenue"), Value(Decimal("0"))),
            discount_sum=Coalesce(Sum("discount"), Value(Decimal("0"))),
            bonus=Coalesce(Sum("points"), 0),
            voucher_points=Coalesce(
                Sum(F("voucher__reward__points_cost"), filter=Q(voucher__isnull=False)),
                0,
            ),
        )
        .order_by(*fields)
    )
    point_value = program_settings_get().point_value
    channels = dict(PromoChannel.choices)
    out = []
    for row in rows:
        if by == "channel":
            label = str(channels.get(row["promo__channel"], row["promo__channel"]))
        elif by == "day":
            label = row["used_on"].isoformat()
        else:
            label = row[fields[1]] or str(_("(none)"))
        points = row["bonus"] + row["voucher_points"]
        out.append(
            PromoReportRow(
                label=str(label),
                uses=row["n"],
                members=row["members"],
                revenue=row["revenue_sum"],
                discount=row["discount_sum"],
                points=points,
                money_cost=(points * point_value + row["discount_sum"]).quantize(
                    Decimal("0.01")
                ),
            )
        )
    return out


def promo_report_columns() -> list[tuple[str, object]]:
    """(attribute, header) of the report's columns after the group's label."""
    return [
        ("uses", _("Uses")),
        ("members", _("Members")),
        ("revenue", _("Revenue of the purchases")),
        ("discount", _("Discount given")),
        ("points", _("Cost in points")),
        ("money_cost", _("Cost in money")),
    ]
