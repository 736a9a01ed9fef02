"""Who is in a segment: one SQL query, never a loop over members.

Definition format
-----------------
A rules segment keeps a tree of conditions as JSON (``Segment.definition``)::

    {"op": "and" | "or",
     "conditions": [
         {"field": "tier", "op": "is", "value": [3]},
         {"op": "or", "conditions": [                     # a nested group
             {"field": "last_purchase", "op": "gte", "value": 60},
             {"field": "last_purchase", "op": "never"}]},
         {"field": "spend", "op": "gte", "value": "500.00", "days": 90},
     ]}

A group is any object with a ``conditions`` list; its ``op`` (default "and")
joins them. Groups nest up to MAX_DEPTH levels, MAX_CONDITIONS conditions in
all. The top-level group may be empty (every member); a nested group may not.
A condition names a registered ``field``, one of that field's ``op`` and, when
the op takes one, a ``value``; some fields take extra keys:

=================  ====================  ===========================================
field              op (value)            meaning
=================  ====================  ===========================================
tier               is / is_not (ids)     current tier (PointsAccount.tier)
                   at_least (id)         tier rank >= that tier's rank
                   none                  no tier
last_purchase      gt/gte/lt/lte (days)  days since the last purchase (24 h days
                                         back from now); members who never bought
                                         never match these
                   never / ever          never bought / bought at least once
purchase_count     gt/gte/lt/lte/eq (n)  receipts in the period (a fully
                                         returned receipt does not count)
spend              gt/gte/lt/lte/eq      NET spend in the period: sum of
                   (amount)              total - returned_total of its receipts
points_balance     gt/gte/lt/lte/eq (n)  PointsAccount.balance
points_expiring    gte (points) +days    open lots (remaining > 0) expiring in
                                         [now, now + days): at least that many
birthday_month     is / is_not (1..12)
home_store         is / is_not (ids)
bought_at_store    is / is_not (ids)     has (not) bought at one of the stores
bought_category    any / none (texts)    has (not) bought a line of a category
bought_sku         any / none (texts)    ... of an SKU (lines fully returned
                                         do not count)
gender             is / is_not (codes)   "f", "m", "o", "" (undisclosed)
interests          any / all (texts)     Member.interests (JSON list) holds any
                                         / all of the words
language           is / is_not (codes)
consent            given / withheld      value "email" or "sms"
enrolled           before / after (date) enrolled_at, local days (TIME_ZONE),
                   between ([from, to])  both ends included
=================  ====================  ===========================================

Purchase fields (purchase_count, spend, bought_*) take an optional period:
``"days": N`` (the last N days) or ``"from"``/``"to"`` ISO dates (local days,
both included); without one, all time. "A purchase" is a receipt not fully
returned. "is_not"/"none"/"withheld" are always the exact complement of their
positive op, so members with no value (no tier, no birthday) are in them.
Choice values may be one value or a list (any of them).

How it compiles
---------------
``segment_q`` validates the tree and turns each condition into a ``Q`` on
Member: plain columns, the one-to-one account (``account__tier``), and
``Exists``/``Subquery`` over purchases, lines and lots for everything with many
rows per member; groups combine with ``&``/``|``. ``segment_members`` is one
SELECT; ``segment_count`` one COUNT.

Registry
--------
Other apps add a field with ``register_condition`` (e.g. analytics' RFM
segment), from their ``AppConfig.ready``::

    register_condition(
        "rfm", _("RFM segment"),
        build_q=lambda cond, ctx: Q(Exists(Rfm.objects.filter(
            member=OuterRef("pk"), segment__in=cond["value"]))),
        ops=[Op("is", _("is"), "choices"), Op("is_not", _("is not"), "choices")],
        choices=lambda: RfmSegment.choices,
    )

``build_q(condition, ctx)`` gets the cleaned condition (values coerced: ints,
Decimal, date; choice values as lists) and a ``SegmentContext`` (``ctx.now``);
it returns a Q on Member that must be one SQL expression (no queries of its
own). ``validate(condition)`` may refine the cleaned condition or raise
``ConditionInvalid(message)``; the registry names the condition in the
SegmentError it turns into.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

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

from campaigns.models import Segment, SegmentKind, SegmentStaticMember
from members.models import Channel, Gender, Member, Store
from rewards.models import PointsLot, Purchase, PurchaseLine, Tier

MAX_DEPTH = 4
MAX_CONDITIONS = 50
MAX_TEXTS = 100


class SegmentError(ValueError):
    """A segment definition that cannot be evaluated.

    `path` is the condition's position (0-based indexes from the top group),
    `field` its field name when known; `position` is the 1-based "2.1" a
    person reads. str() is the whole translated message.
    """

    def __init__(
        self, message: str, *, path: Iterable[int] = (), field: str = ""
    ) -> None:
        self.message = str(message)
        self.path = tuple(path)
        self.field = field
        super().__init__(self.message)

    @property
    def position(self) -> str:
        return ".".join(str(i + 1) for i in self.path)

    def as_dict(self) -> dict:
        return {"error": self.message, "path": list(self.path), "field": self.field}


class ConditionInvalid(Exception):
    """Raised by a condition's own `validate`; becomes a SegmentError naming it."""

    def __init__(self, message: str) -> None:
        super().__init__(str(message))
        self.message = str(message)


