"""The registry of segment conditions: each `field` a segment definition may
name, with its operators, value kinds and the Q it compiles to.

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

The built-in conditions (tier, purchases, spend, points, birthday, stores,
lines, gender, interests, language, consent, enrolment) are registered by
campaigns.segments.builtins from CampaignsConfig.ready.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import timezone


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
