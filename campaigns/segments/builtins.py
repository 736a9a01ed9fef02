"""The built-in segment conditions (the table in campaigns.segments.definition),
registered by `conditions_register_builtin` from CampaignsConfig.ready: each a
Q on Member, one SQL expression (Exists/Subquery over purchases, lines and lots
for everything with many rows per member)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal

from django.conf import settings
from django.db import NotSupportedError
from django.db.models import (
    BooleanField,
    Count,
    DecimalField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    LessThan,
    LessThanOrEqual,
)
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from campaigns.segments.conditions import (
    ConditionInvalid,
    Extra,
    Op,
    SegmentContext,
    register_condition,
)
from campaigns.segments.crm_conditions import conditions_register_crm
from campaigns.segments.selectors import category_choices
from members.formatting import month_name
from members.models import Channel, Gender, MemberSource, Store
from rewards.models import PointsLot, Purchase, PurchaseLine, Tier

_COMPARE = {
    "gt": GreaterThan,
    "gte": GreaterThanOrEqual,
    "lt": LessThan,
    "lte": LessThanOrEqual,
    "eq": Exact,
}


def _local_day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(
        dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone()
    )


def _period(cond: dict, ctx: SegmentContext, prefix: str = "") -> Q:
    """The occurred_at filter of a purchase condition's optional period."""
    column = f"{prefix}occurred_at"
    bounds = {}
    if "days" in cond:
        bounds[f"{column}__gte"] = ctx.days_ago(cond["days"])
    if "from" in cond:
        bounds[f"{column}__gte"] = _local_day_start(cond["from"])
    if "to" in cond:
        bounds[f"{column}__lt"] = _local_day_start(cond["to"] + dt.timedelta(days=1))
    return Q(**bounds)


def _period_validate(cond: dict) -> dict:
    if "days" in cond and ("from" in cond or "to" in cond):
        raise ConditionInvalid(
            gettext("give either the last N days or dates, not both.")
        )
    if "from" in cond and "to" in cond and cond["from"] > cond["to"]:
        raise ConditionInvalid(gettext("the first date is after the second."))
    return cond


def _purchases(ctx: SegmentContext, cond: dict | None = None) -> QuerySet[Purchase]:
    """Receipts of the outer member that are not fully returned."""
    qs = Purchase.objects.filter(
        member_id=OuterRef("pk"), returned_total__lt=F("total")
    )
    if cond is not None:
        qs = qs.filter(_period(cond, ctx))
    return qs


def _compare(lhs, op: str, value) -> Q:
    return Q(_COMPARE[op](lhs, value))


_NUMBER_OPS_INT = tuple(
    Op(name, label, "int")
    for name, label in (
        ("gte", _("at least")),
        ("gt", _("more than")),
        ("lte", _("at most")),
        ("lt", _("less than")),
        ("eq", _("exactly")),
    )
)
_NUMBER_OPS_DECIMAL = tuple(Op(op.name, op.label, "decimal") for op in _NUMBER_OPS_INT)
_IS_OPS = (Op("is", _("is"), "choices"), Op("is_not", _("is not"), "choices"))
_PERIOD = (
    Extra("days", _("in the last N days")),
    Extra("from", _("from date"), "date"),
    Extra("to", _("to date"), "date"),
)


def _is(q: Q, cond: dict) -> Q:
    return q if cond["op"] in ("is", "any", "given") else ~q


# tier
def _tier_q(cond: dict, ctx: SegmentContext) -> Q:
    op = cond["op"]
    if op == "none":
        return ~Q(account__tier__isnull=False)
    if op == "at_least":
        rank = Tier.objects.filter(pk=cond["value"]).values("rank")[:1]
        return Q(account__tier__rank__gte=Subquery(rank))
    return _is(Q(account__tier_id__in=cond["value"]), cond)


def _tier_choices():
    return [(tier.pk, tier.name) for tier in Tier.objects.order_by("rank")]


# days since the last purchase
def _last_purchase_q(cond: dict, ctx: SegmentContext) -> Q:
    op = cond["op"]
    bought = Exists(_purchases(ctx))
    if op == "never":
        return ~Q(bought)
    if op == "ever":
        return Q(bought)
    cutoff = ctx.days_ago(cond["value"])
    # days since = now - last. "gte N": the last one is at or before the cutoff,
    # i.e. bought, and nothing after it; "lte N": something at/after the cutoff.
    if op == "gte":
        return Q(bought) & ~Q(Exists(_purchases(ctx).filter(occurred_at__gt=cutoff)))
    if op == "gt":
        return Q(bought) & ~Q(Exists(_purchases(ctx).filter(occurred_at__gte=cutoff)))
    if op == "lte":
        return Q(Exists(_purchases(ctx).filter(occurred_at__gte=cutoff)))
    return Q(Exists(_purchases(ctx).filter(occurred_at__gt=cutoff)))  # lt