@dataclass(frozen=True)
class Op:
    """An operator of a condition type and the kind of value it takes:
    "none", "int", "decimal", "text", "texts", "choice", "choices", "date",
    "dates"."""

    name: str
    label: str
    value: str = "none"


@dataclass(frozen=True)
class Extra:
    """An extra key of a condition besides its value (e.g. a period's "days")."""

    key: str
    label: str
    kind: str = "int"  # "int" or "date"
    required: bool = False


@dataclass(frozen=True)
class ConditionType:
    name: str
    label: str
    build_q: Callable[[dict, SegmentContext], Q]
    ops: tuple[Op, ...]
    validate: Callable[[dict], dict | None] | None = None
    choices: Callable[[], Iterable[tuple[Any, str]]] | None = None
    int_keys: bool = False  # choice keys are ints (tiers, stores, months)
    extras: tuple[Extra, ...] = ()

    def op(self, name: str) -> Op | None:
        return next((op for op in self.ops if op.name == name), None)


@dataclass
class SegmentContext:
    """What a condition's Q may depend on besides the condition: the time."""

    now: dt.datetime = field(default_factory=timezone.now)

    def days_ago(self, days: int) -> dt.datetime:
        return self.now - dt.timedelta(days=days)


_REGISTRY: dict[str, ConditionType] = {}


def register_condition(
    name: str,
    label: str,
    build_q: Callable[[dict, SegmentContext], Q],
    validate: Callable[[dict], dict | None] | None = None,
    *,
    ops: Iterable[Op],
    choices: Callable[[], Iterable[tuple[Any, str]]] | None = None,
    int_keys: bool = False,
    extras: Iterable[Extra] = (),
    replace: bool = False,
) -> ConditionType:
    """Add a condition type (a `field` of the definition). A second registration
    of the same name raises unless `replace`."""
    if name in _REGISTRY and not replace:
        raise ValueError(f"segment condition {name!r} is registered already")
    ops = tuple(ops)
    if not ops:
        raise ValueError("a segment condition needs at least one op")
    kinds = {"none", "int", "decimal", "text", "texts", "choice", "choices"}
    kinds |= {"date", "dates"}
    for op in ops:
        if op.value not in kinds:
            raise ValueError(f"unknown value kind {op.value!r} of op {op.name!r}")
    kind = ConditionType(
        name=name,
        label=label,
        build_q=build_q,
        ops=ops,
        validate=validate,
        choices=choices,
        int_keys=int_keys,
        extras=tuple(extras),
    )
    _REGISTRY[name] = kind
    return kind


def unregister_condition(name: str) -> None:
    _REGISTRY.pop(name, None)


def condition_types() -> list[ConditionType]:
    return list(_REGISTRY.values())


def condition_type(name: str) -> ConditionType | None:
    return _REGISTRY.get(name)


