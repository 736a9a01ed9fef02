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
bought_category    any / none (codes)    has (not) bought a line of a category
                                         (codes from category_choices: the
                                         admin shows names, stores codes)
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

The age band and picked-interests conditions (``age_band``, ``interest``) are
in campaigns.segments.crm_conditions, with their table.

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
The conditions themselves live in campaigns.segments.conditions (the registry)
and campaigns.segments.builtins.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from campaigns.segments.conditions import (
    ConditionInvalid,
    ConditionType,
    Op,
    SegmentContext,
    SegmentError,
    condition_type,
)

MAX_DEPTH = 4
MAX_CONDITIONS = 50
MAX_TEXTS = 100


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
    kind = condition_type(name) if isinstance(name, str) else None
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


def _compile(group: dict, ctx: SegmentContext) -> Q:
    parts = []
    for item in group["conditions"]:
        if "conditions" in item:
            parts.append(_compile(item, ctx))
        else:
            parts.append(condition_type(item["field"]).build_q(item, ctx))
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
