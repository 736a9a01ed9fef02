"""Purchases recorded many at a time (the purchase CSV import): what
purchase_record writes for each receipt, for a batch of receipts in one
transaction, the rows inserted in bulk.

Each receipt is computed as purchase_record computes it (the same input
checks, fingerprint, earning rules, tier multiplier, lot and expiry) and its
purchase, lines, EARN entry and lot are held back for a bulk insert. The steps
that read what was written before them run for real, in purchase_record's
order, after the rows held so far are flushed: stamps_award_for_purchase for
a receipt at a store with a stamp program that day, tier_upgrade after a
receipt that may move a tier (an upper bound of the member's tier value, the
widest window with no end plus the batch's receipts, reaches a threshold
above the member's tier; or the tier is lapsed or switched off). Otherwise
tier_upgrade is sure to do nothing and is not called.

Left to the caller (purchase_record, one by one, after the batch): members
with a paid membership or a pending referral (either side), receipts whose
input purchase_record refuses, and a member's receipts from the first one
already recorded on (a replay or a conflict). The batch takes the first of a
member's receipts, so each member's receipts keep their time order.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

from django.db import (
    IntegrityError,
    OperationalError,
    connection,
    router,
    transaction,
)
from django.db.models import Q
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from members.errors import ServiceError
from members.models import Member, Store
from rewards.earn_config import EarnConfig, earn_config_get
from rewards.locks import accounts_lock
from rewards.models import (
    LedgerEntry,
    LedgerKind,
    PointsAccount,
    PointsLot,
    ProgramSettings,
    Purchase,
    PurchaseLine,
    Referral,
    ReferralStatus,
    Subscription,
    SubscriptionStatus,
)
from rewards.reasons import PURCHASE_EARN, reason_split, system_reason
from rewards.services.earning import program_settings_ensure
from rewards.services.idempotency import RETRYABLE_SQLSTATES, body_fingerprint
from rewards.services.inputs import (
    FUTURE_TOLERANCE,
    MAX_POINTS,
    amount_clean,
    line_amount,
    receipt_id_clean,
)
from rewards.services.ledger import ACCOUNT_TIME, MAX_BALANCE, points_expiry
from rewards.services.lines import LineInput, purchase_lines_clean
from rewards.services.promocodes import promo_rules
from rewards.services.purchase_batch_tiers import (
    tier_bound_add,
    tier_bounds,
    tier_sure,
    tiers_upgrade_many,
)
from rewards.services.purchases import (
    earn_lines_make,
    purchase_earn,
    purchase_lines_make,
)
from rewards.services.stamps import stamps_award_for_purchase
from rewards.services.tiers import RATE_PLACES
from rewards.services.webhook_events import points_event_record
from rewards.wallet.services import wallet_pass_changed


@dataclass
class BatchReceipt:
    """One receipt for purchases_record_batch: purchase_record's arguments
    (recorded when it happened: `occurred_at` is also `recorded_at`)."""

    store: Store
    member: Member
    receipt_id: str
    total: str | None
    lines: list[LineInput]
    occurred_at: dt.datetime
    source: str = Purchase.Source.IMPORT
    # Filled in by the batch:
    clean: dict = field(default_factory=dict)


def _receipt_clean(receipt: BatchReceipt) -> bool:
    """purchase_record's input checks; False when one refuses (the caller's
    purchase_record then reports it exactly)."""
    try:
        receipt_id = receipt_id_clean(receipt.receipt_id)
        lines = purchase_lines_clean(receipt.lines)
        lines_total = sum(
            (line_amount(line.quantity, line.unit_price) for line in lines),
            Decimal("0"),
        )
        total = receipt.total
        if total is None or total == "":
            if not lines:
                return False
            total = lines_total
        total = amount_clean(total, field="total")
    except ServiceError:
        return False
    if lines and lines_total != total:
        return False
    if receipt.occurred_at > timezone.now() + FUTURE_TOLERANCE:
        return False
    body = {
        "member": receipt.member.pk,
        "total": str(total),
        "occurred_at": receipt.occurred_at.isoformat(),
        "lines": [line.__dict__ for line in lines],
    }
    receipt.clean = {
        "receipt_id": receipt_id,
        "lines": lines,
        "total": total,
        "fingerprint": body_fingerprint(body),
    }
    return True


def _members_excluded(member_ids: set[int]) -> set[int]:
    """Members whose purchases read or write more than the batch does: a paid
    membership (the earn multiplier at each purchase's time), a pending
    referral on either side (a bonus to another member)."""
    excluded = set(
        Subscription.objects.filter(
            member_id__in=member_ids, status=SubscriptionStatus.ACTIVE
        ).values_list("member_id", flat=True)
    )
    for referrer, referee in Referral.objects.filter(
        Q(referee_id__in=member_ids) | Q(referrer_id__in=member_ids),
        status=ReferralStatus.PENDING,
    ).values_list("referrer_id", "referee_id"):
        excluded.update((referrer, referee))
    return excluded


def _earn(held: EarnConfig, account: PointsAccount, receipt: BatchReceipt, tier):
    earn_lines = earn_lines_make(receipt.clean["lines"], receipt.clean["total"])
    rules, _compare = promo_rules(None, held.rules)
    result = purchase_earn(
        held.settings,
        lines=earn_lines,
        at=receipt.occurred_at,
        store_id=receipt.store.pk,
        rules=rules,
        tier=tier,
        plan=None,
    )
    return earn_lines, result


def purchases_record_batch(*, receipts: list[BatchReceipt]) -> dict[int, bool]:
    """Record the receipts that can be recorded together (see the module
    docstring), exactly as purchase_record would one by one in the order
    given (time order), in one durable transaction. Returns {index in
    `receipts`: replayed} for those recorded or found already recorded with
    the same details; the caller records the others through purchase_record,
    after this returns, in their order.

    Locks the points accounts of the members taken (by pk, the order of
    rewards.locks), writes the purchases, their lines, EARN entries and
    points lots with one bulk insert each per flush, the accounts' balances
    once each per flush, and per entry what entry_post adds (the wallet pass,
    the points.earned webhook event, whose deliveries are queued on commit);
    stamps and tier moves through their own services. Writes nothing
    when a concurrent writer took one of the receipt ids (an IntegrityError
    rolls the batch back; the caller then records them one by one).
    """
    todo = [i for i, r in enumerate(receipts) if _receipt_clean(r)]
    if not todo:
        return {}
    version = (
        ProgramSettings.objects.filter(pk=1)
        .values_list("config_version", flat=True)
        .first()
    )
    if version is None:
        # An emptied database: purchase_record's first write makes the row too.
        version = program_settings_ensure().config_version
    held = earn_config_get(version)
    member_ids = {receipts[i].member.pk for i in todo}
    member_ids -= _members_excluded(member_ids)
    if not member_ids:
        return {}
    try:
        return _batch_write(receipts, todo, member_ids, held)
    except IntegrityError:
        return {}  # a receipt id taken meanwhile: rolled back, one by one then
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) not in RETRYABLE_SQLSTATES:
            raise
        return {}  # a deadlock: rolled back, one by one then


def _batch_write(receipts, todo, member_ids, held) -> dict[int, bool]:
    with transaction.atomic(durable=True):
        accounts = accounts_lock(member_ids=member_ids)
        # A receipt id already recorded: the same body is a replay (written
        # nothing, as purchase_record answers it), another is purchase_record's
        # Conflict, after the batch (it writes nothing either).
        wanted: dict[int, list[str]] = defaultdict(list)
        for i in todo:
            if receipts[i].member.pk in accounts:
                wanted[receipts[i].store.pk].append(receipts[i].clean["receipt_id"])
        taken: dict[tuple[int, str], str] = {}
        for store_id, receipt_ids in wanted.items():
            for store, receipt_id, fingerprint in Purchase.objects.filter(
                store_id=store_id, receipt_id__in=receipt_ids
            ).values_list("store_id", "receipt_id", "fingerprint"):
                taken[(store, receipt_id)] = fingerprint
        outcome: dict[int, bool] = {}
        queues: dict[int, list[int]] = defaultdict(list)
        seen: set[tuple[int, str]] = set()
        for i in todo:
            r = receipts[i]
            key = (r.store.pk, r.clean["receipt_id"])
            if r.member.pk not in accounts or key in seen:
                continue
            seen.add(key)
            if key in taken:
                if taken[key] == r.clean["fingerprint"]:
                    outcome[i] = True
                continue
            queues[r.member.pk].append(i)
        if not queues:
            return outcome
        first = min(receipts[q[0]].occurred_at for q in queues.values())
        bounds = tier_bounds(held, sorted(queues), first)
        writer = _Writer(held)
        # In rounds: each member's receipts up to the next one after which
        # purchase_record's own steps must run on what was written (stamps, a
        # possible tier move); one flush for all; those steps; the next round.
        while queues:
            steps = []
            for member_id, queue in queues.items():
                account, bound = accounts[member_id], bounds[member_id]
                while queue:
                    i = queue.pop(0)
                    r = receipts[i]
                    tier = next(
                        (t for t in held.tiers if t.pk == account.tier_id), None
                    )
                    earn_lines, result = _earn(held, account, r, tier)
                    if result.points > MAX_POINTS or (
                        account.balance + result.points > MAX_BALANCE
                    ):
                        # purchase_record refuses it (rare): it and the
                        # member's receipts after it are left to it.
                        queue.clear()
                        break
                    purchase = writer.add(account, r, tier, earn_lines, result)
                    outcome[i] = False
                    tier_bound_add(held, bound, r.clean["total"], result.points)
                    programs = held.stamp_programs_running(
                        store_id=r.store.pk, on=timezone.localtime(r.occurred_at).date()
                    )
                    sure = tier_sure(held, account, bound)
                    if programs or not sure:
                        steps.append((account, r, purchase, programs, sure))
                        break
            writer.flush()
            for _account, _r, purchase, programs, _sure in steps:
                if programs:
                    stamps_award_for_purchase(purchase=purchase, programs=programs)
            moved = tiers_upgrade_many(
                held,
                [
                    (account, r.occurred_at)
                    for account, r, _p, _s, sure in steps
                    if not sure
                ],
            )
            queues = {m: q for m, q in queues.items() if q}
            moved = [m for m in moved if m in queues]
            if moved:
                # Another tier, another window: new bounds from the earliest
                # receipt still to come.
                at = min(receipts[queues[m][0]].occurred_at for m in moved)
                bounds.update(tier_bounds(held, moved, at))
        return outcome


class _Writer:
    """The rows of the batch's receipts, inserted with one bulk insert per
    table at each flush, then what entry_post adds per entry."""

    def __init__(self, held: EarnConfig) -> None:
        self.conf = held.settings
        self.purchases: list[Purchase] = []
        self.lines: list[PurchaseLine] = []
        self.entries: list[tuple] = []
        self.accounts: dict[int, PointsAccount] = {}

    def add(self, account, r: BatchReceipt, tier, earn_lines, result) -> Purchase:
        conf = self.conf
        points = result.points
        multiplier = tier.earn_multiplier if tier else Decimal(1)
        before = account.balance
        account.balance += points
        purchase = Purchase(
            store=r.store,
            receipt_id=r.clean["receipt_id"],
            balance_after=account.balance,
            fingerprint=r.clean["fingerprint"],
            created_by=None,
            created_at=r.occurred_at,
            member=r.member,
            total=r.clean["total"],
            occurred_at=r.occurred_at,
            points_earned=points,
            points_per_unit=(conf.points_per_unit * multiplier * Decimal(1)).quantize(
                RATE_PLACES, rounding=ROUND_FLOOR
            ),
            min_purchase=conf.min_purchase,
            points_exact=result.exact,
            eligible_total=result.eligible_total,
            tier_multiplier=multiplier,
            tier=tier,
            points_cap_per_unit=result.cap_per_unit,
            membership_multiplier=Decimal(1),
            source=r.source,
        )
        self.purchases.append(purchase)
        if r.clean["lines"]:
            self.lines.extend(
                purchase_lines_make(purchase, r.clean["lines"], earn_lines, result)
            )
        if points:
            code, params, text = reason_split(
                system_reason(
                    PURCHASE_EARN, receipt=r.clean["receipt_id"], store=r.store.code
                )
            )
            # As entry_post: never before any of its entries.
            ACCOUNT_TIME.at_least(account, r.occurred_at)
            entry = LedgerEntry(
                account=account,
                kind=LedgerKind.EARN,
                points=points,
                balance_after=account.balance,
                reason=text,
                reason_code=code,
                reason_params=params,
                created_by=None,
                created_at=r.occurred_at,
                breakdown=result.breakdown or [],
                purchase=purchase,
            )
            self.entries.append(
                (
                    entry,
                    max(-before, 0),
                    r.occurred_at + dt.timedelta(days=conf.pending_days),
                    points_expiry(r.occurred_at, conf),
                )
            )
        self.accounts[account.pk] = account
        return purchase

    def flush(self) -> None:
        if not self.purchases:
            return
        _insert(Purchase, self.purchases)
        for line in self.lines:
            line.purchase_id = line.purchase.pk
        PurchaseLine.objects.bulk_create(self.lines)  # as purchase_record does
        for entry, *_rest in self.entries:
            entry.purchase_id = entry.purchase.pk
        _insert(LedgerEntry, [e for e, *_rest in self.entries])
        lots = []
        for entry, debt, available_at, expires_at in self.entries:
            # entry_post's lot: a member in debt pays it first.
            remaining = max(entry.points - debt, 0)
            if remaining:
                lots.append(
                    PointsLot(
                        account=entry.account,
                        entry=entry,
                        points=entry.points,
                        remaining=remaining,
                        earned_at=entry.created_at,
                        available_at=max(available_at, entry.created_at),
                        expires_at=expires_at,
                    )
                )
        _insert(PointsLot, lots)
        # entry_post's account.save(update_fields=["balance", "updated_at"]),
        # once per account.
        accounts = list(self.accounts.values())
        fields = frozenset({"balance", "updated_at"})
        using = router.db_for_write(PointsAccount)
        for account in accounts:
            # Locked (accounts_lock): the time read is the time stored.
            ACCOUNT_TIME.pre_save(account, False)
            pre_save.send(
                PointsAccount,
                instance=account,
                raw=False,
                using=using,
                update_fields=fields,
            )
        _balances_update(accounts)
        for account in accounts:
            post_save.send(
                PointsAccount,
                instance=account,
                created=False,
                update_fields=fields,
                raw=False,
                using=using,
            )
        for entry, *_rest in self.entries:
            wallet_pass_changed(member_id=entry.account.member_id)
            points_event_record(entry=entry, member_id=entry.account.member_id)
        self.purchases, self.lines, self.entries, self.accounts = [], [], [], {}


def _balances_update(accounts: list[PointsAccount]) -> None:
    """The accounts' balances and times in one UPDATE per 500, from a VALUES
    list joined on the id (what bulk_update writes, without its CASE per
    column: a CASE of 500 ids is tried row by row, 500 times per statement;
    measured 27 ms per 500 accounts with two of them, 10 ms joined)."""
    table = connection.ops.quote_name(PointsAccount._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        for start in range(0, len(accounts), 500):
            part = accounts[start : start + 500]
            rows = ", ".join(["(%s, %s, %s)"] * len(part))
            # VALUES columns are column1, column2... on PostgreSQL and SQLite.
            cursor.execute(
                f"UPDATE {table} SET balance = v.column2, updated_at = v.column3"  # noqa: S608 - the table name from the model, values as parameters
                f" FROM (VALUES {rows}) AS v WHERE {table}.id = v.column1",
                [x for a in part for x in (a.pk, a.balance, adapt(a.updated_at))],
            )


def _insert(model, rows: list) -> None:
    """bulk_create with the signals objects.create sends for each row
    (receivers invalidate caches: the customer dashboard's on a purchase)."""
    if not rows:
        return
    using = router.db_for_write(model)
    for row in rows:
        pre_save.send(model, instance=row, raw=False, using=using, update_fields=None)
    model.objects.bulk_create(rows)
    for row in rows:
        post_save.send(
            model,
            instance=row,
            created=True,
            update_fields=None,
            raw=False,
            using=using,
        )
