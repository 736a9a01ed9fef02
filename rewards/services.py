"""Every write to points: accounts, purchases, returns, redemptions, adjustments.

Each public service runs in its own durable transaction, locks the member's
points account first (rewards.locks), writes the domain row and its ledger
entry together and updates the cached balance in the same transaction, so
`balance == sum(entries)` holds at every commit.

Writes a till can retry are idempotent on (store, receipt_id): the same body
returns the first result (`replayed=True`), a different body raises Conflict.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TypeVar

from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members.errors import Conflict, InvalidInput
from members.models import Member, Store, User
from rewards.locks import account_lock, purchase_lock
from rewards.models import (
    LedgerEntry,
    LedgerKind,
    PointsAccount,
    Purchase,
    PurchaseLine,
    PurchaseReturn,
    Redemption,
)
from rewards.selectors import points_for_amount, program_settings_get

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999.99")  # what Purchase.total (12 digits, 2 places) holds
MAX_POINTS = 1_000_000_000
MAX_BALANCE = (
    2**31 - 1
)  # PointsAccount.balance and LedgerEntry.points are IntegerFields
MAX_QUANTITY = Decimal(
    "9999999"
)  # what PurchaseLine.quantity (10 digits, 3 places) holds
FUTURE_TOLERANCE = dt.timedelta(minutes=10)

T = TypeVar("T")


@dataclass(frozen=True)
class LineInput:
    sku: str
    quantity: Decimal
    unit_price: Decimal = Decimal("0")
    name: str = ""
    category: str = ""


@dataclass(frozen=True)
class ReturnLineInput:
    sku: str
    quantity: Decimal


# --- helpers -------------------------------------------------------------------------


def _fingerprint(data: dict) -> str:
    return hashlib.sha256(
        json.dumps(data, sort_keys=True, default=str).encode()
    ).hexdigest()


def _money(value, *, field: str, allow_zero: bool = False) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise InvalidInput(_("Enter an amount such as 125.50."), field=field) from None
    if not amount.is_finite():
        raise InvalidInput(_("Enter an amount such as 125.50."), field=field)
    # Sign and size first: quantize() raises InvalidOperation on numbers like 1e999.
    if amount < 0 or (amount == 0 and not allow_zero):
        raise InvalidInput(_("The amount must be greater than zero."), field=field)
    if amount > MAX_AMOUNT:
        raise InvalidInput(_("The amount is too large."), field=field)
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        raise InvalidInput(_("Use at most two decimal places."), field=field)
    return amount.quantize(CENT)


def _receipt(receipt_id: str, *, field: str = "receipt_id") -> str:
    receipt_id = (receipt_id or "").strip()
    if not receipt_id:
        raise InvalidInput(_("Enter the receipt id."), field=field)
    if len(receipt_id) > 64:
        raise InvalidInput(
            _("The receipt id is longer than 64 characters."), field=field
        )
    return receipt_id


def _post(
    *,
    account: PointsAccount,
    kind: str,
    points: int,
    reason: str,
    created_by: User | None = None,
    recorded_at: dt.datetime | None = None,
    **links,
) -> LedgerEntry:
    """Append one entry and move the cached balance with it. The account must be locked.

    `recorded_at` is only for importing history (seed data, migrations from another
    system) in chronological order; live writes are stamped now."""
    _balance_room_check(account, points)
    account.balance += points
    account.save(update_fields=["balance", "updated_at"])
    return LedgerEntry.objects.create(
        account=account,
        kind=kind,
        points=points,
        balance_after=account.balance,
        reason=reason[:255],
        created_by=created_by,
        created_at=recorded_at or timezone.now(),
        **links,
    )


def _balance_room_check(account: PointsAccount, points: int) -> None:
    # Refuse rather than overflow the integer columns (a DataError, a 500, on PostgreSQL).
    if account.balance + points > MAX_BALANCE:
        raise Conflict(
            _("The balance would exceed %(max)s points.") % {"max": MAX_BALANCE},
            field="points",
        )


def _replay(existing, fingerprint: str, message: str):
    if existing.fingerprint != fingerprint:
        raise Conflict(message, field="receipt_id")
    return existing, True


# PostgreSQL's serialization_failure and deadlock_detected: the transaction was
# rolled back as a whole and may simply run again.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
MAX_RETRIES = 3


def _idempotent(
    work: Callable[[], tuple[T, bool]], lookup: Callable[[], T | None], on_mismatch
) -> tuple[T, bool]:
    """Run `work` in a durable transaction; if a concurrent writer took the same
    idempotency key first (unique violation), answer from the row it wrote.

    A serialization failure or deadlock reruns the whole transaction up to
    MAX_RETRIES times after a short random pause, then re-raises. Rerunning is
    safe because durable=True means nothing outside it was part of the attempt."""
    attempt = 0
    while True:
        try:
            with transaction.atomic(durable=True):
                return work()
        except IntegrityError:
            existing = lookup()
            if existing is None:
                raise
            return on_mismatch(existing)
        except OperationalError as exc:
            sqlstate = getattr(exc.__cause__, "sqlstate", None)
            if sqlstate not in RETRYABLE_SQLSTATES or attempt >= MAX_RETRIES:
                raise
            attempt += 1
            # Jitter so that the two sides of a deadlock don't collide again.
            time.sleep(random.uniform(0.005, 0.02) * 2**attempt)  # noqa: S311


# --- accounts --------------------------------------------------------------------------


def points_account_create(*, member: Member) -> PointsAccount:
    """Open the member's points account (balance 0). Called by member_enroll."""
    return PointsAccount.objects.create(member=member)


