"""Texts the system writes (a ledger entry's reason, a tier change's, an
adjustment asked for by the system): a code and its parameters, rendered in
the reader's language.

Every code is registered once with a translatable message (`%(name)s`
placeholders), an example of its parameters (docs and the test that renders
every code in every language), how parameters are formatted (money, numbers,
dates, in the reader's locale) and which ones name a row (`refs`: the row's
current name, translated, is shown when it still exists, else the name stored
when the text was written). rewards registers its own codes below; a higher app
registers its codes from its AppConfig.ready() (campaigns: campaign bonus,
event check-in, complaint goodwill).

A writer passes `system_reason(code, **params)` where a reason is taken; the
row keeps the code and parameters, and in `reason` a rendering in the
program's default language for readers that know no codes. A staff member's
typed reason stays plain text and is shown as typed. Parameters are data:
the message is translated, then filled; templates escape the result.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.apps import apps
from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from members.formatting import date_format, money_format, number_format

REASON_MAX_LENGTH = 255


@dataclass(frozen=True)
class Ref:
    """A parameter that names a row: `id_param` holds its pk, the parameter
    itself the name stored at writing; `field` (an attribute: a translated
    field reads in the active language) is read from the row."""

    model: str  # app_label.Model
    id_param: str
    field: str = "name"


@dataclass(frozen=True)
class ReasonCode:
    """One kind of text the system writes."""

    code: str
    message: Promise  # gettext_lazy or ngettext_lazy (its number: `count`)
    example: dict[str, Any]
    formats: dict[str, str] = field(default_factory=dict)  # money, number, date
    refs: dict[str, Ref] = field(default_factory=dict)
    count: str | None = None  # the integer parameter ngettext chooses by
    nested: tuple[str, ...] = ()  # parameters that hold another {"code", "params"}
    optional: tuple[str, ...] = ()  # example parameters a writer may leave out


@dataclass(frozen=True)
class SystemReason:
    """What a service passes as a reason: a registered code and its parameters."""

    code: str
    params: dict[str, Any]

    def __str__(self) -> str:
        return reason_default_text(self.code, self.params)

    def strip(self) -> SystemReason:  # callers clean typed reasons with .strip()
        return self


REASONS: dict[str, ReasonCode] = {}


def reason_register(reason: ReasonCode) -> None:
    """Register a code (idempotent for the same definition)."""
    known = REASONS.get(reason.code)
    if known is not None and known != reason:
        raise ValueError(f"Reason code {reason.code!r} is registered twice.")
    REASONS[reason.code] = reason


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, SystemReason):
        return {"code": value.code, "params": value.params}
    return value


def system_reason(code: str, /, **params: Any) -> SystemReason:
    """A registered code with its parameters, made JSON-safe (Decimals and dates
    as ISO text). Raises KeyError for an unknown code and ValueError when a
    parameter the code's example has is missing, so a typo fails in tests."""
    reason = REASONS[code]
    missing = set(reason.example) - set(reason.optional) - set(params)
    if missing:
        raise ValueError(f"Reason {code!r} misses {sorted(missing)}.")
    return SystemReason(code, {k: _json_value(v) for k, v in params.items()})


def reason_split(reason: str | SystemReason) -> tuple[str, dict, str]:
    """(code, params, text for the `reason` column) of what a writer passed: a
    system reason, or text a person typed (no code)."""
    if isinstance(reason, SystemReason):
        text = reason_default_text(reason.code, reason.params)
        return reason.code, reason.params, text[:REASON_MAX_LENGTH]
    text = (reason or "").strip()
    return "", {}, text[:REASON_MAX_LENGTH]


def reason_fallback_language() -> str:
    """The program's default language: the one `reason` is stored in."""
    return settings.LANGUAGE_CODE


def reason_default_text(code: str, params: dict) -> str:
    """The text in the program's default language, with the stored names."""
    language = reason_fallback_language()
    if translation.get_language() == language:  # as most writes are: no switch
        return reason_render(code, params, names={})
    with translation.override(language):
        return reason_render(code, params, names={})


def _format(kind: str, value: Any, params: dict) -> str:
    try:
        if kind == "money" and params.get("currency"):
            return money_format(Decimal(str(value)), params["currency"])
        if kind in ("money", "number"):  # a threshold of points or visits
            return number_format(Decimal(str(value)))
        if kind == "date":
            return date_format(dt.date.fromisoformat(str(value)))
    except (InvalidOperation, ValueError, TypeError):
        pass
    return str(value)


def reason_render(
    code: str, params: dict | None, *, fallback: str = "", names: dict | None = None
) -> str:
    """The text of `code` with `params` in the active language. `names` maps a
    ref parameter to the row's current name (reasons_names_load); None looks
    the rows up one by one, {} keeps the stored names. An unknown code, or
    parameters that do not fit, give `fallback` (the stored text)."""
    reason = REASONS.get(code or "")
    if reason is None:
        return fallback
    params = dict(params or {})
    if names is None:
        names = _names_lookup(reason, params)
    values: dict[str, Any] = {}
    for key, value in params.items():
        if key in reason.nested and isinstance(value, dict):
            values[key] = reason_render(
                value.get("code", ""), value.get("params"), names={}
            )
        elif key in names:
            values[key] = names[key]
        elif key in reason.formats:
            values[key] = _format(reason.formats[key], value, params)
        else:
            values[key] = "" if value is None else str(value)
    if reason.count:
        try:
            values[reason.count] = int(params[reason.count])
        except (KeyError, TypeError, ValueError):
            return fallback or code
    try:
        return str(reason.message % values)
    except (KeyError, TypeError, ValueError):
        return fallback or code


