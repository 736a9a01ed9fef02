"""Stamp cards: purchases stamp them, a full card issues its voucher and a new
card opens, a return takes back the stamps it earned, old cards expire.

Stamps are handed out by the same transaction that records the purchase
(`purchase_record` calls `stamps_award_for_purchase`) and taken back by the one
that records the return (`purchase_return_record` calls
`stamps_revoke_for_return`); both run under the member's account lock, then
lock the member's open cards (rewards.locks.stamp_cards_lock), then vouchers.

Taking stamps back, the rule: the member should end up as if the returned part
had never stamped. The stamps come off the open card first. When it has too
few, the most recently completed card whose voucher is still unused is undone:
its voucher is cancelled, the card becomes "revoked", and its stamps (less
those still to take back) move to the open card. When every voucher was
already used, the rest is recorded as stamps owed on the open card; the next
stamps pay them first (a debt lapses if that card expires).

Each purchase's stamps per program are the sum of its entries, so a return
takes back only what the purchase still counts for above what its kept part
earns: running the same return twice, or returning the same items again,
takes nothing more.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_FLOOR, Decimal

from django.db import transaction
from django.db.models import F, Max, Q, Sum
from django.utils import timezone

from rewards.locks import account_lock, stamp_card_lock, stamp_cards_lock, voucher_lock
from rewards.models import (
    Purchase,
    PurchaseLine,
    PurchaseReturn,
    StampCard,
    StampCardStatus,
    StampEntry,
    StampEntryKind,
    StampProgram,
    StampTrigger,
    VoucherSource,
    VoucherStatus,
)
from rewards.reasons import PURCHASE_EARN, SystemReason, reason_split, system_reason
from rewards.reasons_stamps import (
    STAMP_CARD_EXPIRED,
    STAMP_CARRIED_OVER,
    STAMP_MOVED_FROM,
    STAMP_MOVED_TO,
    STAMP_OWED_PAID,
    STAMP_RETURN,
    STAMP_RETURN_OWED,
    STAMP_RETURN_VOUCHER_CANCELLED,
)
from rewards.services.inputs import line_amount
from rewards.services.vouchers import voucher_grant

# A till may send 10,000 coffees on one receipt; the stamp columns are small
# integers and each full card writes a voucher, so one receipt stamps at most this.
MAX_STAMPS_PER_PURCHASE = 100


# --- what a purchase earns -------------------------------------------------------------


def stamp_programs_running(*, store_id: int, on: dt.date) -> list[StampProgram]:
    """Active programs whose dates include `on` and that count `store_id`'s purchases."""
    return list(
        StampProgram.objects.filter(active=True)
        .filter(Q(starts_on__isnull=True) | Q(starts_on__lte=on))
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=on))
        .filter(Q(stores__isnull=True) | Q(stores=store_id))
        .select_related("reward")
        .distinct()
        .order_by("pk")
    )


def stamps_for_purchase(
    program: StampProgram, purchase: Purchase, lines: Iterable[PurchaseLine]
) -> int:
    """The stamps `purchase`, as it stands after its returns, earns in `program`.

    Items returned by line come off exactly; a return by amount takes the same
    share of every line that is left (the till did not say which items came
    back). Free items (price 0, e.g. a coffee paid with a voucher) never count.
    """
    kept_total = purchase.total - purchase.returned_total
    if kept_total <= 0:
        return 0
    units = Decimal("0")
    spend = kept_total
    if program.has_item_filter:
        lines = list(lines)
        back_by_lines = sum(
            (line_amount(li.quantity_returned, li.unit_price) for li in lines),
            Decimal("0"),
        )
        left = purchase.total - back_by_lines
        share = kept_total / left if left > 0 else Decimal("0")
        matching = [
            li
            for li in lines
            if li.unit_price > 0 and program.line_matches(li.sku, li.category)
        ]
        units = share * sum(
            (li.quantity - li.quantity_returned for li in matching), Decimal("0")
        )
        spend = share * sum(
            (
                li.amount - line_amount(li.quantity_returned, li.unit_price)
                for li in matching
            ),
            Decimal("0"),
        )
    if program.trigger == StampTrigger.UNIT:
        stamps = int(units.to_integral_value(rounding=ROUND_FLOOR))
    elif program.trigger == StampTrigger.MIN_SPEND:
        stamps = int(spend >= program.min_spend)
    else:
        stamps = int(units > 0 or not program.has_item_filter)
    return min(stamps, MAX_STAMPS_PER_PURCHASE)


