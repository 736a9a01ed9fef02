"""Reads of points accounts and their ledger: balances, what can be spent, the
statement's entries and the purchases behind them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from django.conf import settings
from django.db.models import Min, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.timezone import localtime

from rewards.models import LedgerEntry, PointsAccount, PointsLot, Purchase


def points_available_get(
    *, account: PointsAccount, now: dt.datetime | None = None
) -> tuple[int, int]:
    """(spendable now, pending) points of an account: pending lots are not spendable."""
    now = now or timezone.now()
    sums = PointsLot.objects.filter(account=account, remaining__gt=0).aggregate(
        pending=Sum("remaining", filter=Q(available_at__gt=now), default=0),
        total=Sum("remaining", default=0),
    )
    return sums["total"] - sums["pending"], sums["pending"]


def points_discount(points: int, point_value: Decimal) -> Decimal:
    """The discount `points` buy at the till, rounded down to the cent (the rule
    of points_redeem, and of every page that says what points are worth)."""
    return (max(points, 0) * point_value).quantize(
        Decimal("0.01"), rounding=ROUND_FLOOR
    )


def points_spendable_now(*, balance: int, pending: int) -> int:
    """Points that can be spent at once: the balance without the pending ones.

    Open lots hold max(balance, 0) (verify_ledger checks it), so this equals
    points_available_get's first figure without another query."""
    return max(max(balance, 0) - pending, 0)


@dataclass(frozen=True)
class PointsOutlook:
    """What the customer should know beyond the balance: points not yet
    spendable, and the next points to expire."""

    pending: int
    pending_until: dt.datetime | None  # when the first pending points free up
    expiring: int
    expiring_on: dt.date | None


def points_outlook_get(
    *, account: PointsAccount, now: dt.datetime | None = None
) -> PointsOutlook:
    """Pending points and the points expiring on the next expiry day. Two queries."""
    now = now or timezone.now()
    open_lots = PointsLot.objects.filter(account=account, remaining__gt=0)
    pending = open_lots.filter(available_at__gt=now).aggregate(
        points=Sum("remaining", default=0), first=Min("available_at")
    )
    expiring, day = 0, None
    for expires_at, remaining in (
        open_lots.filter(expires_at__isnull=False)
        .order_by("expires_at")
        .values_list("expires_at", "remaining")[:100]
    ):
        if day is None:
            day = localtime(expires_at).date()
        elif localtime(expires_at).date() != day:
            break
        expiring += remaining
    return PointsOutlook(pending["points"], pending["first"], expiring, day)


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
            "voucher__reward",
            "expired_lot",
        )
        .order_by("-created_at", "-id")
    )


# What ledger_entry_explain and a list of entries read: the entry's own columns
# and the causes' names, dates and amounts, instead of every column of the
# eleven tables ledger_entries_for_member joins (the largest part of the
# dashboard view's CPU in a profile).
EXPLAIN_FIELDS = (
    "kind",
    "points",
    "balance_after",
    "reason",
    "reason_code",
    "reason_params",
    "idempotency_key",
    "created_at",
    "purchase__occurred_at",
    "purchase__total",
    "purchase__store__name",
    "purchase_return__amount",
    "purchase_return__purchase__occurred_at",
    "purchase_return__purchase__store__name",
    "purchase_return__store__name",
    "redemption__discount",
    "redemption__store__name",
    "voucher__code",
    "voucher__status",
    "voucher__reward__name",
    # The reward's name is translated (modeltranslation): reading it reads the
    # reader's language's column, then the fallbacks, so every language's column.
    *(f"voucher__reward__name_{code}" for code, _name in settings.LANGUAGES),
    "expired_lot__earned_at",
)


def ledger_entries_explained_for_member(
    *, member_id: int, with_breakdown: bool = False
) -> QuerySet[LedgerEntry]:
    """ledger_entries_for_member with only what ledger_entry_explain and an entry
    list show (EXPLAIN_FIELDS), plus the earn breakdown for the statement's "why
    these points" (`with_breakdown`); any other field costs a query per entry."""
    fields = EXPLAIN_FIELDS + (("breakdown",) if with_breakdown else ())
    return ledger_entries_for_member(member_id=member_id).only(*fields)


def purchases_for_member(*, member_id: int) -> QuerySet[Purchase]:
    return (
        Purchase.objects.filter(member_id=member_id)
        .select_related("store")
        .order_by("-occurred_at", "-id")
    )