# --- purchases ------------------------------------------------------------------------


def _lines_clean(lines: Iterable[LineInput | dict] | None) -> list[LineInput]:
    cleaned = []
    for i, raw in enumerate(lines or []):
        line = raw if isinstance(raw, LineInput) else LineInput(**raw)
        sku = (line.sku or "").strip()
        if not sku:
            raise InvalidInput(_("Enter the SKU."), field=f"lines[{i}].sku")
        try:
            qty = Decimal(str(line.quantity))
        except (InvalidOperation, ValueError, TypeError):
            raise InvalidInput(
                _("Enter a quantity."), field=f"lines[{i}].quantity"
            ) from None
        if not qty.is_finite() or qty <= 0 or qty > MAX_QUANTITY:
            raise InvalidInput(
                _("The quantity must be greater than zero."),
                field=f"lines[{i}].quantity",
            )
        price = _money(line.unit_price, field=f"lines[{i}].unit_price", allow_zero=True)
        cleaned.append(
            LineInput(
                sku=sku[:64],
                quantity=qty.quantize(Decimal("0.001")),
                unit_price=price,
                name=(line.name or "")[:200],
                category=(line.category or "")[:100],
            )
        )
    return cleaned


def _line_amount(quantity: Decimal, unit_price: Decimal) -> Decimal:
    return (quantity * unit_price).quantize(CENT, rounding=ROUND_HALF_UP)


