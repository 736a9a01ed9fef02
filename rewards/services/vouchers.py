"""The rewards catalog and vouchers: redeeming, validating, consuming, cancelling,
expiring."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable

from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from members.errors import Conflict, InvalidInput, NotFound
from members.formatting import date_format
from members.models import Member, Store, User
from rewards.locks import account_lock, reward_lock, voucher_lock
from rewards.models import (
    Category,
    LedgerKind,
    PointsAccount,
    PointsLot,
    Reward,
    Voucher,
    VoucherSource,
    VoucherStatus,
)
from rewards.reasons import (
    REWARD_REDEEM,
    VOUCHER_CANCELLED_REFUND,
    VOUCHER_EXPIRED_REFUND,
    system_reason,
)
from rewards.selectors.catalog import voucher_code_normalize, voucher_refusal
from rewards.services.idempotency import body_fingerprint, idempotent_write
from rewards.services.inputs import receipt_id_clean
from rewards.services.ledger import entry_post, points_spend_plan
from rewards.services.pictures import reward_thumbnail_refresh
from rewards.services.webhook_events import (
    voucher_consumed_record,
    voucher_issued_record,
)

# --- rewards catalog and vouchers -------------------------------------------------------

VOUCHER_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud safely
VOUCHER_CODE_LENGTH = 10
IDEMPOTENCY_KEY_MAX_LENGTH = 80


def voucher_code_new() -> str:
    """'K7PQ2-XM9RD': 10 random characters in two groups, about 49 bits."""
    raw = "".join(secrets.choice(VOUCHER_ALPHABET) for _i in range(VOUCHER_CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def reward_save(*, reward: Reward, stock_seen: int | None = None) -> Reward:
    """Create or update a catalog reward (admin, seed data), with the thumbnail
    of a new picture (rewards.services.pictures, written to the media storage).

    An update locks the reward row. A stock edit is applied as a change from
    `stock_seen` (what the editor's form showed), so redemptions made while the
    form was open are not undone; the stock never goes below zero.
    """
    reward.full_clean(exclude=["stock"] if reward.pk else None)
    reward_thumbnail_refresh(reward=reward)
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


def category_save(*, category: Category) -> Category:
    """Create or update an item category's customer-facing names (admin, seed
    data); the code is matched case-insensitively. Locks nothing."""
    category.full_clean()
    category.save()
    return category


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
    return date_format(timezone.localtime(moment))


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
    fingerprint = body_fingerprint({"member": member.pk, "reward": reward.pk})
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
        # The lots to draw on, read once: also the check that the points are
        # spendable now (not pending).
        draws = points_spend_plan(account, locked.points_cost, field="reward")
        if locked.stock is not None:
            locked.stock -= 1
            locked.save(update_fields=["stock", "updated_at"])
        code = _voucher_code_unused()
        voucher = Voucher(
            reward=locked,
            member=member,
            code=code,
            points_spent=locked.points_cost,
            issued_at=now,
            expires_at=now + dt.timedelta(days=locked.voucher_valid_days),
            idempotency_key=key,
            fingerprint=fingerprint,
        )
        entry_post(
            account=account,
            kind=LedgerKind.REDEEM,
            points=-locked.points_cost,
            reason=system_reason(
                REWARD_REDEEM, reward_id=locked.pk, reward=locked.name, code=code
            ),
            voucher=voucher,
            recorded_at=recorded_at,
            draws=draws,
            # The voucher inserted with its entry, balance and draws: one
            # statement on PostgreSQL (rewards.ledger_rows.entry_write).
            insert_link=True,
        )
        voucher_issued_record(voucher=voucher)
        return voucher, False

    return idempotent_write(work, lookup, replay)


def voucher_grant(
    *,
    member: Member,
    reward: Reward,
    source: str,
    idempotency_key: str,
    at: dt.datetime | None = None,
) -> tuple[Voucher, bool]:
    """Give a member a reward's voucher for free: a full stamp card, a birthday, a
    membership perk, a campaign coupon. Returns (voucher, replayed).

    No points move and no stock is taken: stock limits what customers can buy
    with points, while a voucher the program promised is always honoured. The
    reward's active dates and tier restriction do not apply either. The key
    (e.g. "stamp-card:42") makes a retry return the first voucher; the same key
    for another member or reward is a Conflict. Locks the member's account so a
    grant and a redemption of the same member never interleave. Queues nothing.
    """
    if source == VoucherSource.REDEEMED or source not in VoucherSource.values:
        raise InvalidInput(_("Choose why the voucher is given."), field="source")
    key = (idempotency_key or "").strip()
    if not key or len(key) > IDEMPOTENCY_KEY_MAX_LENGTH:
        raise InvalidInput(
            _("The redemption key is missing or too long."), field="idempotency_key"
        )
    fingerprint = body_fingerprint(
        {"member": member.pk, "reward": reward.pk, "source": source}
    )
    mismatch = _("This voucher was already given for another reward or member.")

    def lookup() -> Voucher | None:
        return Voucher.objects.filter(idempotency_key=key).first()

    def replay(existing: Voucher) -> tuple[Voucher, bool]:
        if existing.fingerprint != fingerprint:
            raise Conflict(mismatch, field="idempotency_key")
        return existing, True

    def work() -> tuple[Voucher, bool]:
        account_lock(member_id=member.pk)
        existing = lookup()
        if existing:
            return replay(existing)
        now = at or timezone.now()
        voucher = Voucher.objects.create(
            reward=reward,
            member=member,
            code=_voucher_code_unused(),
            source=source,
            points_spent=0,
            issued_at=now,
            expires_at=now + dt.timedelta(days=reward.voucher_valid_days),
            idempotency_key=key,
            fingerprint=fingerprint,
        )
        voucher_issued_record(voucher=voucher)
        return voucher, False

    if transaction.get_connection().in_atomic_block:
        # Called from inside another service's transaction (a purchase filling a
        # stamp card): that one is durable and owns retries; just join it.
        return work()
    return idempotent_write(work, lookup, replay)


def _voucher_code_unused() -> str:
    code = voucher_code_new()
    while Voucher.objects.filter(code=code).exists():  # ~never; cheap to be sure
        code = voucher_code_new()
    return code


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
    voucher.reason = voucher_refusal(voucher, till=store)
    voucher.is_valid = not voucher.reason
    return voucher


def voucher_consume(
    *,
    code: str,
    store: Store,
    receipt_id: str,
    created_by: User | None = None,
    recorded_at: dt.datetime | None = None,
    on_written: Callable[[Voucher], None] | None = None,
) -> tuple[Voucher, bool]:
    """Use a voucher on a receipt. Returns (voucher, replayed).

    Locks the voucher row. Idempotent by (code, store, receipt id): the same
    receipt again returns the voucher as it was used; any other use after that
    is a Conflict saying when and where it was used. An expired or cancelled
    voucher is a Conflict too. Moves no points (they left on redemption).
    `on_written(row)`, when given, runs inside the transaction after the write
    (not on a replay); raising there rolls the write back (staff audit, limits).
    """
    receipt_id = receipt_id_clean(receipt_id)
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
        reason = voucher_refusal(voucher, now=now, till=store)
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
        voucher_consumed_record(voucher=voucher)
        if on_written is not None:
            on_written(voucher)
        return voucher, False


def _voucher_close(
    *,
    voucher_id: int,
    member_id: int,
    status: str,
    by=None,
    at: dt.datetime | None,
) -> Voucher | None:
    """Cancel or expire an issued voucher: one unit back to stock, points back if the
    reward says so. Locks account, reward, voucher. None when it was not issued.
    `at`: the time it is closed and its refund entry's, given (history, the
    expiry job's time); None for a live close, stamped as every live entry."""
    now = at or timezone.now()
    account = account_lock(member_id=member_id)
    reward_id = Voucher.objects.values_list("reward_id", flat=True).get(pk=voucher_id)
    reward = reward_lock(reward_id=reward_id)
    voucher = voucher_lock(voucher_id=voucher_id)
    if voucher.status != VoucherStatus.ISSUED:
        return None
    # A granted voucher (stamp card, birthday...) took no stock, so gives none back.
    if reward.stock is not None and voucher.source == VoucherSource.REDEEMED:
        reward.stock += 1
        reward.save(update_fields=["stock", "updated_at"])
    voucher.status = status
    fields = ["status", "points_refunded"]
    if status == VoucherStatus.CANCELLED:
        voucher.cancelled_at, voucher.cancelled_by = now, by
        fields += ["cancelled_at", "cancelled_by"]
        refund, what = reward.refund_points_on_cancel, VOUCHER_CANCELLED_REFUND
    else:
        voucher.expired_at = now
        fields.append("expired_at")
        refund, what = reward.refund_points_on_expiry, VOUCHER_EXPIRED_REFUND
    if refund and voucher.points_spent:  # a granted voucher cost nothing
        voucher.points_refunded = voucher.points_spent
        entry_post(
            account=account,
            kind=LedgerKind.REFUND,
            points=voucher.points_spent,
            reason=system_reason(what, code=voucher.code),
            voucher=voucher,
            created_by=by,
            recorded_at=at,
            # The points come back with the expiry they had, so that redeeming
            # and cancelling never makes points last longer.
            expires_at=_drawn_expiry(voucher),
        )
    voucher.save(update_fields=fields)
    voucher.reward = reward
    return voucher


