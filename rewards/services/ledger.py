"""The ledger core: posting entries (the cached balance and the points lots move
with them), expiring lots, opening accounts, adjustments and bonuses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from dateutil.relativedelta import relativedelta
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from members.errors import Conflict, InvalidInput
from members.formatting import number_format
from members.models import Member, User
from members.rows import QueryOnce
from rewards.ledger_rows import (
    entry_write,
    entry_write_drawing,
    entry_write_guarded,
)
from rewards.locks import account_lock, account_lock_by_id
from rewards.models import (
    LedgerEntry,
    LedgerKind,
    LotDraw,
    PointsAccount,
    PointsLot,
)
from rewards.reasons import POINTS_EXPIRED, SystemReason, reason_split, system_reason
from rewards.selectors.ledger import points_available_get
from rewards.selectors.program import program_settings_get
from rewards.services.idempotency import idempotent_write
from rewards.services.inputs import points_clean
from rewards.services.webhook_events import (
    points_event_record,
)
from rewards.wallet.services import wallet_pass_changed

MAX_BALANCE = (
    2**31 - 1
)  # PointsAccount.balance and LedgerEntry.points are IntegerFields
_DEFAULT = object()
# The account's last write: a live entry is stamped no earlier (entry_post).
ACCOUNT_TIME = PointsAccount._meta.get_field("updated_at")


class AccountChanged(Exception):
    """A write on an account read without its lock found it changed, and wrote
    nothing: lock the account and write again (receipt_record does)."""


def entry_post(
    *,
    account: PointsAccount,
    kind: str,
    points: int,
    reason: str | SystemReason,
    created_by: User | None = None,
    recorded_at: dt.datetime | None = None,
    breakdown: list[dict] | None = None,
    available_at: dt.datetime | None = None,
    expires_at=_DEFAULT,
    draw_first_purchase_id: int | None = None,
    draws: list[LotDraw] | None = None,
    insert_link: bool = False,
    also: list[tuple[str, list]] | None = None,
    guarded: bool = False,
    draw_in_write: bool = False,
    **links,
) -> LedgerEntry:
    """Append one entry, move the cached balance and the points lots with it.
    The account must be locked.

    A credit opens a lot (expiring after the program's months unless
    `expires_at` is given; spendable from `available_at`, default at once); a
    debit draws on the lots soonest-expiring first (the lots of
    `draw_first_purchase_id` first, for a clawback), or takes the `draws` the
    caller planned under the same lock (points_spend_plan). An EXPIRE entry
    draws nothing here: points_expire_due closes its lot itself.
    `insert_link`: the one row in `links` is new, inserted with the entry (in
    the same statement on PostgreSQL: rewards.ledger_rows.entry_write).
    `also` (PostgreSQL): scalar subqueries the same statement answers
    (entry_write), their values left on the entry as `also_values`.

    `reason` is a system_reason (its code and parameters kept, `reason` its text
    in the default language) or text a person typed.

    `recorded_at` is only for importing history (seed data, migrations from another
    system) in chronological order; live writes are stamped now.

    `guarded` (PostgreSQL; a credit inserting its linked row): the account
    was read without its lock (rewards.locks.account_lock_for_purchase), and
    the write takes it, if the account is still as read
    (ledger_rows.entry_write_guarded; with `also`, not written at all since).
    Else nothing is written and AccountChanged is raised.

    `draw_in_write` (PostgreSQL; a redemption inserting its linked row): the
    write statement computes the draws on the spendable lots itself, after
    the lock (ledger_rows.entry_write_drawing), instead of a read of the lots
    and a plan in Python first; refused as spendable_check refuses when they
    fall short, nothing written."""
    balance_room_check(account, points)
    if insert_link and len(links) != 1:
        raise ValueError("insert_link inserts the one row of `links`.")
    code, params, text = reason_split(reason)
    ACCOUNT_TIME.at_least(account, recorded_at)  # never before any of its entries
    before = account.balance
    account.balance += points
    entry = LedgerEntry(
        account=account,
        kind=kind,
        points=points,
        balance_after=account.balance,
        reason=text,
        reason_code=code,
        reason_params=params,
        created_by=created_by,
        # A live entry: now, or the account's last write when another app
        # server's clock put that later (LatestTimeField), so that it follows
        # every entry before it in time.
        created_at=recorded_at or ACCOUNT_TIME.pre_save(account, False),
        breakdown=breakdown or [],
        **links,
    )
    if guarded:
        if points <= 0 or not insert_link:
            raise ValueError("A guarded write is a credit inserting its row.")
        # The lot of all the points: the statement takes a debt from it.
        entry.also_values = entry_write_guarded(
            account,
            entry,
            _lot_new(
                account, entry, debt=0, available_at=available_at, expires_at=expires_at
            ),
            next(iter(links.values())),
            room=MAX_BALANCE - points,
            version=account.row_version if also else None,
            also=also or (),
            stamped=recorded_at is None,
        )
        if entry.also_values is None:
            account.balance = before
            raise AccountChanged
    else:
        written = False
        if draw_in_write:
            if kind != LedgerKind.REDEEM or not insert_link or draws is not None:
                raise ValueError(
                    "A draw in the write is a redemption inserting its row."
                )
            entry.also_values = []
            written = bool(
                entry_write_drawing(
                    account,
                    entry,
                    next(iter(links.values())),
                    spendable_at=timezone.now(),
                )
            )
            if not written:
                # More lots than the statement looks at, or too few points:
                # planned over all the lots (refused, stating the balance
                # before the spend, when they fall short).
                account.balance = before
                draws = points_spend_plan(account, -points, field="points")
                account.balance = before + points
        if not written:
            entry.also_values = _entry_write_locked(
                account,
                entry,
                before,
                kind=kind,
                available_at=available_at,
                expires_at=expires_at,
                draw_first_purchase_id=draw_first_purchase_id,
                draws=draws,
                row=next(iter(links.values())) if insert_link else None,
                also=also,
            )
    wallet_pass_changed(member_id=account.member_id)
    points_event_record(entry=entry, member_id=account.member_id)
    return entry


def _entry_write_locked(
    account,
    entry,
    before,
    *,
    kind,
    available_at,
    expires_at,
    draw_first_purchase_id,
    draws,
    row,
    also,
) -> list:
    """entry_post's write on a locked account: the lot a credit opens (a debt
    paid first), or the lots a debit draws on, then entry_write."""
    points = entry.points
    lot = (
        _lot_new(
            account,
            entry,
            debt=max(-before, 0),
            available_at=available_at,
            expires_at=expires_at,
        )
        if points > 0
        else None
    )
    if points < 0 and kind != LedgerKind.EXPIRE and draws is None:
        draws, short = lots_draw_plan(
            account,
            -points,
            first_purchase_id=draw_first_purchase_id,
            # What a member spends must be spendable; staff deductions and
            # clawbacks may take pending points too.
            spendable_only=kind == LedgerKind.REDEEM,
        )
        # What the lots cannot cover is debt: only a clawback gets here with
        # too little (the balance is negative).
        if short and account.balance >= 0:
            raise RuntimeError(f"Points lots of account {account.pk} are out of step.")
    # The balance, the entry and its lot or its draws: one round trip under
    # the lock.
    return entry_write(account, entry, lot, draws or [], row=row, also=also or ())


def points_expiry(earned_at: dt.datetime, conf) -> dt.datetime | None:
    """When points earned at `earned_at` expire under the program settings `conf`."""
    months = conf.points_expire_months
    return earned_at + relativedelta(months=months) if months else None


def _lot_new(
    account, entry, *, debt: int, available_at, expires_at
) -> PointsLot | None:
    # A member in debt after a clawback pays it first: only the rest is a lot.
    # Invariant kept: sum(lot.remaining) == max(balance, 0).
    remaining = max(entry.points - debt, 0)
    if not remaining:
        return None
    if expires_at is _DEFAULT:
        expires_at = points_expiry(entry.created_at, program_settings_get())
    return PointsLot(
        account=account,
        entry=entry,
        points=entry.points,
        remaining=remaining,
        earned_at=entry.created_at,
        available_at=max(available_at or entry.created_at, entry.created_at),
        expires_at=expires_at,
    )


def lots_in_spending_order(qs):
    """Soonest-expiring first, never-expiring last, then oldest first."""
    return qs.order_by(F("expires_at").asc(nulls_last=True), "earned_at", "id")


def _open_lots_page(shape, *, account_id, spendable_at, purchase_id):
    """One page of an account's open lots in spending order: `shape` is
    (spendable now only, of one purchase only, start, stop)."""
    spendable, of_purchase, start, stop = shape
    lots = PointsLot.objects.filter(account_id=account_id, remaining__gt=0)
    if spendable:
        lots = lots.filter(available_at__lte=spendable_at)
    if of_purchase:
        lots = lots.filter(entry__purchase_id=purchase_id)
    return lots_in_spending_order(lots)[start:stop]


# Compiled once per shape: a redemption reads its lots while the account is locked.
_OPEN_LOTS = QueryOnce(
    PointsLot,
    _open_lots_page,
    account_id=-910_000_001,
    purchase_id=-910_000_002,
    spendable_at=dt.datetime(2000, 1, 1, 0, 0, 1, 234_567, tzinfo=dt.UTC),
)


def lots_draw_plan(
    account,
    need: int,
    *,
    first_purchase_id: int | None = None,
    spendable_only: bool = False,
) -> tuple[list[LotDraw], int]:
    """The draws that take `need` points from the account's lots (soonest-
    expiring first; the lots of `first_purchase_id` first; with
    `spendable_only`, the lots spendable now), each lot's `remaining` lowered
    in memory, and what they could not cover. Reads, writes nothing:
    entry_write writes them with their entry. The account must be locked."""
    values = {
        "account_id": account.pk,
        "spendable_at": timezone.now() if spendable_only else None,
        "purchase_id": first_purchase_id,
    }
    sources = []
    if first_purchase_id is not None:
        sources.append((spendable_only, True))
    sources.append((spendable_only, False))
    touched: dict[int, PointsLot] = {}
    draws: list[LotDraw] = []
    for spendable, of_purchase in sources:
        pages = _in_pages(
            lambda start, stop, kind=(spendable, of_purchase): _OPEN_LOTS.rows(
                (*kind, start, stop), **values
            )
        )
        for lot in pages:
            if need == 0:
                break
            lot = touched.get(lot.pk, lot)
            take = min(lot.remaining, need)
            if not take:
                continue
            lot.remaining -= take
            need -= take
            touched[lot.pk] = lot
            draws.append(LotDraw(lot=lot, points=take))
        if need == 0:
            break
    return draws, need


def points_spend_plan(
    account: PointsAccount, points: int, *, field: str
) -> list[LotDraw]:
    """The draws of a member spending `points` (entry_post's `draws`), read
    under the account's lock before anything is written: one statement, which
    is also the check that they can be spent. Refuses as spendable_check does
    (Conflict, stating the balance) when the spendable lots fall short."""
    draws, short = lots_draw_plan(account, points, spendable_only=True)
    if short:
        spendable_check(account, points, field=field)
        raise RuntimeError(f"Points lots of account {account.pk} are out of step.")
    return draws


def _in_pages(read: Callable[[int, int], list], size: int = 50, first: int = 8):
    """The lots `read(start, stop)` gives, read `first` then `size` at a time, as
    far as the caller goes: plain queries, where .iterator() on PostgreSQL
    declares, fetches and closes a server-side cursor (three statements under
    the account's lock). Most spends take one or two lots: a first page of 50
    made 50 instances while the account was locked (bench 4). The account is
    locked, so its lots hold still between pages."""
    start, length = 0, first
    while True:
        page = read(start, start + length)
        yield from page
        if len(page) < length:
            return
        start += length
        length = size


def spendable_check(account: PointsAccount, points: int, *, field: str) -> None:
    """Refuse (Conflict, stating the balance) to spend more than is spendable now."""
    available, pending = points_available_get(account=account)
    if available >= points:
        return
    if pending and account.balance >= points:
        message = _(
            "Not enough points yet: %(available)s can be spent now, %(pending)s more "
            "are pending after a recent purchase; %(points)s were asked."
        ) % {"available": available, "pending": pending, "points": points}
    else:
        message = _(
            "Not enough points: the balance is %(balance)s, %(points)s were asked."
        ) % {"balance": account.balance, "points": points}
    raise Conflict(message, field=field, balance=account.balance)


def points_expire_due(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """Expire every lot whose time has come: one EXPIRE entry per lot, for what is
    left of it. Nightly (Celery beat). Each account in its own transaction, under
    its lock; a lot is closed by its expiry entry, so a second run (or two runs at
    once) expires nothing twice. Returns the number of lots expired."""
    now = now or timezone.now()
    done = 0
    while True:
        account_ids = list(
            PointsLot.objects.filter(remaining__gt=0, expires_at__lte=now)
            .order_by("account_id")
            .values_list("account_id", flat=True)
            .distinct()[:batch]
        )
        if not account_ids:
            return done
        for account_id in account_ids:
            done += _account_lots_expire(account_id, now)


def _account_lots_expire(account_id: int, now: dt.datetime) -> int:
    def work() -> tuple[int, bool]:
        account = account_lock_by_id(account_id=account_id)
        lots = list(
            PointsLot.objects.filter(
                account=account, remaining__gt=0, expires_at__lte=now
            ).order_by("expires_at", "id")
        )
        # Stamped `now` (maybe a time the job was given), but never before the
        # account's latest entry: the statement's order is the balance's.
        latest = (
            LedgerEntry.objects.filter(account=account)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        at = max(now, latest) if latest else now
        for lot in lots:
            entry = entry_post(
                account=account,
                kind=LedgerKind.EXPIRE,
                points=-lot.remaining,
                reason=system_reason(
                    POINTS_EXPIRED, date=timezone.localtime(lot.earned_at).date()
                ),
                recorded_at=at,
            )
            LotDraw.objects.create(entry=entry, lot=lot, points=lot.remaining)
            lot.remaining = 0
            lot.expiry_entry = entry
            lot.save(update_fields=["remaining", "expiry_entry"])
        return len(lots), False

    count, _replayed = idempotent_write(work, lambda: None, None)
    return count


def balance_room_check(account: PointsAccount, points: int) -> None:
    # Refuse rather than overflow the integer columns (a DataError, a 500, on PostgreSQL).
    if account.balance + points > MAX_BALANCE:
        raise Conflict(
            ngettext(
                "The balance would exceed %(max)s point.",
                "The balance would exceed %(max)s points.",
                MAX_BALANCE,
            )
            % {"max": number_format(MAX_BALANCE)},
            field="points",
        )


# rolled back as a whole and may simply run again.
# --- adjustments -----------------------------------------------------------------------


def points_adjust(
    *,
    member: Member,
    points: int,
    reason: str | SystemReason,
    created_by: User | None,
    idempotency_key: str | None = None,
    recorded_at: dt.datetime | None = None,
    on_written: Callable[[LedgerEntry], None] | None = None,
) -> LedgerEntry:
    """A manual correction by staff, with a mandatory reason.

    Locks the account. A deduction may not take the balance below zero.
    With an idempotency key, a retry returns the first entry.
    `on_written(row)`, when given, runs inside the transaction after the write
    (not on a replay); raising there rolls the write back (staff audit, limits).
    """
    points = points_clean(points, allow_negative=True)
    reason = (reason or "").strip()  # a SystemReason strips to itself
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
        entry = points_adjust_post(
            account=account,
            points=points,
            reason=reason,
            created_by=created_by,
            idempotency_key=idempotency_key,
            recorded_at=recorded_at,
        )
        if on_written is not None:
            on_written(entry)
        return entry, False

    entry, _replayed = idempotent_write(work, lookup, check)
    return entry


def points_adjust_post(
    *,
    account: PointsAccount,
    points: int,
    reason: str | SystemReason,
    created_by: User | None,
    idempotency_key: str | None = None,
    recorded_at: dt.datetime | None = None,
) -> LedgerEntry:
    """points_adjust's write, inside the caller's transaction, for a caller that
    holds the account lock (taken through rewards.locks) and has looked up its
    key: refuses a deduction below zero (Conflict), posts the ADJUST entry."""
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
    return entry_post(
        account=account,
        kind=LedgerKind.ADJUST,
        points=points,
        reason=reason,
        created_by=created_by,
        idempotency_key=idempotency_key,
        recorded_at=recorded_at,
    )


# --- bonuses ---------------------------------------------------------------------------


def points_bonus_grant(
    *,
    member: Member,
    points: int,
    reason: str | SystemReason,
    idempotency_key: str,
    recorded_at: dt.datetime | None = None,
) -> LedgerEntry:
    """Credit a bonus (welcome, profile, birthday, referral) as a BONUS entry.

    At most once per idempotency key: a repeat returns the first entry.
    Locks the member's account. Not durable on purpose: enrollment and purchase
    recording call it inside their own transaction, so the bonus commits or
    rolls back with the event that earned it. Queues nothing.
    """
    points = points_clean(points)
    reason = (reason or "").strip()  # a SystemReason strips to itself
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
            return entry_post(
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