def purchase_record(
    *,
    store: Store,
    member: Member,
    receipt_id: str,
    total: Decimal | str | None = None,
    lines: Iterable[LineInput | dict] | None = None,
    occurred_at: dt.datetime | None = None,
    source: str = Purchase.Source.API,
    created_by: User | None = None,
    recorded_at: dt.datetime | None = None,
) -> tuple[Purchase, bool]:
    """Record a till receipt and earn its points. Returns (purchase, replayed).

    Locks the member's account. Earning: total × points_per_unit rounded down,
    nothing below the minimum purchase; an earlier negative balance is paid
    back by the new points simply because they are added to it. Queues nothing.
    """
    receipt_id = _receipt(receipt_id)
    clean_lines = _lines_clean(lines)
    lines_total = sum(
        (_line_amount(line.quantity, line.unit_price) for line in clean_lines),
        Decimal("0"),
    )
    if total is None or total == "":
        if not clean_lines:
            raise InvalidInput(_("Enter the total."), field="total")
        total = lines_total
    total = _money(total, field="total")
    if clean_lines and lines_total != total:
        raise InvalidInput(
            _("The total %(total)s does not equal the sum of the lines, %(lines)s.")
            % {"total": total, "lines": lines_total},
            field="total",
        )
    if occurred_at is not None and occurred_at > timezone.now() + FUTURE_TOLERANCE:
        raise InvalidInput(
            _("The time of purchase is in the future."), field="occurred_at"
        )
    fingerprint = _fingerprint(
        {
            "member": member.pk,
            "total": str(total),
            "occurred_at": occurred_at.isoformat() if occurred_at else None,
            "lines": [line.__dict__ for line in clean_lines],
        }
    )
    mismatch = _(
        "Receipt %(receipt)s was already recorded at this store with other details."
    ) % {"receipt": receipt_id}

    def lookup() -> Purchase | None:
        return Purchase.objects.filter(store=store, receipt_id=receipt_id).first()

    def work() -> tuple[Purchase, bool]:
        account = account_lock(member_id=member.pk)
        existing = lookup()
        if existing:
            return _replay(existing, fingerprint, mismatch)
        conf = program_settings_get()
        points = points_for_amount(
            total, points_per_unit=conf.points_per_unit, min_purchase=conf.min_purchase
        )
        if points > MAX_POINTS:
            raise InvalidInput(
                _(
                    "This purchase would earn %(points)s points, more than the %(max)s allowed at once."
                )
                % {"points": points, "max": MAX_POINTS},
                field="total",
            )
        _balance_room_check(account, points)  # before balance_after is written below
        purchase = Purchase.objects.create(
            store=store,
            receipt_id=receipt_id,
            member=member,
            total=total,
            occurred_at=occurred_at or timezone.now(),
            points_earned=points,
            points_per_unit=conf.points_per_unit,
            min_purchase=conf.min_purchase,
            balance_after=account.balance + points,
            source=source,
            fingerprint=fingerprint,
            created_by=created_by,
            created_at=recorded_at or timezone.now(),
        )
        if clean_lines:
            PurchaseLine.objects.bulk_create(
                PurchaseLine(
                    purchase=purchase,
                    sku=line.sku,
                    name=line.name,
                    category=line.category,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    amount=_line_amount(line.quantity, line.unit_price),
                )
                for line in clean_lines
            )
        if points:
            _post(
                account=account,
                kind=LedgerKind.EARN,
                points=points,
                reason=f"Purchase {receipt_id} at {store.code}",
                purchase=purchase,
                created_by=created_by,
                recorded_at=recorded_at,
            )
        return purchase, False

    return _idempotent(
        work, lookup, lambda existing: _replay(existing, fingerprint, mismatch)
    )


# --- returns ---------------------------------------------------------------------------


def purchase_return_record(
    *,
    purchase: Purchase,
    store: Store,
    receipt_id: str,
    amount: Decimal | str | None = None,
    lines: Iterable[ReturnLineInput | dict] | None = None,
    created_by: User | None = None,
    recorded_at: dt.datetime | None = None,
) -> tuple[PurchaseReturn, bool]:
    """Return part or all of a purchase, by amount or by lines; claw back its points.

    The points taken back are those the returned part earned: after all returns,
    the member keeps exactly what the kept part would have earned at the rate of
    the original purchase. So all returns together never take back more than the
    purchase earned, and a full return takes back all of it. If the points were
    spent the balance goes negative. Locks the account, then the purchase.
    """
    receipt_id = _receipt(receipt_id)
    lines = [
        line if isinstance(line, ReturnLineInput) else ReturnLineInput(**line)
        for line in (lines or [])
    ]
    if (amount in (None, "")) == (not lines):
        raise InvalidInput(
            _("Give either an amount or lines to return, not both."), field="amount"
        )
    if amount not in (None, ""):
        amount = _money(amount, field="amount")
    clean_lines = []
    for i, line in enumerate(lines):
        try:
            qty = Decimal(str(line.quantity))
        except (InvalidOperation, ValueError, TypeError):
            raise InvalidInput(
                _("Enter a quantity."), field=f"lines[{i}].quantity"
            ) from None
        if not qty.is_finite() or qty <= 0:
            raise InvalidInput(
                _("The quantity must be greater than zero."),
                field=f"lines[{i}].quantity",
            )
        if qty > MAX_QUANTITY:  # quantize() below raises InvalidOperation on 1e999
            raise InvalidInput(
                _("The quantity is too large."), field=f"lines[{i}].quantity"
            )
        clean_lines.append(
            {
                "sku": (line.sku or "").strip(),
                "quantity": str(qty.quantize(Decimal("0.001"))),
            }
        )
    fingerprint = _fingerprint(
        {
            "purchase": purchase.pk,
            "amount": str(amount) if amount else None,
            "lines": clean_lines,
        }
    )
    mismatch = _(
        "Return receipt %(receipt)s was already recorded at this store with other details."
    ) % {"receipt": receipt_id}

    def lookup() -> PurchaseReturn | None:
        return PurchaseReturn.objects.filter(store=store, receipt_id=receipt_id).first()

    def work() -> tuple[PurchaseReturn, bool]:
        account = account_lock(member_id=purchase.member_id)
        existing = lookup()
        if existing:
            return _replay(existing, fingerprint, mismatch)
        p = purchase_lock(purchase_id=purchase.pk)
        value = amount if amount else _return_lines_apply(p, clean_lines)
        if value <= 0:
            # Only free items came back: no money, no points, and the database
            # refuses a zero-amount return, so say so instead of failing there.
            raise InvalidInput(
                _(
                    "The returned items are worth nothing; there are no points to take back."
                ),
                field="lines",
            )
        if value > p.returnable_total:
            raise InvalidInput(
                _(
                    "You cannot return %(amount)s: only %(left)s of this purchase is left to return."
                )
                % {"amount": value, "left": p.returnable_total},
                field="amount" if amount else "lines",
            )
        p.returned_total += value
        kept = p.total - p.returned_total
        reversed_total = p.points_earned - points_for_amount(
            kept, points_per_unit=p.points_per_unit, min_purchase=p.min_purchase
        )
        delta = reversed_total - p.points_reversed
        p.points_reversed = reversed_total
        p.save(update_fields=["returned_total", "points_reversed"])
        ret = PurchaseReturn.objects.create(
            purchase=p,
            store=store,
            receipt_id=receipt_id,
            amount=value,
            points_reversed=delta,
            balance_after=account.balance - delta,
            lines=clean_lines,
            fingerprint=fingerprint,
            created_by=created_by,
            created_at=recorded_at or timezone.now(),
        )
        if delta:
            _post(
                account=account,
                kind=LedgerKind.CLAWBACK,
                points=-delta,
                reason=f"Return {receipt_id} of purchase {p.receipt_id} at {p.store.code}",
                purchase=p,
                purchase_return=ret,
                created_by=created_by,
                recorded_at=recorded_at,
            )
        return ret, False

    return _idempotent(
        work, lookup, lambda existing: _replay(existing, fingerprint, mismatch)
    )