# --- cards -------------------------------------------------------------------------------


def _card_open(*, member_id: int, program: StampProgram, at: dt.datetime) -> StampCard:
    last = StampCard.objects.filter(member_id=member_id, program=program).aggregate(
        n=Max("number")
    )["n"]
    return StampCard.objects.create(
        member_id=member_id,
        program=program,
        number=(last or 0) + 1,
        needed=program.stamps_needed,
        opened_at=at,
        expires_at=(
            at + dt.timedelta(days=program.card_valid_days)
            if program.card_valid_days
            else None
        ),
    )


def _entry(
    card: StampCard,
    kind: str,
    delta: int,
    reason: SystemReason,
    at: dt.datetime,
    *,
    owed_delta: int = 0,
    purchase: Purchase | None = None,
    purchase_return: PurchaseReturn | None = None,
) -> StampEntry:
    code, params, text = reason_split(reason)
    return StampEntry.objects.create(
        card=card,
        kind=kind,
        delta=delta,
        owed_delta=owed_delta,
        reason=text,
        reason_code=code,
        reason_params=params,
        purchase=purchase,
        purchase_return=purchase_return,
        created_at=at,
    )


def _card_expire(card: StampCard, at: dt.datetime) -> None:
    """The card must be locked and open. Its stamps stay on it; a debt lapses."""
    _entry(
        card,
        StampEntryKind.EXPIRE,
        0,
        system_reason(STAMP_CARD_EXPIRED, stamps=card.stamps, needed=card.needed),
        at,
        owed_delta=-card.owed,
    )
    card.status = StampCardStatus.EXPIRED
    card.owed = 0
    card.closed_at = at
    card.save(update_fields=["status", "owed", "closed_at"])


def _card_current(
    card: StampCard | None, *, member_id: int, program: StampProgram, at: dt.datetime
) -> StampCard:
    """The open card to stamp: `card` unless it has run out, else a new one."""
    if card is not None and card.expires_at is not None and card.expires_at <= at:
        _card_expire(card, at)
        card = None
    return card or _card_open(member_id=member_id, program=program, at=at)


def _card_complete(card: StampCard, program: StampProgram, at: dt.datetime) -> None:
    voucher, _replayed = voucher_grant(
        member=card.member,
        reward=program.reward,
        source=VoucherSource.STAMP_CARD,
        idempotency_key=f"stamp-card:{card.pk}",
        at=at,
    )
    card.status = StampCardStatus.COMPLETED
    card.completed_at = at
    card.voucher = voucher
    card.save(update_fields=["stamps", "owed", "status", "completed_at", "voucher"])


def _stamps_add(
    card: StampCard,
    program: StampProgram,
    count: int,
    *,
    kind: str,
    reason: SystemReason,
    at: dt.datetime,
    purchase: Purchase | None = None,
) -> StampCard:
    """Put `count` stamps on the open `card`: stamps owed are paid first, a full card
    is completed (its voucher issued) and the rest go on a new card. Returns the
    open card after."""
    while count > 0:
        pay = min(count, card.owed)
        fill = min(count - pay, card.needed - card.stamps)
        text = (
            system_reason(STAMP_OWED_PAID, reason=reason, count=pay) if pay else reason
        )
        _entry(card, kind, fill, text, at, owed_delta=-pay, purchase=purchase)
        card.owed -= pay
        card.stamps += fill
        count -= pay + fill
        if card.stamps < card.needed:
            card.save(update_fields=["stamps", "owed"])
            break
        _card_complete(card, program, at)
        card = _card_open(member_id=card.member_id, program=program, at=at)
        if count:
            reason = system_reason(STAMP_CARRIED_OVER, reason=reason)
    return card


