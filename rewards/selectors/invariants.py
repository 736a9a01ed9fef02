"""The ledger's invariants, checked in SQL over whole tables (verify_ledger,
the nightly task, tests and benchmarks)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db.models import F, OuterRef, Q, Subquery, Sum, Window
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from rewards.models import (
    LedgerEntry,
    LedgerKind,
    LotDraw,
    PointsAccount,
    PointsLot,
    Purchase,
    StampCard,
)


def ledger_discrepancies() -> list[dict]:
    """Accounts whose cached balance differs from the sum of their entries."""
    # Filtered in SQL: only the offenders come back, however many accounts there are.
    return list(
        PointsAccount.objects.annotate(total=Coalesce(Sum("entries__points"), 0))
        .exclude(balance=F("total"))
        .values("member_id", "member__card_number", "balance", "total")
    )


@dataclass(frozen=True)
class LedgerViolation:
    """One broken ledger invariant: which check, whose card, and what was found."""

    check: str
    card_number: str
    detail: str


def _balance_vs_entries() -> Iterator[LedgerViolation]:
    rows = (
        PointsAccount.objects.annotate(total=Coalesce(Sum("entries__points"), 0))
        .exclude(balance=F("total"))
        .values_list("member__card_number", "balance", "total")
        .order_by("pk")
    )
    for card, balance, total in rows.iterator(chunk_size=2000):
        yield LedgerViolation(
            "balance",
            card,
            _("cached balance %(balance)s, sum of entries %(total)s")
            % {"balance": balance, "total": total},
        )


def _running_balances() -> Iterator[LedgerViolation]:
    rows = (
        LedgerEntry.objects.annotate(
            running=Window(
                Sum("points"),
                partition_by=[F("account_id")],
                order_by=[F("created_at").asc(), F("id").asc()],
            )
        )
        .filter(~Q(balance_after=F("running")))
        .values_list("account__member__card_number", "id", "balance_after", "running")
        .order_by("account_id", "created_at", "id")
    )
    for card, entry_id, after, running in rows.iterator(chunk_size=2000):
        yield LedgerViolation(
            "running_balance",
            card,
            _("entry %(id)s says balance %(after)s, running sum %(running)s")
            % {"id": entry_id, "after": after, "running": running},
        )


def _overdrawn_entries() -> Iterator[LedgerViolation]:
    rows = (
        # A credit to a member in debt (after a clawback) leaves the balance
        # below zero but higher than before: only debits can overdraw.
        LedgerEntry.objects.filter(
            kind__in=[LedgerKind.REDEEM, LedgerKind.ADJUST, LedgerKind.EXPIRE],
            points__lt=0,
            balance_after__lt=0,
        )
        .values_list("account__member__card_number", "id", "kind", "balance_after")
        .order_by("id")
    )
    for card, entry_id, kind, after in rows.iterator(chunk_size=2000):
        yield LedgerViolation(
            "overdrawn",
            card,
            _("%(kind)s entry %(id)s left the balance at %(after)s")
            % {"kind": kind, "id": entry_id, "after": after},
        )


def _purchases() -> Iterator[LedgerViolation]:
    earned = Coalesce(
        Sum("ledger_entries__points", filter=Q(ledger_entries__kind=LedgerKind.EARN)),
        0,
    )
    clawed = Coalesce(
        Sum(
            "ledger_entries__points",
            filter=Q(ledger_entries__kind=LedgerKind.CLAWBACK),
        ),
        0,
    )
    rows = (
        Purchase.objects.annotate(earned=earned, clawed=clawed)
        .filter(
            ~Q(earned=F("points_earned"))
            | ~Q(clawed=-F("points_reversed"))
            | Q(points_reversed__gt=F("points_earned"))
            | Q(returned_total__gt=F("total"))
        )
        .values_list(
            "member__card_number",
            "store__code",
            "receipt_id",
            "points_earned",
            "earned",
            "points_reversed",
            "clawed",
            "total",
            "returned_total",
        )
        .order_by("pk")
    )
    for (
        card,
        store,
        receipt,
        p_earned,
        e_earned,
        p_rev,
        e_clawed,
        total,
        ret,
    ) in rows.iterator(chunk_size=2000):
        where = {"store": store, "receipt": receipt}
        if e_earned != p_earned:
            yield LedgerViolation(
                "purchase_earn",
                card,
                _(
                    "purchase %(store)s #%(receipt)s earned %(points)s, "
                    "its earn entries sum to %(entries)s"
                )
                % {**where, "points": p_earned, "entries": e_earned},
            )
        if e_clawed != -p_rev:
            yield LedgerViolation(
                "purchase_clawback",
                card,
                _(
                    "purchase %(store)s #%(receipt)s took back %(points)s, "
                    "its clawback entries sum to %(entries)s"
                )
                % {**where, "points": p_rev, "entries": e_clawed},
            )
        if p_rev > p_earned:
            yield LedgerViolation(
                "purchase_reversed",
                card,
                _("purchase %(store)s #%(receipt)s took back %(rev)s of %(earned)s")
                % {**where, "rev": p_rev, "earned": p_earned},
            )
        if ret > total:
            yield LedgerViolation(
                "purchase_returned",
                card,
                _("purchase %(store)s #%(receipt)s returned %(ret)s of %(total)s")
                % {**where, "ret": ret, "total": total},
            )


def _lots() -> Iterator[LedgerViolation]:
    """Per account, the points left in lots == max(balance, 0); per lot, what
    is left == its points minus what debits drew from it (plus the debt it paid
    at birth, so: remaining <= points - draws)."""
    left = Coalesce(
        Subquery(
            PointsLot.objects.filter(account=OuterRef("pk"))
            .values("account")
            .annotate(s=Sum("remaining"))
            .values("s")
        ),
        0,
    )
    rows = (
        PointsAccount.objects.annotate(left=left)
        .filter(
            (Q(balance__gte=0) & ~Q(left=F("balance")))
            | (Q(balance__lt=0) & ~Q(left=0))
        )
        .values_list("member__card_number", "balance", "left")
        .order_by("pk")
    )
    for card, balance, lots_left in rows.iterator(chunk_size=2000):
        yield LedgerViolation(
            "lots",
            card,
            _("the balance is %(balance)s, its points lots hold %(left)s")
            % {"balance": balance, "left": lots_left},
        )
    drawn = Coalesce(
        Subquery(
            LotDraw.objects.filter(lot=OuterRef("pk"))
            .values("lot")
            .annotate(s=Sum("points"))
            .values("s")
        ),
        0,
    )
    lots = (
        PointsLot.objects.annotate(drawn=drawn)
        .filter(remaining__gt=F("points") - F("drawn"))
        .values_list("account__member__card_number", "pk", "points", "drawn")
        .order_by("pk")
    )
    for card, lot_id, points, lot_drawn in lots.iterator(chunk_size=2000):
        yield LedgerViolation(
            "lot_draws",
            card,
            _("lot %(id)s of %(points)s points had %(drawn)s drawn but holds more")
            % {"id": lot_id, "points": points, "drawn": lot_drawn},
        )


def _stamp_cards() -> Iterator[LedgerViolation]:
    rows = (
        StampCard.objects.annotate(
            total=Coalesce(Sum("entries__delta"), 0),
            owed_total=Coalesce(Sum("entries__owed_delta"), 0),
        )
        .filter(~Q(stamps=F("total")) | ~Q(owed=F("owed_total")))
        .values_list(
            "member__card_number", "id", "stamps", "total", "owed", "owed_total"
        )
        .order_by("pk")
    )
    for card, card_id, stamps, total, owed, owed_total in rows.iterator(
        chunk_size=2000
    ):
        yield LedgerViolation(
            "stamp_cards",
            card,
            _(
                "stamp card %(id)s has %(stamps)s stamps and %(owed)s owed, its "
                "entries add up to %(total)s and %(owed_total)s"
            )
            % {
                "id": card_id,
                "stamps": stamps,
                "owed": owed,
                "total": total,
                "owed_total": owed_total,
            },
        )


def stamp_card_violations() -> list[LedgerViolation]:
    """Stamp cards whose stamps or stamps owed differ from the sums of their entries."""
    return list(_stamp_cards())


# Each check is one aggregate query over the whole table (no per-member loop).
LEDGER_CHECKS: list[tuple[str, Callable[[], Iterator[LedgerViolation]]]] = [
    ("balance", _balance_vs_entries),
    ("running_balance", _running_balances),
    ("overdrawn", _overdrawn_entries),
    ("purchases", _purchases),
    ("lots", _lots),
    ("stamp_cards", _stamp_cards),
]


def ledger_invariant_violations() -> list[LedgerViolation]:
    """Every broken ledger invariant in the database: cached balance == sum of
    entries; each entry's balance_after == the running sum in (created_at, id)
    order; no redeem or adjustment below zero; per purchase, the earn entries
    == points_earned, the clawbacks == -points_reversed, points_reversed <=
    points_earned and returned_total <= total; the points lots hold exactly
    max(balance, 0) and no lot holds more than its draws left it; per stamp
    card, stamps and stamps owed == the sums of its entries."""
    return [v for _name, check in LEDGER_CHECKS for v in check()]