def _purchase_count_q(cond: dict, ctx: SegmentContext) -> Q:
    counted = (
        _purchases(ctx, cond)
        .order_by()
        .values("member_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    lhs = Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))
    return _compare(lhs, cond["op"], Value(cond["value"]))


def _spend_q(cond: dict, ctx: SegmentContext) -> Q:
    money = DecimalField(max_digits=14, decimal_places=2)
    summed = (
        Purchase.objects.filter(member_id=OuterRef("pk"))
        .filter(_period(cond, ctx))
        .order_by()
        .values("member_id")
        .annotate(net=Sum(F("total") - F("returned_total"), output_field=money))
        .values("net")
    )
    lhs = Coalesce(
        Subquery(summed, output_field=money), Value(Decimal("0")), output_field=money
    )
    return _compare(lhs, cond["op"], Value(cond["value"], output_field=money))


def _balance_q(cond: dict, ctx: SegmentContext) -> Q:
    lookup = "exact" if cond["op"] == "eq" else cond["op"]
    return Q(**{f"account__balance__{lookup}": cond["value"]})


def _points_expiring_q(cond: dict, ctx: SegmentContext) -> Q:
    open_lots = (
        PointsLot.objects.filter(
            account__member_id=OuterRef("pk"),
            remaining__gt=0,
            expires_at__gte=ctx.now,
            expires_at__lt=ctx.now + dt.timedelta(days=cond["days"]),
        )
        .order_by()
        .values("account_id")
        .annotate(points=Sum("remaining"))
        .filter(points__gte=cond["value"])
    )
    return Q(Exists(open_lots))


def _points_expiring_validate(cond: dict) -> dict:
    if cond["value"] < 1:
        raise ConditionInvalid(gettext("enter at least 1 point."))
    if cond["days"] < 1:
        raise ConditionInvalid(gettext("enter at least 1 day."))
    return cond


def _month_choices() -> list[tuple[int, str]]:
    """The months as the reader's language names them (members.formatting:
    lower-case in Romanian, Ukrainian and Russian, as they are written)."""
    return [(month, month_name(month)) for month in range(1, 13)]


def _store_choices():
    return [(store.pk, store.name) for store in Store.objects.order_by("name")]


def _bought_at_store_q(cond: dict, ctx: SegmentContext) -> Q:
    bought = Exists(_purchases(ctx, cond).filter(store_id__in=cond["value"]))
    return _is(Q(bought), cond)


def _lines_q(column: str) -> Callable[[dict, SegmentContext], Q]:
    def build(cond: dict, ctx: SegmentContext) -> Q:
        period = _period(cond, ctx, prefix="purchase__")
        lines = PurchaseLine.objects.filter(
            period,
            purchase__member_id=OuterRef("pk"),
            purchase__returned_total__lt=F("purchase__total"),
            quantity_returned__lt=F("quantity"),
            **{f"{column}__in": cond["value"]},
        )
        return _is(Q(Exists(lines)), cond)

    return build


class JsonListContains(Func):
    """True when a JSON list column holds `item` (jsonb @> on PostgreSQL,
    json_each on SQLite): one SQL expression on both."""

    output_field = BooleanField()
    arity = 1

    def __init__(self, expression, item: str) -> None:
        super().__init__(expression)
        self.item = item

    def as_sql(self, compiler, connection, **extra):
        raise NotSupportedError("JsonListContains supports PostgreSQL and SQLite")

    def as_sqlite(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            # sql is the compiled column, the item a parameter
            f"EXISTS(SELECT 1 FROM json_each({sql}) AS jl WHERE jl.value = %s)",  # noqa: S608
            (*params, self.item),
        )

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql} @> %s::jsonb)", (*params, json.dumps([self.item]))


def _interests_q(cond: dict, ctx: SegmentContext) -> Q:
    parts = [Q(JsonListContains(F("interests"), word)) for word in cond["value"]]
    combined = parts[0]
    for part in parts[1:]:
        combined = combined | part if cond["op"] == "any" else combined & part
    return combined


def _consent_q(cond: dict, ctx: SegmentContext) -> Q:
    column = "email_consent" if cond["value"] == Channel.EMAIL else "sms_consent"
    return _is(Q(**{column: True}), cond)