def _ref_id(params: dict, ref: Ref) -> int | None:
    try:
        return int(params[ref.id_param])
    except (KeyError, TypeError, ValueError):
        return None


def _names_lookup(reason: ReasonCode, params: dict) -> dict[str, str]:
    names = {}
    for key, ref in reason.refs.items():
        pk = _ref_id(params, ref)
        if pk is None:
            continue
        row = apps.get_model(ref.model)._default_manager.filter(pk=pk).first()
        value = getattr(row, ref.field, "") if row is not None else ""
        if value:
            names[key] = str(value)
    return names


def reasons_names_load(rows) -> None:
    """Look up the current names of every row the reasons of `rows` name, one
    query per model, and keep them on each row (`_reason_names`), so rendering
    a list costs no query per row."""
    wanted: dict[tuple[str, str], set[int]] = {}
    for row in rows:
        reason = REASONS.get(getattr(row, "reason_code", "") or "")
        if reason is None:
            continue
        for ref in reason.refs.values():
            pk = _ref_id(row.reason_params or {}, ref)
            if pk is not None:
                wanted.setdefault((ref.model, ref.field), set()).add(pk)
    found = {}
    for (model, attr), pks in wanted.items():
        rows_by_pk = apps.get_model(model)._default_manager.in_bulk(sorted(pks))
        found[model, attr] = {
            pk: getattr(obj, attr, "") for pk, obj in rows_by_pk.items()
        }
    for row in rows:
        names = {}
        reason = REASONS.get(getattr(row, "reason_code", "") or "")
        if reason is not None:
            for key, ref in reason.refs.items():
                pk = _ref_id(row.reason_params or {}, ref)
                value = found.get((ref.model, ref.field), {}).get(pk)
                if value:
                    names[key] = str(value)
        row._reason_names = names


def reason_text(row) -> str:
    """The reason of a row with `reason`, `reason_code` and `reason_params`, in
    the active language: a system text rendered from its code, else the text as
    it was typed (or stored by older code)."""
    stored = getattr(row, getattr(row, "reason_text_field", "reason"))
    if not getattr(row, "reason_code", ""):
        return stored
    return reason_render(
        row.reason_code,
        row.reason_params,
        fallback=stored,
        names=row.__dict__.get("_reason_names"),
    )


# --- the codes rewards writes ---------------------------------------------------------
# Ledger entries.
PURCHASE_EARN = "purchase_earn"
RETURN_CLAWBACK = "return_clawback"
REDEMPTION_DISCOUNT = "redemption_discount"
REWARD_REDEEM = "reward_redeem"
VOUCHER_CANCELLED_REFUND = "voucher_cancelled_refund"
VOUCHER_EXPIRED_REFUND = "voucher_expired_refund"
POINTS_EXPIRED = "points_expired"
BONUS_WELCOME = "bonus_welcome"
BONUS_PROFILE = "bonus_profile"
BONUS_BIRTHDAY = "bonus_birthday"
BONUS_REFEREE = "bonus_referee"
BONUS_REFERRER = "bonus_referrer"
OPENING_BALANCE = "opening_balance"  # carried over from an earlier program
PROMO_CODE_BONUS = "promo_code_bonus"
PROMO_CODE_REVERSED = "promo_code_reversed"
# Tier changes.
TIER_SPEND_YEAR = "tier_spend_year"
TIER_SPEND_MONTHS = "tier_spend_months"
TIER_POINTS_YEAR = "tier_points_year"
TIER_POINTS_MONTHS = "tier_points_months"
TIER_VISITS_YEAR = "tier_visits_year"
TIER_VISITS_MONTHS = "tier_visits_months"
TIER_BELOW = "tier_below"
TIER_MEMBERSHIP = "tier_membership"
TIER_ENROLLED = "tier_enrolled"
TIER_THRESHOLD_REACHED = "tier_threshold_reached"
TIER_IMPORTED = "tier_imported"

_REWARD = {"reward": Ref("rewards.Reward", "reward_id")}
_SPEND = {"amount": "money"}
_POINTS = {"points": "number"}