def voucher_cancel(
    *, voucher: Voucher, by: User | None, recorded_at: dt.datetime | None = None
) -> Voucher:
    """Cancel an unused voucher: its unit goes back to stock and, when the reward
    says so, its points back to the member (a REFUND entry linked to it), with
    the expiry they had. `recorded_at` only for importing history.

    Locks the account, the reward, then the voucher. Cancelling a cancelled
    voucher again changes nothing; a used or expired one is a Conflict.
    """
    with transaction.atomic(durable=True):
        closed = _voucher_close(
            voucher_id=voucher.pk,
            member_id=voucher.member_id,
            status=VoucherStatus.CANCELLED,
            by=by,
            at=recorded_at,
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


def _drawn_expiry(voucher: Voucher) -> dt.datetime | None:
    """The soonest expiry among the lots the voucher's points were taken from."""
    return PointsLot.objects.filter(
        draws__entry__voucher=voucher, draws__entry__kind=LedgerKind.REDEEM
    ).aggregate(soonest=Min("expires_at"))["soonest"]


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
                    at=now,  # the time the job was given
                )
            done += closed is not None
        if len(due) < batch:
            return done


def _reward_tier_check(account: PointsAccount, reward: Reward) -> None:
    allowed = list(reward.tiers.order_by("rank"))
    if allowed and account.tier_id not in {t.pk for t in allowed}:
        raise Conflict(
            _("“%(reward)s” is only for members of the tiers %(tiers)s.")
            % {"reward": reward.name, "tiers": ", ".join(t.name for t in allowed)},
            field="reward",
        )
