"""Purchases recorded many at a time (the purchase CSV import): what
purchase_record writes for each receipt, written for a batch of receipts in
one transaction with one bulk insert per table.

Only receipts whose result is certain without purchase_record's per-receipt
reads are written here: the member has a points account, no paid membership,
no pending referral (either side), no lapsed or switched-off tier; no stamp
program runs at the store that day; the receipt is new and its input clean;
and no tier move is possible (an upper bound of the member's tier value over
the batch so far stays below every threshold above the current tier). Every
other receipt is left to the caller, who records it through purchase_record
after the batch; what the batch takes of a member's receipts is always the
first ones, so each member's receipts keep their time order.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from members.errors import ServiceError
from members.models import Member, Store
from rewards.earn_config import EarnConfig, earn_config_get
from rewards.earning import EarnLine, Multiplier, earn_compute
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
    TierQualification,
)
from rewards.reasons import PURCHASE_EARN, reason_split, system_reason
from rewards.selectors.tiers import tier_values
from rewards.services.idempotency import RETRYABLE_SQLSTATES, body_fingerprint
from rewards.services.inputs import (
    FUTURE_TOLERANCE,
    MAX_POINTS,
    amount_clean,
    line_amount,
    receipt_id_clean,
)
from rewards.services.ledger import MAX_BALANCE, points_expiry
from rewards.services.lines import LineInput, purchase_lines_clean
from rewards.services.promocodes import promo_rules
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


def _tier_safe_counts(
    held: EarnConfig,
    accounts: dict[int, PointsAccount],
    receipts: dict[int, list[tuple[BatchReceipt, int]]],
) -> dict[int, int]:
    """How many of each member's receipts (in order) surely move no tier:
    after each of them, an upper bound of every tier's value (the widest
    window any receipt of the batch measures, with no end, plus the batch's
    receipts so far) stays below the threshold of every tier above the
    member's. 0 for a member whose tier tier_upgrade would read or renew
    (lapsed, or switched off)."""
    tiers = list(held.tiers)
    if not tiers:
        return {m: len(rs) for m, rs in receipts.items()}
    by_pk = {t.pk: t for t in tiers}
    counts, check = {}, {}
    for member_id, account in accounts.items():
        if account.tier_lapsed_on is not None or (
            account.tier_id is not None and account.tier_id not in by_pk
        ):
            counts[member_id] = 0
            continue
        current = by_pk.get(account.tier_id)
        above = [t for t in tiers if current is None or t.rank > current.rank]
        if above:
            check[member_id] = above
        else:
            counts[member_id] = len(receipts[member_id])
    if not check:
        return counts
    # Windows end at their receipt and start earlier for an earlier receipt
    # (rolling or calendar year): the earliest receipt's start is the widest.
    first = min(r.occurred_at for m in check for r, _p in receipts[m])
    wanted = {t.pk: t for above in check.values() for t in above}
    values = tier_values(
        member_ids=sorted(check), tiers=list(wanted.values()), at=first
    )
    for member_id, above in check.items():
        value = {}
        for tier in above:
            base = values[tier.pk].get(member_id)
            value[tier.pk] = base.value if base is not None else Decimal(0)
        safe = 0
        for r, points in receipts[member_id]:
            for tier in above:
                if tier.qualification == TierQualification.SPEND:
                    value[tier.pk] += r.clean["total"]
                elif tier.qualification == TierQualification.POINTS_EARNED:
                    value[tier.pk] += points
                else:
                    value[tier.pk] += 1
            if any(value[t.pk] >= t.threshold for t in above):
                break
            safe += 1
        counts[member_id] = safe
    return counts


def _earn(held: EarnConfig, account: PointsAccount, receipt: BatchReceipt, tier):
    conf = held.settings
    lines = receipt.clean["lines"]
    earn_lines = [
        EarnLine(
            sku=line.sku,
            category=line.category,
            quantity=line.quantity,
            amount=line_amount(line.quantity, line.unit_price),
        )
        for line in lines
    ] or [
        EarnLine(
            sku="", category="", quantity=Decimal(1), amount=receipt.clean["total"]
        )
    ]
    rules, _compare = promo_rules(None, held.rules)
    result = earn_compute(
        lines=earn_lines,
        at=receipt.occurred_at,
        store_id=receipt.store.pk,
        base_rate=conf.points_per_unit,
        min_purchase=conf.min_purchase,
        rules=rules,
        tier=(
            Multiplier(tier.name, tier.earn_multiplier, ref=tier.pk) if tier else None
        ),
        membership=None,
        cap_percent=conf.earn_cap_percent,
        point_value=conf.point_value,
    )
    return earn_lines, result


def purchases_record_batch(*, receipts: list[BatchReceipt]) -> set[int]:
    """Record the receipts that can be recorded together (see the module
    docstring), exactly as purchase_record would one by one in the order
    given (time order), in one durable transaction. Returns the indexes (in
    `receipts`) of those recorded; the caller records the others through
    purchase_record, after this returns.

    Locks the points accounts of the members taken (by pk, the order of
    rewards.locks), writes the purchases, their lines, EARN entries and
    points lots with one bulk insert each, the accounts' balances once each,
    and per entry what entry_post adds (the wallet pass, the points.earned
    webhook event, whose deliveries are queued on commit). Writes nothing
    when a concurrent writer took one of the receipt ids (an IntegrityError
    rolls the batch back; the caller then records them one by one).
    """
    todo = [i for i, r in enumerate(receipts) if _receipt_clean(r)]
    if not todo:
        return set()
    version = (
        ProgramSettings.objects.filter(pk=1)
        .values_list("config_version", flat=True)
        .first()
    )
    if version is None:
        return set()  # the first purchase creates the settings row
    held = earn_config_get(version)
    member_ids = {receipts[i].member.pk for i in todo}
    member_ids -= _members_excluded(member_ids)
    if not member_ids:
        return set()
    try:
        return _batch_write(receipts, todo, member_ids, held)
    except IntegrityError:
        return set()  # a receipt id taken meanwhile: rolled back, one by one then
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) not in RETRYABLE_SQLSTATES:
            raise
        return set()  # a deadlock: rolled back, one by one then


def _batch_write(receipts, todo, member_ids, held) -> set[int]:
    with transaction.atomic(durable=True):
        accounts = {
            a.member_id: a
            for a in PointsAccount.objects.select_for_update(of=("self",))
            .filter(member_id__in=member_ids)
            .order_by("pk")
        }
        # A receipt id already recorded is a replay or a conflict: purchase_record's.
        wanted: dict[int, list[str]] = defaultdict(list)
        for i in todo:
            if receipts[i].member.pk in accounts:
                wanted[receipts[i].store.pk].append(receipts[i].clean["receipt_id"])
        taken = set()
        for store_id, receipt_ids in wanted.items():
            taken.update(
                Purchase.objects.filter(
                    store_id=store_id, receipt_id__in=receipt_ids
                ).values_list("store_id", "receipt_id")
            )
        # Each member's receipts up to the first that the batch cannot write:
        # one already recorded (a replay or a conflict), or one that may give
        # stamps (per receipt and per card: purchase_record's).
        mine: dict[int, list[int]] = defaultdict(list)
        seen: set[tuple[int, str]] = set()
        closed: set[int] = set()
        for i in todo:
            r = receipts[i]
            key = (r.store.pk, r.clean["receipt_id"])
            if r.member.pk not in accounts or r.member.pk in closed:
                continue
            if (
                key in taken
                or key in seen
                or held.stamp_programs_running(
                    store_id=r.store.pk,
                    on=timezone.localtime(r.occurred_at).date(),
                )
            ):
                closed.add(r.member.pk)
                continue
            seen.add(key)
            mine[r.member.pk].append(i)
        tiers = {t.pk: t for t in held.tiers}
        # The earn of each receipt: the tier does not move within the batch
        # (checked below), so it is the account's tier throughout.
        earned: dict[int, tuple] = {}
        for member_id, indexes in mine.items():
            account = accounts[member_id]
            tier = tiers.get(account.tier_id)
            for i in indexes:
                earned[i] = _earn(held, account, receipts[i], tier)
        safe = _tier_safe_counts(
            held,
            {m: accounts[m] for m in mine},
            {
                m: [(receipts[i], earned[i][1].points) for i in indexes]
                for m, indexes in mine.items()
            },
        )
        # From the first receipt that may move a tier on, purchase_record
        # records the member's receipts, after this batch.
        mine = {m: indexes[: safe[m]] for m, indexes in mine.items() if safe[m]}
        done = _write(held, accounts, mine, earned, receipts)
        return set() if done is None else done


def _write(held, accounts, mine, earned, receipts) -> set[int] | None:
    conf = held.settings
    tiers = {t.pk: t for t in held.tiers}
    purchases, lines, entries, owners = [], [], [], []
    done: set[int] = set()
    finals: list[PointsAccount] = []
    for member_id, indexes in mine.items():
        account = accounts[member_id]
        tier = tiers.get(account.tier_id)
        multiplier = tier.earn_multiplier if tier else Decimal(1)
        balance = account.balance
        for i in indexes:
            r = receipts[i]
            earn_lines, result = earned[i]
            points = result.points
            if points > MAX_POINTS or balance + points > MAX_BALANCE:
                return None  # purchase_record refuses it: rare, left to it whole
            before = balance
            balance += points
            purchase = Purchase(
                store=r.store,
                receipt_id=r.clean["receipt_id"],
                balance_after=balance,
                fingerprint=r.clean["fingerprint"],
                created_by=None,
                created_at=r.occurred_at,
                member=r.member,
                total=r.clean["total"],
                occurred_at=r.occurred_at,
                points_earned=points,
                points_per_unit=(
                    conf.points_per_unit * multiplier * Decimal(1)
                ).quantize(RATE_PLACES, rounding=ROUND_FLOOR),
                min_purchase=conf.min_purchase,
                points_exact=result.exact,
                eligible_total=result.eligible_total,
                tier_multiplier=multiplier,
                tier=tier,
                points_cap_per_unit=result.cap_per_unit,
                membership_multiplier=Decimal(1),
                source=r.source,
            )
            purchases.append(purchase)
            for line, earn_line, eligible, exact in zip(
                r.clean["lines"],
                earn_lines,
                result.line_eligible,
                result.line_exact,
                strict=False,
            ):
                lines.append(
                    PurchaseLine(
                        purchase=purchase,
                        sku=line.sku,
                        name=line.name,
                        category=line.category,
                        quantity=line.quantity,
                        unit_price=line.unit_price,
                        amount=earn_line.amount,
                        eligible=eligible,
                        points_exact=exact,
                    )
                )
            if points:
                code, params, text = reason_split(
                    system_reason(
                        PURCHASE_EARN, receipt=r.clean["receipt_id"], store=r.store.code
                    )
                )
                entries.append(
                    (
                        LedgerEntry(
                            account=account,
                            kind=LedgerKind.EARN,
                            points=points,
                            balance_after=balance,
                            reason=text,
                            reason_code=code,
                            reason_params=params,
                            created_by=None,
                            created_at=r.occurred_at,
                            breakdown=result.breakdown or [],
                            purchase=purchase,
                        ),
                        max(-before, 0),
                        r.occurred_at + dt.timedelta(days=conf.pending_days),
                        points_expiry(r.occurred_at, conf),
                    )
                )
            owners.append(member_id)
            done.add(i)
        account.balance = balance
        finals.append(account)
    Purchase.objects.bulk_create(purchases)
    for line in lines:
        line.purchase_id = line.purchase.pk
    PurchaseLine.objects.bulk_create(lines)
    for entry, _debt, _available, _expires in entries:
        entry.purchase_id = entry.purchase.pk
    LedgerEntry.objects.bulk_create([e for e, *_rest in entries])
    lots = []
    for entry, debt, available_at, expires_at in entries:
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
    PointsLot.objects.bulk_create(lots)
    for account in finals:
        account.save(update_fields=["balance", "updated_at"])
    for entry, *_rest in entries:
        wallet_pass_changed(member_id=entry.account.member_id)
        points_event_record(entry=entry, member_id=entry.account.member_id)
    return done