def _enrolled_q(cond: dict, ctx: SegmentContext) -> Q:
    op, value = cond["op"], cond["value"]
    if op == "before":
        return Q(enrolled_at__lt=_local_day_start(value))
    if op == "after":
        return Q(enrolled_at__gte=_local_day_start(value + dt.timedelta(days=1)))
    start, end = value
    return Q(
        enrolled_at__gte=_local_day_start(start),
        enrolled_at__lt=_local_day_start(end + dt.timedelta(days=1)),
    )


def conditions_register_builtin() -> None:
    """Register the built-in conditions (CampaignsConfig.ready, once per process)."""
    register_condition(
        "tier",
        _("Tier"),
        _tier_q,
        ops=(
            *_IS_OPS,
            Op("at_least", _("is at least"), "choice"),
            Op("none", _("has no tier")),
        ),
        choices=_tier_choices,
        int_keys=True,
    )
    register_condition(
        "last_purchase",
        _("Days since the last purchase"),
        _last_purchase_q,
        ops=(
            *(op for op in _NUMBER_OPS_INT if op.name != "eq"),
            Op("never", _("never bought")),
            Op("ever", _("has bought")),
        ),
    )
    register_condition(
        "purchase_count",
        _("Number of purchases"),
        _purchase_count_q,
        _period_validate,
        ops=_NUMBER_OPS_INT,
        extras=_PERIOD,
    )
    register_condition(
        "spend",
        _("Spend (net of returns)"),
        _spend_q,
        _period_validate,
        ops=_NUMBER_OPS_DECIMAL,
        extras=_PERIOD,
    )
    register_condition(
        "points_balance", _("Points balance"), _balance_q, ops=_NUMBER_OPS_INT
    )
    register_condition(
        "points_expiring",
        _("Points expiring soon"),
        _points_expiring_q,
        _points_expiring_validate,
        ops=(Op("gte", _("at least"), "int"),),
        extras=(Extra("days", _("within N days"), required=True),),
    )
    register_condition(
        "birthday_month",
        _("Birthday month"),
        lambda cond, ctx: _is(Q(birthday__month__in=cond["value"]), cond),
        ops=_IS_OPS,
        choices=_month_choices,
        int_keys=True,
    )
    register_condition(
        "home_store",
        _("Home store"),
        lambda cond, ctx: _is(Q(home_store_id__in=cond["value"]), cond),
        ops=_IS_OPS,
        choices=_store_choices,
        int_keys=True,
    )
    register_condition(
        "bought_at_store",
        _("Bought at store"),
        _bought_at_store_q,
        _period_validate,
        ops=(
            Op("is", _("has bought at"), "choices"),
            Op("is_not", _("has not bought at"), "choices"),
        ),
        choices=_store_choices,
        int_keys=True,
        extras=_PERIOD,
    )
    # Categories are picked from the catalog's (names shown, codes stored; an
    # unknown code is refused on save); SKUs are too many to list: typed.
    register_condition(
        "bought_category",
        _("Bought a category"),
        _lines_q("category"),
        _period_validate,
        ops=(
            Op("any", _("any of"), "choices"),
            Op("none", _("none of"), "choices"),
        ),
        choices=category_choices,
        extras=_PERIOD,
    )
    register_condition(
        "bought_sku",
        _("Bought an SKU"),
        _lines_q("sku"),
        _period_validate,
        ops=(
            Op("any", _("any of"), "texts"),
            Op("none", _("none of"), "texts"),
        ),
        extras=_PERIOD,
    )
    register_condition(
        "gender",
        _("Gender"),
        lambda cond, ctx: _is(Q(gender__in=cond["value"]), cond),
        ops=_IS_OPS,
        choices=lambda: Gender.choices,
    )
    register_condition(
        "interests",
        _("Interests"),
        _interests_q,
        ops=(
            Op("any", _("include any of"), "texts"),
            Op("all", _("include all of"), "texts"),
        ),
    )
    conditions_register_crm()  # age band, interests picked
    register_condition(
        "language",
        _("Language"),
        lambda cond, ctx: _is(Q(language__in=cond["value"]), cond),
        ops=_IS_OPS,
        choices=lambda: settings.LANGUAGES,
    )
    register_condition(
        "consent",
        _("Consent"),
        _consent_q,
        ops=(
            Op("given", _("given for"), "choice"),
            Op("withheld", _("not given for"), "choice"),
        ),
        choices=lambda: Channel.choices,
    )
    register_condition(
        "enrolled",
        _("Joined"),
        _enrolled_q,
        ops=(
            Op("before", _("before"), "date"),
            Op("after", _("after"), "date"),
            Op("between", _("between"), "dates"),
        ),
    )
    register_condition(
        "source",
        _("Came from"),
        lambda cond, ctx: _is(Q(source__in=cond["value"]), cond),
        ops=_IS_OPS,
        choices=lambda: MemberSource.choices,
    )