def _return_lines_apply(purchase: Purchase, lines: list[dict]) -> Decimal:
    """Mark returned quantities on the purchase's lines; the money value of what comes back."""
    by_sku: dict[str, list[PurchaseLine]] = {}
    for pl in purchase.lines.select_for_update().order_by("pk"):
        by_sku.setdefault(pl.sku, []).append(pl)
    value = Decimal("0")
    touched = []
    for i, line in enumerate(lines):
        wanted = Decimal(line["quantity"])
        candidates = by_sku.get(line["sku"])
        if not candidates:
            raise InvalidInput(
                _("SKU %(sku)s is not on this receipt.") % {"sku": line["sku"]},
                field=f"lines[{i}].sku",
            )
        left = sum((c.quantity - c.quantity_returned for c in candidates), Decimal("0"))
        if wanted > left:
            raise InvalidInput(
                _(
                    "You cannot return %(wanted)s of %(sku)s: only %(left)s left to return."
                )
                % {
                    "wanted": _quantity_text(wanted),
                    "sku": line["sku"],
                    "left": _quantity_text(left),
                },
                field=f"lines[{i}].quantity",
            )
        for c in candidates:
            take = min(wanted, c.quantity - c.quantity_returned)
            if take <= 0:
                continue
            # The value of what a line has had back is always the rounded value
            # of its returned quantity, so partial returns of a line add up to
            # exactly its amount: rounding each piece on its own could pass it.
            value += _line_amount(
                c.quantity_returned + take, c.unit_price
            ) - _line_amount(c.quantity_returned, c.unit_price)
            c.quantity_returned += take
            wanted -= take
            touched.append(c)
            if wanted == 0:
                break
    PurchaseLine.objects.bulk_update(set(touched), ["quantity_returned"])
    return value


def _quantity_text(quantity: Decimal) -> str:
    """3.000 → "3", 0.500 → "0.5", 20.000 → "20" (normalize() alone gives "2E+1")."""
    return format(quantity.normalize(), "f")


# --- redemptions and adjustments --------------------------------------------------------