def builder_schema() -> list[dict]:
    """The registry as the admin builder's JS reads it (labels translated,
    choices listed)."""
    out = []
    for kind in _REGISTRY.values():
        out.append(
            {
                "name": kind.name,
                "label": str(kind.label),
                "ops": [
                    {"name": op.name, "label": str(op.label), "value": op.value}
                    for op in kind.ops
                ],
                "choices": [
                    {"value": key, "label": str(label)}
                    for key, label in (kind.choices() if kind.choices else [])
                ],
                "extras": [
                    {
                        "key": extra.key,
                        "label": str(extra.label),
                        "kind": extra.kind,
                        "required": extra.required,
                    }
                    for extra in kind.extras
                ],
            }
        )
    return out


# --- validation -----------------------------------------------------------------


def _fail(path: tuple[int, ...], fieldname: str, label: str, problem: str):
    position = ".".join(str(i + 1) for i in path)
    if label:
        message = gettext("Condition %(position)s (%(label)s): %(problem)s") % {
            "position": position,
            "label": label,
            "problem": problem,
        }
    elif path:
        message = gettext("Condition %(position)s: %(problem)s") % {
            "position": position,
            "problem": problem,
        }
    else:
        message = problem
    raise SegmentError(message, path=path, field=fieldname)


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise ConditionInvalid(gettext("enter a whole number."))
    if isinstance(value, str):
        value = value.strip()
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConditionInvalid(gettext("enter a whole number.")) from None
    if isinstance(value, float) and value != number:
        raise ConditionInvalid(gettext("enter a whole number."))
    if number < 0:
        raise ConditionInvalid(gettext("the number cannot be negative."))
    if number > 10**9:
        raise ConditionInvalid(gettext("the number is too large."))
    return number


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise ConditionInvalid(gettext("enter an amount."))
    try:
        amount = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise ConditionInvalid(gettext("enter an amount.")) from None
    if not amount.is_finite():
        raise ConditionInvalid(gettext("enter an amount."))
    if amount < 0:
        raise ConditionInvalid(gettext("the amount cannot be negative."))
    if amount > Decimal(10**10):
        raise ConditionInvalid(gettext("the amount is too large."))
    return amount.quantize(Decimal("0.01"))


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except (TypeError, ValueError):
        raise ConditionInvalid(
            gettext("enter a date as YYYY-MM-DD, not “%(value)s”.") % {"value": value}
        ) from None


def _texts(value: Any) -> list[str]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ConditionInvalid(gettext("enter one or more words."))
    texts = []
    for item in items:
        if not isinstance(item, str | int) or isinstance(item, bool):
            raise ConditionInvalid(gettext("enter one or more words."))
        text = str(item).strip()
        if text and text not in texts:
            texts.append(text)
    if not texts:
        raise ConditionInvalid(gettext("enter one or more words."))
    if len(texts) > MAX_TEXTS:
        raise ConditionInvalid(gettext("too many values."))
    return texts


def _choice_key(kind: ConditionType, value: Any, known: dict | None) -> Any:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ConditionInvalid(gettext("choose a value from the list."))
    if kind.int_keys:
        try:
            key: Any = int(str(value).strip())
        except ValueError:
            raise ConditionInvalid(
                gettext("“%(value)s” is not one of the choices.") % {"value": value}
            ) from None
    else:
        key = str(value).strip() if isinstance(value, str) else str(value)
    if known is not None and key not in known:
        raise ConditionInvalid(
            gettext("“%(value)s” is not one of the choices.") % {"value": value}
        )
    return key


def _value(kind: ConditionType, op: Op, value: Any, known: dict | None) -> Any:
    if op.value == "none":
        if value not in (None, "", []):
            raise ConditionInvalid(gettext("this operator takes no value."))
        return None
    if value is None or value == "" or value == []:
        raise ConditionInvalid(gettext("enter a value."))
    if op.value == "int":
        return _int(value)
    if op.value == "decimal":
        return _decimal(value)
    if op.value == "text":
        if not isinstance(value, str) or not value.strip():
            raise ConditionInvalid(gettext("enter a value."))
        return value.strip()
    if op.value == "texts":
        return _texts(value)
    if op.value == "choice":
        if isinstance(value, list):
            if len(value) != 1:
                raise ConditionInvalid(gettext("choose one value."))
            value = value[0]
        return _choice_key(kind, value, known)
    if op.value == "choices":
        items = value if isinstance(value, list) else [value]
        keys = []
        for item in items:
            key = _choice_key(kind, item, known)
            if key not in keys:
                keys.append(key)
        return keys
    if op.value == "date":
        return _date(value)
    # "dates": a [from, to] pair
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ConditionInvalid(gettext("enter two dates, from and to."))
    start, end = _date(value[0]), _date(value[1])
    if start > end:
        raise ConditionInvalid(gettext("the first date is after the second."))
    return [start, end]


