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
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TypeVar

from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members.errors import Conflict, InvalidInput, NotFound
from members.models import Member, Store, User
from rewards.locks import account_lock, purchase_lock, reward_lock, voucher_lock
from rewards.models import (
    LedgerEntry,
    LedgerKind,
    PointsAccount,
    Purchase,
    PurchaseLine,
    PurchaseReturn,
    Redemption,
    Reward,
    Tier,
    TierHistory,
    TierQualification,
    TierWindow,
    Voucher,
    VoucherStatus,
)
from rewards.selectors import (
    ZERO_VALUE,
    points_for_amount,
    program_settings_get,
    tier_values,
    tiers_active,
    voucher_code_normalize,
    voucher_refusal,
)

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

    Locks the member's account. Earning: total × points_per_unit × the
    multiplier of the member's tier before this purchase, rounded down,
    nothing below the minimum purchase; an earlier negative balance is paid
    back by the new points simply because they are added to it. Then the
    member moves up at once to the highest tier they now qualify for
    (TierHistory in the same transaction). Queues nothing.
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
        tiers = tiers_active()
        rate = _tier_rate(conf.points_per_unit, account=account, tiers=tiers)
        points = points_for_amount(
            total, points_per_unit=rate, min_purchase=conf.min_purchase
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
            points_per_unit=rate,  # the tier's multiplier included: returns use it
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
        _tier_upgrade(
            account, member_id=member.pk, tiers=tiers, at=recorded_at or timezone.now()
        )
        from members.services import referral_qualify_on_purchase  # no import cycle

        referral_qualify_on_purchase(member=member, purchase=purchase)
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


# --- rewards catalog and vouchers -------------------------------------------------------

VOUCHER_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud safely
VOUCHER_CODE_LENGTH = 10
IDEMPOTENCY_KEY_MAX_LENGTH = 80


def voucher_code_new() -> str:
    """'K7PQ2-XM9RD': 10 random characters in two groups, about 49 bits."""
    raw = "".join(secrets.choice(VOUCHER_ALPHABET) for _i in range(VOUCHER_CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def reward_save(*, reward: Reward, stock_seen: int | None = None) -> Reward:
    """Create or update a catalog reward (admin, seed data).

    An update locks the reward row. A stock edit is applied as a change from
    `stock_seen` (what the editor's form showed), so redemptions made while the
    form was open are not undone; the stock never goes below zero.
    """
    reward.full_clean(exclude=["stock"] if reward.pk else None)
    # Not durable: the admin's change form already runs in a transaction.
    with transaction.atomic():
        if reward.pk is None:
            reward.save()
            return reward
        current = reward_lock(reward_id=reward.pk)
        if None not in (reward.stock, current.stock, stock_seen):
            reward.stock = max(0, current.stock + reward.stock - stock_seen)
        reward.save()
        return reward


def _limit_check(member: Member, reward: Reward, now: dt.datetime) -> None:
    if not reward.limit_count or not reward.limit_days:
        return
    taken = (
        Voucher.objects.filter(
            member=member,
            reward=reward,
            issued_at__gt=now - dt.timedelta(days=reward.limit_days),
        )
        .exclude(status=VoucherStatus.CANCELLED)
        .count()
    )
    if taken >= reward.limit_count:
        raise Conflict(
            _(
                "You can take “%(reward)s” at most %(count)s time(s) in %(days)s days; "
                "you have taken it %(taken)s time(s)."
            )
            % {
                "reward": reward.name,
                "count": reward.limit_count,
                "days": reward.limit_days,
                "taken": taken,
            },
            field="reward",
        )


def _reward_available_check(reward: Reward, now: dt.datetime) -> None:
    if not reward.is_active:
        raise Conflict(
            _("“%(reward)s” is not available.") % {"reward": reward.name},
            field="reward",
        )
    if reward.active_from and reward.active_from > now:
        raise Conflict(
            _("“%(reward)s” is available from %(date)s.")
            % {"reward": reward.name, "date": _date_text(reward.active_from)},
            field="reward",
        )
    if reward.active_until and reward.active_until <= now:
        raise Conflict(
            _("“%(reward)s” is no longer available: it ended on %(date)s.")
            % {"reward": reward.name, "date": _date_text(reward.active_until)},
            field="reward",
        )
    if reward.stock is not None and reward.stock <= 0:
        raise Conflict(
            _("“%(reward)s” is out of stock: none are left.") % {"reward": reward.name},
            field="reward",
            stock=0,
        )


def _date_text(moment: dt.datetime) -> str:
    from django.utils.formats import date_format

    return date_format(timezone.localtime(moment), "SHORT_DATE_FORMAT")


def reward_redeem(
    *,
    member: Member,
    reward: Reward,
    idempotency_key: str,
    recorded_at: dt.datetime | None = None,
) -> tuple[Voucher, bool]:
    """Spend points on a catalog reward and issue its voucher. Returns (voucher, replayed).

    Locks the member's account, then the reward row (so stock and balance are
    checked and changed by one writer at a time); checks the active dates,
    the stock, the per-member limit and the balance (Conflict stating which);
    takes one unit of stock, creates the voucher and posts the REDEEM entry
    linked to it, all in one transaction. The same key again returns the first
    voucher; the same key for another member or reward is a Conflict. Queues nothing.
    """
    key = (idempotency_key or "").strip()
    if not key or len(key) > IDEMPOTENCY_KEY_MAX_LENGTH:
        raise InvalidInput(
            _("The redemption key is missing or too long."), field="idempotency_key"
        )
    fingerprint = _fingerprint({"member": member.pk, "reward": reward.pk})
    mismatch = _("This redemption was already made for another reward or member.")

    def lookup() -> Voucher | None:
        return Voucher.objects.filter(idempotency_key=key).first()

    def replay(existing: Voucher) -> tuple[Voucher, bool]:
        if existing.fingerprint != fingerprint:
            raise Conflict(mismatch, field="idempotency_key")
        return existing, True

    def work() -> tuple[Voucher, bool]:
        account = account_lock(member_id=member.pk)
        existing = lookup()
        if existing:
            return replay(existing)
        locked = reward_lock(reward_id=reward.pk)
        now = recorded_at or timezone.now()
        _reward_available_check(locked, now)
        _reward_tier_check(account, locked)
        _limit_check(member, locked, now)
        if account.balance < locked.points_cost:
            raise Conflict(
                _(
                    "Not enough points for “%(reward)s”: it costs %(cost)s, "
                    "the balance is %(balance)s."
                )
                % {
                    "reward": locked.name,
                    "cost": locked.points_cost,
                    "balance": account.balance,
                },
                field="reward",
                balance=account.balance,
            )
        if locked.stock is not None:
            locked.stock -= 1
            locked.save(update_fields=["stock", "updated_at"])
        code = voucher_code_new()
        while Voucher.objects.filter(code=code).exists():  # ~never; cheap to be sure
            code = voucher_code_new()
        voucher = Voucher.objects.create(
            reward=locked,
            member=member,
            code=code,
            points_spent=locked.points_cost,
            issued_at=now,
            expires_at=now + dt.timedelta(days=locked.voucher_valid_days),
            idempotency_key=key,
            fingerprint=fingerprint,
        )
        _post(
            account=account,
            kind=LedgerKind.REDEEM,
            points=-locked.points_cost,
            reason=f"Reward {locked.name}, voucher {code}",
            voucher=voucher,
            recorded_at=recorded_at,
        )
        return voucher, False

    return _idempotent(work, lookup, replay)


def _voucher_by_code(code: str) -> Voucher:
    normal = voucher_code_normalize(code)
    voucher = (
        Voucher.objects.select_related("reward", "member", "used_store")
        .filter(code=normal)
        .first()
        if normal
        else None
    )
    if voucher is None:
        raise NotFound(
            _("No voucher has the code %(code)s.") % {"code": (code or "")[:20]},
            field="code",
        )
    return voucher


def voucher_validate(*, code: str, store: Store) -> Voucher:
    """Find a voucher for a till and say whether it can be used now. Writes and locks nothing.

    Returns the voucher with `is_valid` and `reason` set (reason is empty when
    valid); NotFound for an unknown code. Every store accepts every voucher.
    """
    voucher = _voucher_by_code(code)
    voucher.reason = voucher_refusal(voucher)
    voucher.is_valid = not voucher.reason
    return voucher


def voucher_consume(
    *,
    code: str,
    store: Store,
    receipt_id: str,
    created_by: User | None = None,
    recorded_at: dt.datetime | None = None,
) -> tuple[Voucher, bool]:
    """Use a voucher on a receipt. Returns (voucher, replayed).

    Locks the voucher row. Idempotent by (code, store, receipt id): the same
    receipt again returns the voucher as it was used; any other use after that
    is a Conflict saying when and where it was used. An expired or cancelled
    voucher is a Conflict too. Moves no points (they left on redemption).
    """
    receipt_id = _receipt(receipt_id)
    found = _voucher_by_code(code)
    with transaction.atomic(durable=True):
        voucher = voucher_lock(voucher_id=found.pk)
        if (
            voucher.status == VoucherStatus.USED
            and voucher.used_store_id == store.pk
            and voucher.used_receipt_id == receipt_id
        ):
            return voucher, True
        now = recorded_at or timezone.now()
        reason = voucher_refusal(voucher, now=now)
        if reason:
            raise Conflict(reason, field="code", status=voucher.status)
        voucher.status = VoucherStatus.USED
        voucher.used_at = now
        voucher.used_store = store
        voucher.used_receipt_id = receipt_id
        voucher.used_by = created_by
        voucher.save(
            update_fields=[
                "status",
                "used_at",
                "used_store",
                "used_receipt_id",
                "used_by",
            ]
        )
        voucher.reward = found.reward
        voucher.member = found.member
        return voucher, False


def _voucher_close(
    *, voucher_id: int, member_id: int, status: str, now: dt.datetime, by=None
) -> Voucher | None:
    """Cancel or expire an issued voucher: one unit back to stock, points back if the
    reward says so. Locks account, reward, voucher. None when it was not issued."""
    account = account_lock(member_id=member_id)
    reward_id = Voucher.objects.values_list("reward_id", flat=True).get(pk=voucher_id)
    reward = reward_lock(reward_id=reward_id)
    voucher = voucher_lock(voucher_id=voucher_id)
    if voucher.status != VoucherStatus.ISSUED:
        return None
    if reward.stock is not None:
        reward.stock += 1
        reward.save(update_fields=["stock", "updated_at"])
    voucher.status = status
    fields = ["status", "points_refunded"]
    if status == VoucherStatus.CANCELLED:
        voucher.cancelled_at, voucher.cancelled_by = now, by
        fields += ["cancelled_at", "cancelled_by"]
        refund, what = reward.refund_points_on_cancel, "cancelled"
    else:
        voucher.expired_at = now
        fields.append("expired_at")
        refund, what = reward.refund_points_on_expiry, "expired"
    if refund:
        voucher.points_refunded = voucher.points_spent
        _post(
            account=account,
            kind=LedgerKind.REFUND,
            points=voucher.points_spent,
            reason=f"Voucher {voucher.code} {what}, points returned",
            voucher=voucher,
            created_by=by,
            recorded_at=now,
        )
    voucher.save(update_fields=fields)
    voucher.reward = reward
    return voucher


def voucher_cancel(*, voucher: Voucher, by: User | None) -> Voucher:
    """Cancel an unused voucher: its unit goes back to stock and, when the reward
    says so, its points back to the member (a REFUND entry linked to it).

    Locks the account, the reward, then the voucher. Cancelling a cancelled
    voucher again changes nothing; a used or expired one is a Conflict.
    """
    with transaction.atomic(durable=True):
        closed = _voucher_close(
            voucher_id=voucher.pk,
            member_id=voucher.member_id,
            status=VoucherStatus.CANCELLED,
            now=timezone.now(),
            by=by,
        )
        if closed is not None:
            return closed
        current = Voucher.objects.select_related("reward", "used_store").get(
            pk=voucher.pk
        )
    if current.status == VoucherStatus.CANCELLED:
        return current
    raise Conflict(
        _("Only an unused voucher can be cancelled. %(reason)s")
        % {"reason": voucher_refusal(current)},
        field="voucher",
    )


def voucher_expire_due(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """Mark issued vouchers past their expiry as expired, returning points where the
    reward says so. Returns how many it expired.

    Each voucher in its own transaction (locks: account, reward, voucher), with
    the status re-checked under the lock, so running it twice, or two workers
    at once, expires and refunds each voucher once. Queues nothing.
    """
    now = now or timezone.now()
    done = 0
    while True:
        due = list(
            Voucher.objects.filter(status=VoucherStatus.ISSUED, expires_at__lte=now)
            .order_by("expires_at", "pk")
            .values_list("pk", "member_id")[:batch]
        )
        for voucher_id, member_id in due:
            with transaction.atomic(durable=True):
                closed = _voucher_close(
                    voucher_id=voucher_id,
                    member_id=member_id,
                    status=VoucherStatus.EXPIRED,
                    now=now,
                )
            done += closed is not None
        if len(due) < batch:
            return done


# --- bonuses ---------------------------------------------------------------------------


def points_bonus_grant(
    *,
    member: Member,
    points: int,
    reason: str,
    idempotency_key: str,
    recorded_at: dt.datetime | None = None,
) -> LedgerEntry:
    """Credit a bonus (welcome, profile, birthday, referral) as a BONUS entry.

    At most once per idempotency key: a repeat returns the first entry.
    Locks the member's account. Not durable on purpose: enrollment and purchase
    recording call it inside their own transaction, so the bonus commits or
    rolls back with the event that earned it. Queues nothing.
    """
    points = _points(points)
    reason = (reason or "").strip()
    if not reason or not idempotency_key:
        raise InvalidInput(_("Give a reason for the bonus."), field="reason")

    def lookup() -> LedgerEntry | None:
        return LedgerEntry.objects.filter(idempotency_key=idempotency_key).first()

    def check(existing: LedgerEntry) -> LedgerEntry:
        if existing.account.member_id != member.pk or existing.points != points:
            raise Conflict(
                _("This bonus was already given with other details."),
                field="points",
            )
        return existing

    try:
        with transaction.atomic():
            account = account_lock(member_id=member.pk)
            existing = lookup()
            if existing:
                return check(existing)
            return _post(
                account=account,
                kind=LedgerKind.BONUS,
                points=points,
                reason=reason,
                idempotency_key=idempotency_key,
                recorded_at=recorded_at,
            )
    except IntegrityError:
        existing = lookup()
        if existing is None:
            raise
        return check(existing)


# --- tiers -----------------------------------------------------------------------------


def _reward_tier_check(account: PointsAccount, reward: Reward) -> None:
    allowed = list(reward.tiers.order_by("rank"))
    if allowed and account.tier_id not in {t.pk for t in allowed}:
        raise Conflict(
            _("“%(reward)s” is only for members of the tiers %(tiers)s.")
            % {"reward": reward.name, "tiers": ", ".join(t.name for t in allowed)},
            field="reward",
        )


RATE_PLACES = Decimal("0.0001")  # what Purchase.points_per_unit holds


def _tier_rate(base: Decimal, *, account: PointsAccount, tiers: list[Tier]) -> Decimal:
    """The base rate times the multiplier of the member's (active) tier."""
    tier = next((t for t in tiers if t.pk == account.tier_id), None)
    if tier is None:
        return base
    return (base * tier.earn_multiplier).quantize(RATE_PLACES, rounding=ROUND_FLOOR)


def _amount_text(value: Decimal, places: int = 2) -> str:
    # Stored in TierHistory.reason like ledger reasons: fixed English, "5 240.00".
    return f"{value:,.{places}f}".replace(",", " ")


def _tier_reason(tier: Tier, value: Decimal, *, at: dt.datetime) -> str:
    if tier.window == TierWindow.CALENDAR_YEAR:
        window = f"in {timezone.localtime(at).year}"
    else:
        months = tier.window_months
        window = f"in {months} month" + ("s" if months != 1 else "")
    if tier.qualification == TierQualification.SPEND:
        currency = program_settings_get().currency
        return f"Spent {_amount_text(value)} {currency} {window}"
    if tier.qualification == TierQualification.POINTS_EARNED:
        return f"Earned {_amount_text(value, 0)} points {window}"
    return f"{_amount_text(value, 0)} visits {window}"


def _tier_move(
    account: PointsAccount,
    *,
    member_id: int,
    to_tier: Tier | None,
    kind: str,
    reason: str,
    value: Decimal,
    at: dt.datetime,
) -> TierHistory:
    """Set the account's tier and write its history row. The account must be locked."""
    entry = TierHistory.objects.create(
        member_id=member_id,
        from_tier_id=account.tier_id,
        to_tier=to_tier,
        kind=kind,
        reason=reason[:255],
        value=value,
        created_at=at,
    )
    account.tier = to_tier
    account.tier_since = at
    account.tier_lapsed_on = None
    account.save(update_fields=["tier", "tier_since", "tier_lapsed_on", "updated_at"])
    return entry


def _tier_upgrade(
    account: PointsAccount, *, member_id: int, tiers: list[Tier], at: dt.datetime
) -> Tier | None:
    """Move the member up to the highest tier they qualify for; never down.
    The account must be locked. Returns the new tier, or None when unchanged."""
    if not tiers:
        return None
    current = next((t for t in tiers if t.pk == account.tier_id), None)
    if account.tier_id is not None and current is None:  # tier switched off
        floor = Tier.objects.values_list("rank", flat=True).get(pk=account.tier_id)
    else:
        floor = current.rank if current else None
    above = [t for t in tiers if floor is None or t.rank > floor]
    check = above + ([current] if current and account.tier_lapsed_on else [])
    if not check:
        return None
    values = tier_values(member_ids=[member_id], tiers=check, at=at)
    best = None
    for tier in above:  # ascending rank: the last qualifying one is the highest
        if values[tier.pk].get(member_id, ZERO_VALUE).value >= tier.threshold:
            best = tier
    if best is not None:
        value = values[best.pk].get(member_id, ZERO_VALUE).value
        _tier_move(
            account,
            member_id=member_id,
            to_tier=best,
            kind=TierHistory.Kind.INITIAL
            if account.tier_id is None
            else TierHistory.Kind.UP,
            reason=_tier_reason(best, value, at=at),
            value=value,
            at=at,
        )
        return best
    kept = (
        current is not None
        and account.tier_lapsed_on is not None
        and values[current.pk].get(member_id, ZERO_VALUE).value >= current.threshold
    )
    if kept:
        account.tier_lapsed_on = None  # qualifies again: no downgrade pending
        account.save(update_fields=["tier_lapsed_on", "updated_at"])
    return None


def tier_evaluate(*, member: Member, at: dt.datetime | None = None) -> Tier | None:
    """Move the member up at once to the highest tier they qualify for.

    Locks the member's account; writes TierHistory in the same transaction.
    Never moves down (that is tiers_downgrade_due). Returns the new tier, or
    None when it did not change. Queues nothing."""
    with transaction.atomic(durable=True):
        account = account_lock(member_id=member.pk)
        return _tier_upgrade(
            account, member_id=member.pk, tiers=tiers_active(), at=at or timezone.now()
        )


def _day_end(day: dt.date) -> dt.datetime:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start + dt.timedelta(days=1) - dt.timedelta(microseconds=1)


def _tier_downgrade_one(
    *, account_id: int, member_id: int, tier_id: int, tiers: list[Tier], at
) -> bool:
    """One member one step down, re-checked under the account lock."""
    with transaction.atomic(durable=True):
        account = account_lock(member_id=member_id)
        if account.tier_id != tier_id or (
            account.tier_since
            and timezone.localtime(account.tier_since).date()
            == timezone.localtime(at).date()
        ):
            return False  # moved meanwhile, or already today
        current = next(t for t in tiers if t.pk == tier_id)
        value = (
            tier_values(member_ids=[member_id], tiers=[current], at=at)[current.pk]
            .get(member_id, ZERO_VALUE)
            .value
        )
        if value >= current.threshold:
            return False
        lower = [t for t in tiers if t.rank < current.rank]
        to_tier = lower[-1] if lower else None
        reason = (
            f"{_tier_reason(current, value, at=at)}, below "
            f"{_amount_text(current.threshold)} for {current.name} "
            f"after {current.grace_days} grace days"
        )
        _tier_move(
            account,
            member_id=member_id,
            to_tier=to_tier,
            kind=TierHistory.Kind.DOWN,
            reason=reason,
            value=value,
            at=at,
        )
        return True


def tiers_downgrade_due(*, today: dt.date | None = None, batch: int = 500) -> int:
    """Nightly: move members whose value fell below their tier ONE step down, once
    the tier's grace days have passed since they were first found below it (and
    since they got the tier). Returns how many moved.

    Selection in chunks of `batch` accounts: one aggregate per tier per chunk,
    one bulk update to start or clear the grace period. Each move is its own
    transaction locking the member's account and re-checking. A member moved
    today is not moved again, so a second run the same day moves nobody. Queues
    nothing."""
    today = today or timezone.localdate()
    at = _day_end(today)
    tiers = tiers_active()
    by_pk = {t.pk: t for t in tiers}
    moved, last_pk = 0, 0
    while True:
        rows = list(
            PointsAccount.objects.filter(pk__gt=last_pk, tier_id__in=by_pk)
            .order_by("pk")
            .values_list("pk", "member_id", "tier_id", "tier_since", "tier_lapsed_on")[
                :batch
            ]
        )
        if not rows:
            return moved
        last_pk = rows[-1][0]
        groups: dict[int, list[int]] = {}
        for _pk, member_id, tier_id, _since, _lapsed in rows:
            groups.setdefault(tier_id, []).append(member_id)
        values: dict[int, dict[int, object]] = {}
        for tier_id, member_ids in groups.items():
            tier = by_pk[tier_id]
            values.update(tier_values(member_ids=member_ids, tiers=[tier], at=at))
        start_grace, clear_grace, due = [], [], []
        for pk, member_id, tier_id, since, lapsed in rows:
            tier = by_pk[tier_id]
            value = values[tier_id].get(member_id, ZERO_VALUE).value
            if value >= tier.threshold:
                if lapsed is not None:
                    clear_grace.append(pk)
                continue
            since_day = timezone.localtime(since).date() if since else today
            if since_day >= today:
                continue
            if lapsed is None:
                start_grace.append(pk)
                lapsed = today
            if today >= max(lapsed, since_day) + dt.timedelta(days=tier.grace_days):
                due.append((pk, member_id, tier_id))
        if clear_grace:
            PointsAccount.objects.filter(pk__in=clear_grace).update(tier_lapsed_on=None)
        if start_grace:
            PointsAccount.objects.filter(
                pk__in=start_grace, tier_lapsed_on__isnull=True
            ).update(tier_lapsed_on=today)
        for pk, member_id, tier_id in due:
            moved += _tier_downgrade_one(
                account_id=pk, member_id=member_id, tier_id=tier_id, tiers=tiers, at=at
            )
        if len(rows) < batch:
            return moved


def tier_save(*, tier: Tier) -> Tier:
    """Create or change a tier (admin, seed data). Validates, writes the row only:
    members move when they next buy (up) or at the nightly check (down). Locks
    and queues nothing."""
    tier.full_clean()
    tier.save()
    return tier