for _reason in (
    ReasonCode(
        PURCHASE_EARN,
        _("Purchase %(receipt)s at %(store)s"),
        {"receipt": "R-1042", "store": "kyiv-1"},
    ),
    ReasonCode(
        RETURN_CLAWBACK,
        _("Return %(return_receipt)s of purchase %(receipt)s at %(store)s"),
        {"return_receipt": "RT-7", "receipt": "R-1042", "store": "kyiv-1"},
    ),
    ReasonCode(
        REDEMPTION_DISCOUNT,
        _("Discount on receipt %(receipt)s at %(store)s"),
        {"receipt": "R-1043", "store": "kyiv-1"},
    ),
    ReasonCode(
        REWARD_REDEEM,
        _("Reward “%(reward)s”, voucher %(code)s"),
        {"reward_id": 1, "reward": "Coffee", "code": "V-ABCD"},
        refs=_REWARD,
    ),
    ReasonCode(
        VOUCHER_CANCELLED_REFUND,
        _("Voucher %(code)s cancelled, points returned"),
        {"code": "V-ABCD"},
    ),
    ReasonCode(
        VOUCHER_EXPIRED_REFUND,
        _("Voucher %(code)s expired, points returned"),
        {"code": "V-ABCD"},
    ),
    ReasonCode(
        POINTS_EXPIRED,
        _("Points earned on %(date)s expired"),
        {"date": "2025-03-01"},
        formats={"date": "date"},
    ),
    ReasonCode(BONUS_WELCOME, _("Welcome bonus"), {}),
    ReasonCode(BONUS_PROFILE, _("Bonus for completing the profile"), {}),
    ReasonCode(BONUS_BIRTHDAY, _("Birthday bonus"), {}),
    ReasonCode(BONUS_REFEREE, _("Bonus for joining with a friend's code"), {}),
    ReasonCode(BONUS_REFERRER, _("Bonus for referring a friend"), {}),
    ReasonCode(
        OPENING_BALANCE, _("Balance carried over from the previous program"), {}
    ),
    ReasonCode(
        PROMO_CODE_BONUS,
        _("Promo code %(code)s: %(promo)s"),
        {"promo_id": 1, "promo": "Spring bonus", "code": "SPRING25"},
        refs={"promo": Ref("rewards.PromoCode", "promo_id")},
    ),
    ReasonCode(
        PROMO_CODE_REVERSED,
        _("Promo code %(code)s taken back: return %(return_receipt)s of %(receipt)s"),
        {"code": "SPRING25", "return_receipt": "RT-7", "receipt": "R-1042"},
    ),
    ReasonCode(
        TIER_SPEND_YEAR,
        _("Spent in %(year)s: %(amount)s"),
        {"year": 2025, "amount": "5240.00", "currency": "UAH"},
        formats=_SPEND,
    ),
    ReasonCode(
        TIER_SPEND_MONTHS,
        ngettext_lazy(
            "Spent in the last %(months)s month: %(amount)s",
            "Spent in the last %(months)s months: %(amount)s",
            "months",
        ),
        {"months": 12, "amount": "5240.00", "currency": "UAH"},
        formats=_SPEND,
        count="months",
    ),
    ReasonCode(
        TIER_POINTS_YEAR,
        _("Points earned in %(year)s: %(points)s"),
        {"year": 2025, "points": 1300},
        formats=_POINTS,
    ),
    ReasonCode(
        TIER_POINTS_MONTHS,
        ngettext_lazy(
            "Points earned in the last %(months)s month: %(points)s",
            "Points earned in the last %(months)s months: %(points)s",
            "months",
        ),
        {"months": 12, "points": 1300},
        formats=_POINTS,
        count="months",
    ),
    ReasonCode(
        TIER_VISITS_YEAR,
        _("Visits in %(year)s: %(visits)s"),
        {"year": 2025, "visits": 14},
        formats={"visits": "number"},
    ),
    ReasonCode(
        TIER_VISITS_MONTHS,
        ngettext_lazy(
            "Visits in the last %(months)s month: %(visits)s",
            "Visits in the last %(months)s months: %(visits)s",
            "months",
        ),
        {"months": 12, "visits": 14},
        formats={"visits": "number"},
        count="months",
    ),
    ReasonCode(
        TIER_BELOW,
        ngettext_lazy(
            "%(value)s, below %(threshold)s for %(tier)s after %(grace_days)s day "
            "of grace",
            "%(value)s, below %(threshold)s for %(tier)s after %(grace_days)s days "
            "of grace",
            "grace_days",
        ),
        {
            "value": {
                "code": TIER_SPEND_MONTHS,
                "params": {"months": 12, "amount": "2100.00", "currency": "UAH"},
            },
            "threshold": "3000.00",
            "currency": "UAH",
            "tier_id": 2,
            "tier": "Silver",
            "grace_days": 30,
        },
        formats={"threshold": "money"},
        refs={"tier": Ref("rewards.Tier", "tier_id")},
        count="grace_days",
        nested=("value",),
        optional=("currency",),
    ),
    ReasonCode(
        TIER_MEMBERSHIP,
        _("Membership %(plan)s"),
        {"plan_id": 1, "plan": "Club"},
        refs={"plan": Ref("rewards.MembershipPlan", "plan_id")},
    ),
    ReasonCode(TIER_ENROLLED, _("Enrolled"), {}),
    ReasonCode(TIER_IMPORTED, _("Carried over from the previous program"), {}),
    ReasonCode(
        TIER_THRESHOLD_REACHED,
        _("Spend reached the threshold"),
        {},
    ),
):
    reason_register(_reason)