def _condition_clean(
    raw: Any, path: tuple[int, ...], known: dict[str, dict] | None
) -> dict:
    if not isinstance(raw, dict):
        _fail(path, "", "", gettext("a condition must be an object."))
    name = raw.get("field")
    kind = _REGISTRY.get(name) if isinstance(name, str) else None
    if kind is None:
        _fail(
            path,
            str(name or ""),
            "",
            gettext("unknown field “%(field)s”.") % {"field": name},
        )
    label = str(kind.label)
    op = kind.op(raw.get("op")) if isinstance(raw.get("op"), str) else None
    if op is None:
        _fail(
            path,
            name,
            label,
            gettext("“%(op)s” is not an operator of this field; use %(ops)s.")
            % {
                "op": raw.get("op"),
                "ops": ", ".join(o.name for o in kind.ops),
            },
        )
    allowed = {"field", "op", "value"} | {extra.key for extra in kind.extras}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        _fail(
            path,
            name,
            label,
            gettext("unknown key “%(key)s”.") % {"key": unknown[0]},
        )
    try:
        choices = None
        if known is not None and kind.choices and op.value in ("choice", "choices"):
            if name not in known:
                known[name] = {
                    (int(key) if kind.int_keys else key): text
                    for key, text in kind.choices()
                }
            choices = known[name]
        clean = {"field": name, "op": op.name}
        value = _value(kind, op, raw.get("value"), choices)
        if value is not None:
            clean["value"] = value
        for extra in kind.extras:
            given = raw.get(extra.key)
            if given in (None, ""):
                if extra.required:
                    raise ConditionInvalid(
                        gettext("enter “%(what)s”.") % {"what": extra.label}
                    )
                continue
            clean[extra.key] = _int(given) if extra.kind == "int" else _date(given)
        if kind.validate is not None:
            clean = kind.validate(clean) or clean
    except ConditionInvalid as exc:
        _fail(path, name, label, exc.message)
    return clean


def _group_clean(
    raw: Any,
    path: tuple[int, ...],
    depth: int,
    counter: list[int],
    known: dict[str, dict] | None,
) -> dict:
    if not isinstance(raw, dict):
        _fail(path, "", "", gettext("a group must be an object."))
    op = raw.get("op", "and")
    if op not in ("and", "or"):
        _fail(
            path,
            "",
            "",
            gettext("a group joins its conditions with “and” or “or”, not “%(op)s”.")
            % {"op": op},
        )
    unknown = sorted(set(raw) - {"op", "conditions"})
    if unknown:
        _fail(path, "", "", gettext("unknown key “%(key)s”.") % {"key": unknown[0]})
    items = raw.get("conditions", [])
    if not isinstance(items, list):
        _fail(path, "", "", gettext("“conditions” must be a list."))
    if path and not items:
        _fail(path, "", "", gettext("this group has no conditions."))
    out = []
    for index, item in enumerate(items):
        child = (*path, index)
        if isinstance(item, dict) and "conditions" in item:
            if depth >= MAX_DEPTH:
                _fail(
                    child,
                    "",
                    "",
                    gettext("groups nest at most %(depth)s levels deep.")
                    % {"depth": MAX_DEPTH},
                )
            out.append(_group_clean(item, child, depth + 1, counter, known))
        else:
            counter[0] += 1
            if counter[0] > MAX_CONDITIONS:
                _fail(
                    child,
                    "",
                    "",
                    gettext("a segment has at most %(max)s conditions.")
                    % {"max": MAX_CONDITIONS},
                )
            out.append(_condition_clean(item, child, known))
    return {"op": op, "conditions": out}


