"""The statement's text: a sentence per ledger entry and the lines of an earn
breakdown, in the active language."""

from __future__ import annotations

from decimal import Decimal

from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from members.formatting import (
    date_format,
    money_format,
    number_format,
    percent_format,
    signed_number_format,
)
from rewards.earning import breakdown_in_order
from rewards.models import EarningRule, LedgerEntry, LedgerKind, Tier, VoucherStatus


def _bonus_name(entry: LedgerEntry) -> str:
    """The bonus's name in the active language: from its reason code, or for an
    entry older than codes that none was found for, from its idempotency key."""
    if entry.reason_code:
        return entry.reason_text()
    key = entry.idempotency_key or ""
    if key.startswith("welcome:"):
        return _("Welcome bonus")
    if key.startswith("profile:"):
        return _("Bonus for completing the profile")
    if key.startswith("birthday:"):
        return _("Birthday bonus")
    if key.startswith("referral:") and key.endswith(":referee"):
        return _("Bonus for joining with a friend's code")
    if key.startswith("referral:") and key.endswith(":referrer"):
        return _("Bonus for referring a friend")
    return entry.reason


def ledger_entry_explain(entry: LedgerEntry, *, currency: str) -> str:
    """A sentence that says where an entry's points came from, in the active language."""
    points = ngettext("%(points)s point", "%(points)s points", abs(entry.points)) % {
        "points": signed_number_format(entry.points)
    }
    if entry.kind == LedgerKind.EARN and entry.purchase_id:
        p = entry.purchase
        return _("Purchase %(date)s, %(store)s, %(amount)s → %(points)s") % {
            "date": date_format(localtime(p.occurred_at)),
            "store": p.store.name,
            "amount": money_format(p.total, currency),
            "points": points,
        }
    if entry.kind == LedgerKind.CLAWBACK and entry.purchase_return_id:
        r = entry.purchase_return
        return _(
            "Return of %(amount)s from the purchase of %(date)s at %(store)s → %(points)s"
        ) % {
            "amount": money_format(r.amount, currency),
            "date": date_format(localtime(r.purchase.occurred_at)),
            "store": r.purchase.store.name,
            "points": points,
        }
    if entry.kind == LedgerKind.REDEEM and entry.redemption_id:
        r = entry.redemption
        return _("Discount of %(amount)s at %(store)s → %(points)s") % {
            "amount": money_format(r.discount, currency),
            "store": r.store.name,
            "points": points,
        }
    if entry.kind == LedgerKind.REDEEM and entry.voucher_id:
        return _("Reward “%(reward)s”, voucher %(code)s → %(points)s") % {
            "reward": entry.voucher.reward.name,
            "code": entry.voucher.code,
            "points": points,
        }
    if entry.kind == LedgerKind.REFUND and entry.voucher_id:
        values = {"code": entry.voucher.code, "points": points}
        if entry.voucher.status == VoucherStatus.CANCELLED:
            return (
                _("Voucher %(code)s cancelled, points returned → %(points)s") % values
            )
        return _("Voucher %(code)s expired, points returned → %(points)s") % values
    if entry.kind == LedgerKind.BONUS:
        return _("%(bonus)s → %(points)s") % {
            "bonus": _bonus_name(entry),
            "points": points,
        }
    if entry.kind == LedgerKind.EXPIRE and hasattr(entry, "expired_lot"):
        return _("Points earned on %(date)s expired → %(points)s") % {
            "date": date_format(localtime(entry.expired_lot.earned_at)),
            "points": points,
        }
    if entry.kind == LedgerKind.ADJUST:
        return _("Adjustment by staff: %(reason)s → %(points)s") % {
            "reason": entry.reason_text(),
            "points": points,
        }
    return f"{entry.get_kind_display()}: {entry.reason_text()} → {points}"


def _multiplier_text(value: str) -> str:
    """ "2.00" → "×2", "1.50" → "×1.5", in the active language's number format."""
    number = Decimal(value).normalize()
    places = max(-number.as_tuple().exponent, 0)
    return "×" + number_format(number, places)


# Which stored breakdown key names which model: rules by "rule", tiers by "ref".
_BREAKDOWN_REFS = (
    ("rule", ("product", "fixed", "promotion"), EarningRule),
    ("ref", ("tier",), Tier),
)


def breakdown_names_load(entries) -> None:
    """The current names (in the active language) of the rules and tiers the
    breakdowns of `entries` name, one query per model, kept on each entry
    (`_breakdown_names`), so a renamed or translated rule reads as it is now.
    A breakdown stored before tiers were kept by id keeps its stored name."""
    wanted: dict[type, set[int]] = {}
    for entry in entries:
        for item in entry.breakdown or []:
            for key, stages, model in _BREAKDOWN_REFS:
                if item.get("stage") in stages and item.get(key) is not None:
                    wanted.setdefault(model, set()).add(item[key])
    names = {
        (model, pk): str(obj.name)
        for model, pks in wanted.items()
        for pk, obj in model._default_manager.in_bulk(sorted(pks)).items()
    }
    for entry in entries:
        entry._breakdown_names = names


def _breakdown_name(entry: LedgerEntry, item: dict) -> str:
    names = getattr(entry, "_breakdown_names", {})
    for key, stages, model in _BREAKDOWN_REFS:
        if item.get("stage") in stages and item.get(key) is not None:
            current = names.get((model, item[key]))
            if current:
                return current
    return item.get("name", "")


def earn_breakdown_explain(entry: LedgerEntry, *, currency: str) -> list[dict]:
    """ "Why you got these points": one line per stage or rule that gave points,
    in the order they were applied (the entry keeps them so), the cap last
    with the points it took off, in the active language; rules and tiers by
    their current names when breakdown_names_load ran over the entries."""
    lines = []
    for item in breakdown_in_order(entry.breakdown or []):
        stage, mult = item["stage"], item.get("multiplier")
        name = _breakdown_name(entry, item)
        if stage == "base":
            # "1 per 1 грн": the unit as money, never the bare ISO code.
            label = _("Base rate: %(rate)s per %(currency)s") % {
                "rate": number_format(Decimal(mult).normalize()),
                "currency": money_format(1, currency, whole=True),
            }
        elif stage == "tier":
            label = _("%(tier)s tier (%(multiplier)s)") % {
                "tier": name,
                "multiplier": _multiplier_text(mult),
            }
        elif stage == "cap":
            label = _("Capped at %(percent)s of the purchase") % {
                "percent": percent_format(item.get("percent"), places=2),
            }
        elif stage == "membership":
            label = _("%(plan)s membership (%(multiplier)s)") % {
                "plan": name,
                "multiplier": _multiplier_text(mult),
            }
        elif mult:
            label = f"{name} ({_multiplier_text(mult)})"
        else:
            label = name
        lines.append({"stage": stage, "label": label, "points": item["points"]})
    return lines