def stamps_award_for_purchase(
    *, purchase: Purchase, programs: list[StampProgram] | None = None
) -> list[StampCard]:
    """Stamp the member's cards for a purchase just recorded; returns the open cards
    after. Full cards issue their voucher (voucher_grant, key "stamp-card:<id>")
    and a new card opens with the extra stamps.

    Runs inside purchase_record's transaction, after its account lock; locks the
    member's open cards of the programs that apply. Queues nothing.
    """
    at = purchase.created_at
    if programs is None:  # the purchase passes the running ones it already holds
        programs = stamp_programs_running(
            store_id=purchase.store_id,
            on=timezone.localtime(purchase.occurred_at).date(),
        )
    if not programs:
        return []
    lines = (
        list(purchase.lines.all()) if any(p.has_item_filter for p in programs) else []
    )
    earned = [(p, stamps_for_purchase(p, purchase, lines)) for p in programs]
    earned = [(p, n) for p, n in earned if n > 0]
    if not earned:
        return []
    open_cards = {
        c.program_id: c
        for c in stamp_cards_lock(
            member_id=purchase.member_id, program_ids=[p.pk for p, _n in earned]
        )
    }
    reason = system_reason(
        PURCHASE_EARN, receipt=purchase.receipt_id, store=purchase.store.code
    )
    result = []
    for program, count in earned:
        card = _card_current(
            open_cards.get(program.pk),
            member_id=purchase.member_id,
            program=program,
            at=at,
        )
        card.member = purchase.member
        result.append(
            _stamps_add(
                card,
                program,
                count,
                kind=StampEntryKind.EARN,
                reason=reason,
                at=at,
                purchase=purchase,
            )
        )
    return result


# --- returns -----------------------------------------------------------------------------


def _voucher_revoke(voucher_id: int, at: dt.datetime) -> bool:
    """Cancel a stamp card's unused voucher (no points moved: it cost none). Locks it.
    False when it is no longer unused (a till used it a moment ago)."""
    voucher = voucher_lock(voucher_id=voucher_id)
    if voucher.status != VoucherStatus.ISSUED:
        return False
    voucher.status = VoucherStatus.CANCELLED
    voucher.cancelled_at = at
    voucher.save(update_fields=["status", "cancelled_at"])
    return True


def _stamps_take(
    card: StampCard,
    program: StampProgram,
    count: int,
    *,
    purchase: Purchase,
    purchase_return: PurchaseReturn,
    at: dt.datetime,
) -> StampCard:
    """Take `count` stamps back for a return, by the rule in the module docstring.
    `card` is the locked open card; returns the open card after."""
    receipts = {
        "return_receipt": purchase_return.receipt_id,
        "receipt": purchase.receipt_id,
    }
    reason = system_reason(STAMP_RETURN, **receipts)
    links = {"purchase": purchase, "purchase_return": purchase_return}
    passed: set[int] = set()
    while count > 0:
        take = min(count, card.stamps)
        if take:
            _entry(card, StampEntryKind.RETURN, -take, reason, at, **links)
            card.stamps -= take
            card.save(update_fields=["stamps"])
            count -= take
        if not count:
            break
        done = (
            StampCard.objects.filter(
                member_id=card.member_id,
                program=program,
                status=StampCardStatus.COMPLETED,
                voucher__status=VoucherStatus.ISSUED,
            )
            .exclude(pk__in=passed)
            .order_by("-completed_at", "-pk")
            .values_list("pk", flat=True)
            .first()
        )
        if done is None:
            _entry(
                card,
                StampEntryKind.RETURN,
                0,
                system_reason(STAMP_RETURN_OWED, **receipts, count=count),
                at,
                owed_delta=count,
                **links,
            )
            card.owed += count
            card.save(update_fields=["owed"])
            break
        passed.add(done)
        full = stamp_card_lock(card_id=done)
        if full.status != StampCardStatus.COMPLETED or not _voucher_revoke(
            full.voucher_id, at
        ):
            continue
        take = min(count, full.stamps)
        _entry(
            full,
            StampEntryKind.RETURN,
            -take,
            system_reason(STAMP_RETURN_VOUCHER_CANCELLED, **receipts),
            at,
            **links,
        )
        count -= take
        moved = full.stamps - take
        if moved:
            _entry(
                full,
                StampEntryKind.MOVE,
                -moved,
                system_reason(STAMP_MOVED_TO, number=card.number),
                at,
            )
        full.stamps = 0
        full.status = StampCardStatus.REVOKED
        full.closed_at = at
        full.save(update_fields=["stamps", "status", "closed_at"])
        if moved:
            card = _stamps_add(
                card,
                program,
                moved,
                kind=StampEntryKind.MOVE,
                reason=system_reason(STAMP_MOVED_FROM, number=full.number),
                at=at,
            )
    return card