def _points(value, *, field: str = "points", allow_negative: bool = False) -> int:
    if isinstance(value, bool):
        raise InvalidInput(_("Enter a whole number of points."), field=field)
    try:
        points = int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: int(float("inf"))
        raise InvalidInput(_("Enter a whole number of points."), field=field) from None
    if isinstance(value, float | Decimal) and points != value:
        raise InvalidInput(_("Enter a whole number of points."), field=field)
    if points == 0 or (points < 0 and not allow_negative):
        raise InvalidInput(
            _("The number of points must be greater than zero."), field=field
        )
    if abs(points) > MAX_POINTS:
        raise InvalidInput(_("The number of points is too large."), field=field)
    return points


def points_redeem(
    *,
    member: Member,
    store: Store,
    points: int,
    receipt_id: str,
    created_by: User | None = None,
    recorded_at: dt.datetime | None = None,
) -> tuple[Redemption, bool]:
    """Spend points as a discount at a till. Returns (redemption, replayed).

    Locks the account; refuses (Conflict, stating the balance) when the balance
    is smaller than `points`, so no redemption ever overdraws.
    """
    receipt_id = _receipt(receipt_id)
    points = _points(points)
    fingerprint = _fingerprint({"member": member.pk, "points": points})
    mismatch = _(
        "Receipt %(receipt)s already has a redemption at this store with other details."
    ) % {"receipt": receipt_id}

    def lookup() -> Redemption | None:
        return Redemption.objects.filter(store=store, receipt_id=receipt_id).first()

    def work() -> tuple[Redemption, bool]:
        account = account_lock(member_id=member.pk)
        existing = lookup()
        if existing:
            return _replay(existing, fingerprint, mismatch)
        if account.balance < points:
            raise Conflict(
                _(
                    "Not enough points: the balance is %(balance)s, %(points)s were asked."
                )
                % {"balance": account.balance, "points": points},
                field="points",
                balance=account.balance,
            )
        conf = program_settings_get()
        discount = (points * conf.point_value).quantize(CENT, rounding=ROUND_FLOOR)
        redemption = Redemption.objects.create(
            member=member,
            store=store,
            receipt_id=receipt_id,
            points=points,
            discount=discount,
            balance_after=account.balance - points,
            fingerprint=fingerprint,
            created_by=created_by,
            created_at=recorded_at or timezone.now(),
        )
        _post(
            account=account,
            kind=LedgerKind.REDEEM,
            points=-points,
            reason=f"Discount on receipt {receipt_id} at {store.code}",
            redemption=redemption,
            created_by=created_by,
            recorded_at=recorded_at,
        )
        return redemption, False

    return _idempotent(
        work, lookup, lambda existing: _replay(existing, fingerprint, mismatch)
    )


def points_adjust(
    *,
    member: Member,
    points: int,
    reason: str,
    created_by: User | None,
    idempotency_key: str | None = None,
    recorded_at: dt.datetime | None = None,
) -> LedgerEntry:
    """A manual correction by staff, with a mandatory reason.

    Locks the account. A deduction may not take the balance below zero.
    With an idempotency key, a retry returns the first entry.
    """
    points = _points(points, allow_negative=True)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give a reason for the adjustment."), field="reason")

    def lookup() -> LedgerEntry | None:
        return (
            LedgerEntry.objects.filter(idempotency_key=idempotency_key).first()
            if idempotency_key
            else None
        )

    def check(existing: LedgerEntry) -> tuple[LedgerEntry, bool]:
        if existing.account.member_id != member.pk or existing.points != points:
            raise Conflict(
                _("This adjustment was already made with other details."),
                field="points",
            )
        return existing, True

    def work() -> tuple[LedgerEntry, bool]:
        account = account_lock(member_id=member.pk)
        existing = lookup()
        if existing:
            return check(existing)
        # Only a deduction is refused: a credit to a member in debt after a
        # clawback lowers the debt and must go through.
        if points < 0 and account.balance + points < 0:
            raise Conflict(
                _(
                    "The balance is %(balance)s; deducting %(points)s would take it below zero."
                )
                % {"balance": account.balance, "points": -points},
                field="points",
            )
        entry = _post(
            account=account,
            kind=LedgerKind.ADJUST,
            points=points,
            reason=reason,
            created_by=created_by,
            idempotency_key=idempotency_key,
            recorded_at=recorded_at,
        )
        return entry, False

    entry, _replayed = _idempotent(work, lookup, check)
    return entry
