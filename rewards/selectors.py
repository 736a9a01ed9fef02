"""Reads about points shared by views, admin, API and tasks."""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

from django.conf import settings
from django.db.models import QuerySet, Sum
from django.utils.formats import date_format, number_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from rewards.models import (
    LedgerEntry,
    LedgerKind,
    PointsAccount,
    ProgramSettings,
    Purchase,
)


def program_settings_get() -> ProgramSettings:
    obj, _created = ProgramSettings.objects.get_or_create(
        pk=1, defaults={"currency": settings.LOYALTY_CURRENCY}
    )
    return obj


def points_for_amount(
    amount: Decimal, *, points_per_unit: Decimal, min_purchase: Decimal
) -> int:
    """Points a spend earns: rate × amount, rounded down; nothing below the minimum."""
    if amount <= 0 or amount < min_purchase:
        return 0
    return int((amount * points_per_unit).to_integral_value(rounding=ROUND_FLOOR))


def member_balance_get(*, member_id: int) -> int:
    return PointsAccount.objects.values_list("balance", flat=True).get(
        member_id=member_id
    )


def ledger_entries_for_member(*, member_id: int) -> QuerySet[LedgerEntry]:
    """The statement: newest first, with what caused each entry, in a fixed number of queries."""
    return (
        LedgerEntry.objects.filter(account__member_id=member_id)
        .select_related(
            "purchase__store",
            "purchase_return__purchase__store",
            "purchase_return__store",
            "redemption__store",
        )
        .order_by("-created_at", "-id")
    )


def purchases_for_member(*, member_id: int) -> QuerySet[Purchase]:
    return (
        Purchase.objects.filter(member_id=member_id)
        .select_related("store")
        .order_by("-occurred_at", "-id")
    )


def _money(amount: Decimal, currency: str) -> str:
    return f"{number_format(amount, 2)} {currency}"


def ledger_entry_explain(entry: LedgerEntry, *, currency: str) -> str:
    """A sentence that says where an entry's points came from, in the active language."""
    points = f"{entry.points:+d}"
    if entry.kind == LedgerKind.EARN and entry.purchase_id:
        p = entry.purchase
        return _("Purchase %(date)s, %(store)s, %(amount)s → %(points)s points") % {
            "date": date_format(localtime(p.occurred_at), "SHORT_DATE_FORMAT"),
            "store": p.store.name,
            "amount": _money(p.total, currency),
            "points": points,
        }
    if entry.kind == LedgerKind.CLAWBACK and entry.purchase_return_id:
        r = entry.purchase_return
        return _(
            "Return of %(amount)s from the purchase of %(date)s at %(store)s → %(points)s points"
        ) % {
            "amount": _money(r.amount, currency),
            "date": date_format(localtime(r.purchase.occurred_at), "SHORT_DATE_FORMAT"),
            "store": r.purchase.store.name,
            "points": points,
        }
    if entry.kind == LedgerKind.REDEEM and entry.redemption_id:
        r = entry.redemption
        return _("Discount of %(amount)s at %(store)s → %(points)s points") % {
            "amount": _money(r.discount, currency),
            "store": r.store.name,
            "points": points,
        }
    if entry.kind == LedgerKind.ADJUST:
        return _("Adjustment by staff: %(reason)s → %(points)s points") % {
            "reason": entry.reason,
            "points": points,
        }
    return f"{entry.get_kind_display()}: {entry.reason} → {points}"


def ledger_discrepancies() -> list[dict]:
    """Accounts whose cached balance differs from the sum of their entries."""
    rows = PointsAccount.objects.annotate(total=Sum("entries__points")).values(
        "member_id", "member__card_number", "balance", "total"
    )
    return [r for r in rows if (r["total"] or 0) != r["balance"]]