def _clean(definition: Any, *, check_choices: bool) -> dict:
    if definition in (None, ""):
        definition = {}
    if isinstance(definition, str):
        try:
            definition = json.loads(definition)
        except ValueError:
            _fail((), "", "", gettext("The conditions are not valid JSON."))
    if not isinstance(definition, dict):
        _fail((), "", "", gettext("The conditions must be a JSON object."))
    return _group_clean(definition, (), 1, [0], {} if check_choices else None)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    return value


def segment_validate(definition: Any) -> dict:
    """The definition checked and normalised for storing (JSON types: dates as
    ISO strings, amounts as strings, choice values as lists, checked against
    the current choices), or SegmentError naming the first bad condition."""
    return _jsonable(_clean(definition, check_choices=True))


# --- compiling ------------------------------------------------------------------

_COMPARE = {
    "gt": GreaterThan,
    "gte": GreaterThanOrEqual,
    "lt": LessThan,
    "lte": LessThanOrEqual,
    "eq": Exact,
}


def _compile(group: dict, ctx: SegmentContext) -> Q:
    parts = []
    for item in group["conditions"]:
        if "conditions" in item:
            parts.append(_compile(item, ctx))
        else:
            parts.append(_REGISTRY[item["field"]].build_q(item, ctx))
    if not parts:
        return Q()
    combined = parts[0]
    for part in parts[1:]:
        combined = combined & part if group["op"] == "and" else combined | part
    # Wrapped so that an outer group combines it as one term.
    return Q(combined)


def segment_q(definition: dict, *, now: dt.datetime | None = None) -> Q:
    """The filter on Member for a conditions tree; an empty tree matches every
    member. Checks the structure and values (not that ids still exist: a
    deleted store simply matches nobody) and runs no query itself."""
    clean = _clean(definition, check_choices=False)
    return _compile(clean, SegmentContext(now=now or timezone.now()))


def segment_members(
    segment: Segment, *, now: dt.datetime | None = None
) -> QuerySet[Member]:
    """The members in a segment now, as one lazy queryset."""
    if segment.kind == SegmentKind.STATIC:
        listed = SegmentStaticMember.objects.filter(
            segment_id=segment.pk, member_id=OuterRef("pk")
        )
        return Member.objects.filter(Exists(listed))
    return Member.objects.filter(segment_q(segment.definition or {}, now=now))


# --- built-in conditions ------------------------------------------------------


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


_MONTHS = (
    _("January"),
    _("February"),
    _("March"),
    _("April"),
    _("May"),
    _("June"),
    _("July"),
    _("August"),
    _("September"),
    _("October"),
    _("November"),
    _("December"),
)


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


def _register_builtins() -> None:
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
        choices=lambda: list(zip(range(1, 13), _MONTHS, strict=True)),
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
    for name, label, column in (
        ("bought_category", _("Bought a category"), "category"),
        ("bought_sku", _("Bought an SKU"), "sku"),
    ):
        register_condition(
            name,
            label,
            _lines_q(column),
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


_register_builtins()


# --- selectors for the preview and the campaigns --------------------------------


def _members_of(
    segment_or_definition: Segment | dict, now: dt.datetime | None
) -> QuerySet[Member]:
    if isinstance(segment_or_definition, Segment):
        return segment_members(segment_or_definition, now=now)
    return Member.objects.filter(segment_q(segment_or_definition, now=now))


def segment_count(
    segment_or_definition: Segment | dict, *, now: dt.datetime | None = None
) -> int:
    """How many members a segment (or an unsaved definition) holds: one COUNT."""
    return _members_of(segment_or_definition, now).count()


def segment_sample(
    segment_or_definition: Segment | dict,
    *,
    n: int = 10,
    now: dt.datetime | None = None,
) -> list[Member]:
    """Up to `n` members of the segment, newest first, with their account and
    tier: one query."""
    return list(
        _members_of(segment_or_definition, now)
        .select_related("account__tier")
        .order_by("-enrolled_at", "-pk")[:n]
    )