def stamps_revoke_for_return(*, purchase_return: PurchaseReturn) -> None:
    """Take back the stamps the returned part of a purchase earned.

    Runs inside purchase_return_record's transaction, after its account and
    purchase locks and after the purchase's returned total and line quantities
    were updated; locks the member's open cards, then any voucher it cancels.
    Queues nothing.
    """
    purchase = purchase_return.purchase
    counted = dict(
        StampEntry.objects.filter(purchase=purchase)
        .values("card__program_id")
        .annotate(units=Sum(F("delta") - F("owed_delta")))
        .values_list("card__program_id", "units")
    )
    counted = {pk: units for pk, units in counted.items() if units > 0}
    if not counted:
        return
    programs = StampProgram.objects.select_related("reward").in_bulk(list(counted))
    lines = (
        list(purchase.lines.all())
        if any(p.has_item_filter for p in programs.values())
        else []
    )
    at = purchase_return.created_at
    open_cards = {
        c.program_id: c
        for c in stamp_cards_lock(
            member_id=purchase.member_id, program_ids=sorted(counted)
        )
    }
    for program_id in sorted(counted):
        program = programs[program_id]
        excess = counted[program_id] - stamps_for_purchase(program, purchase, lines)
        if excess <= 0:
            continue
        card = open_cards.get(program_id) or _card_open(
            member_id=purchase.member_id, program=program, at=at
        )
        card.member = purchase.member
        _stamps_take(
            card,
            program,
            excess,
            purchase=purchase,
            purchase_return=purchase_return,
            at=at,
        )


# --- expiry ------------------------------------------------------------------------------


def stamp_cards_expire_due(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """Close open cards past their expiry date. Returns how many it closed.

    Each card in its own transaction (locks: the member's account, then the
    card), with the status and date re-checked under the lock, so running it
    twice, or beside a purchase that expires the card itself, closes it once.
    Queues nothing.
    """
    now = now or timezone.now()
    done = 0
    while True:
        due = list(
            StampCard.objects.filter(status=StampCardStatus.OPEN, expires_at__lte=now)
            .order_by("expires_at", "pk")
            .values_list("pk", "member_id")[:batch]
        )
        for card_id, member_id in due:
            with transaction.atomic(durable=True):
                account_lock(member_id=member_id)
                card = stamp_card_lock(card_id=card_id)
                if card.status == StampCardStatus.OPEN and card.expires_at <= now:
                    _card_expire(card, now)
                    done += 1
        if len(due) < batch:
            return done


def stamp_program_save(*, program: StampProgram) -> StampProgram:
    """Create or update a program (admin, seed data) after validating it.
    Its stores are saved by the caller (the admin form's many-to-many)."""
    program.full_clean(exclude=["stores"])
    program.save()
    return program
