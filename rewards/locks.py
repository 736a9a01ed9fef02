"""The project's one lock order, written here once.

Every row lock (`select_for_update`, `FOR UPDATE`) is taken through a locks
module: members/locks.py, this module (rewards), campaigns/locks.py and
analytics/locks.py. A transaction that takes several locks takes them in the
order below, and several rows of one kind by pk, so two writers on one member
queue behind each other instead of deadlocking. A new lock gets its place here.

1. members (members/locks.py): the member (`member_lock`,
   `member_lock_or_none`; several: `members_lock`), then its one-time code
   (`one_time_code_lock`) or its login (`login_user_lock`, at erasure).
2. an event and a sign-up (campaigns/locks.py): the event (`event_lock`; the
   reminder job's `event_reminder_due_claim` skips locked ones), then a
   member's sign-up to it (`event_rsvp_lock`). A check-in then credits the
   event's points, locking the member's account: these two come before 3.
3. points (this module): the member's account (`account_lock`,
   `account_lock_by_id`; several members' by pk: `accounts_lock`, a batch of
   imported purchases; a purchase's `account_lock_for_purchase` sends
   `account_lock_sql`, or on PostgreSQL reads the account unlocked and its
   write statement's UPDATE of the balance takes this lock, still the first
   of its transaction (rewards.ledger_rows.entry_write_guarded), or, earning
   nothing, `account_lock_if_same_tier_sql` in its write; both guarded
   writes lock only under `account_same_tier_sql`; a till receipt's `account_lock_with_receipt` sends
   `account_lock_with_receipt_sql`, reading the receipt with the lock), an online payment of the member's (`payment_lock`), a
   subscription (`active_subscription_lock`,
   `subscription_lock`), the purchase being returned (`purchase_lock`), then its
   lines (`purchase_lines_lock`), a promo code's use on that purchase
   (`promo_use_lock`), a promo code's promotion (`promo_code_lock`), then the
   code itself (`promo_key_lock`), the member's open stamp cards
   (`stamp_cards_lock`), then a completed card (`stamp_card_lock`), a reward
   (`reward_lock`), a voucher (`voucher_lock`), an adjustment request
   (`adjustment_request_lock`), last the cashier's user row while a daily limit
   is counted (`staff_user_lock`). An earning rule (`earning_rule_lock`) is
   locked alone.
4. campaigns' other rows (campaigns/locks.py), each alone or after the members
   of 1: a complaint (`complaint_lock`), a survey (`survey_lock`), a segment (`segment_lock`), a campaign
   (`campaign_lock`; the dispatcher's `campaign_due_claim` skips locked ones),
   then its runs (by UPDATE); a chunk (`chunk_lock`; `chunks_stale_claim` skips
   locked chunks and their runs); messages by pk, after their members
   (`messages_queued_lock`) or alone (`messages_stuck_lock`). Ending a run
   (run_finish) and cancelling (campaign_cancel) both lock the campaign before
   they update its runs.
5. analytics (analytics/locks.py): the refresh state row
   (`refresh_state_lock`), alone.

The birthday bonus takes the member (members/locks.py member_lock_or_none, as
in 1); a referral row (referral_pending_lock, referral_lock) is taken in a
purchase after the referee's account and before the referrer's, and at a staff
approval or refusal before both accounts; open anomaly flags
(anomaly_flags_open_lock, by pk) are taken alone.

A member's wallet pass (rewards.wallet) is marked changed by an UPDATE in the
ledger write or tier move that changes what it shows: after the account and
everything in 3, before the webhook sequence. Its sync claims it alone
(`wallet_pass_lock`; the sweeper's `wallet_passes_due_lock` skips locked ones).

Last of all in any transaction, a member's webhook sequence row (members/locks.py
webhook_sequence_next, taken when an event is recorded; several members' by pk,
webhook_sequences_lock, for a bulk enrolment's events); webhook deliveries
(webhook_deliveries_due_lock, webhook_delivery_lock) are locked alone.

Every service that changes a balance locks the account through here, so two
writers on one member queue behind each other instead of deadlocking.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal

from django.db import connection
from django.db.models import Q

from members.rows import columns_sql, instance_from_row, row_fetch
from rewards.models import (
    AnomalyFlag,
    AnomalyStatus,
    EarningRule,
    MembershipPlan,
    Payment,
    PointsAccount,
    ProgramSettings,
    PromoCode,
    PromoCodeKey,
    PromoCodeUse,
    Purchase,
    PurchaseLine,
    Referral,
    ReferralStatus,
    Reward,
    StampCard,
    Subscription,
    SubscriptionStatus,
    Voucher,
    WalletPass,
)


def account_lock(*, member_id: int) -> PointsAccount:
    """The member's points account; after the member's lock (and an event check-in's)."""
    return PointsAccount.objects.select_for_update(of=("self",)).get(
        member_id=member_id
    )


@functools.cache
def account_lock_sql(vendor: str, locked: bool = True) -> str:
    """The statement `account_lock_for_purchase` sends, written once per database
    vendor: the busiest statement of the busiest write, so Django does not
    build and compile four subqueries again for every purchase (that cost more
    than the round trips it saved). Table names come from the models.
    `locked=False` (PostgreSQL): the same read without the lock, and the
    version of the account's row it read (`xmin`) as its last column."""
    account = PointsAccount._meta.db_table
    lock = f" FOR UPDATE OF {account}" if vendor == "postgresql" else ""
    version = ""
    if not locked:
        lock, version = "", f", {account}.xmin::text AS row_version"
    plan_in_force = (
        f"FROM {Subscription._meta.db_table} s JOIN {MembershipPlan._meta.db_table} pl ON pl.id = s.plan_id"
        f" WHERE s.member_id = {account}.member_id AND s.status = %s"
        " AND s.started_at <= %s AND s.current_period_end > %s"
        " ORDER BY s.id LIMIT 1"
    )
    return (
        f"SELECT {columns_sql(PointsAccount, account)},"  # noqa: S608 - table names from the models, values as parameters
        f" (SELECT p.id FROM {Purchase._meta.db_table} p"
        f"   WHERE p.store_id = %s AND p.receipt_id = %s) AS existing_purchase_id,"
        f" (SELECT pl.name {plan_in_force}) AS plan_name,"
        f" (SELECT pl.earn_multiplier {plan_in_force}) AS plan_multiplier,"
        # The member's one referral (referee is unique) read by its key alone,
        # then its status compared: a generic plan made on a new table took
        # the index on status and filtered every pending referral by referee
        # (rewards/tests/ledger/test_receipt_lookup_plan.py).
        f" COALESCE((SELECT r.status FROM {Referral._meta.db_table} r"
        f"   WHERE r.referee_id = {account}.member_id) = %s, FALSE)"
        f"   AS referral_pending,"
        f" (SELECT config_version FROM {ProgramSettings._meta.db_table}"
        f"   WHERE id = 1) AS settings_version{version}"
        f" FROM {account} WHERE {account}.member_id = %s{lock}"
    )


def account_same_tier_sql() -> str:
    """The condition of a write on the account `id` = %s that takes it only
    if it still has the tier %s (its id, or NULL): the points it writes were
    computed with that tier's multiplier. Here and in
    rewards.ledger_rows.entry_write_guarded's UPDATE."""
    quote = connection.ops.quote_name
    meta = PointsAccount._meta
    return (
        f"{quote(meta.pk.column)} = %s"
        f" AND {quote(meta.get_field('tier').column)} IS NOT DISTINCT FROM %s"
    )


@functools.cache
def account_lock_if_same_tier_sql(vendor: str) -> str:
    """PostgreSQL: a SELECT that locks the account `id` = %s if it still has
    the tier %s (its id, or NULL), answering its id and balance; nothing when
    the tier changed (row_insert_guarded puts it first in its write). The same
    lock as account_lock, in its place in the order."""
    if vendor != "postgresql":
        raise ValueError("A lock inside a write statement is PostgreSQL's.")
    quote = connection.ops.quote_name
    meta = PointsAccount._meta
    pk = quote(meta.pk.column)
    return (
        f"SELECT {pk}, {quote(meta.get_field('balance').column)} AS balance"  # noqa: S608 - names from the model, values as parameters
        f" FROM {quote(meta.db_table)} WHERE {account_same_tier_sql()} FOR UPDATE"
    )


def account_lock_for_purchase(
    *,
    member_id: int,
    store_id: int,
    receipt_id: str,
    perks_at: dt.datetime,
    locked: bool = True,
) -> PointsAccount:
    """Lock the member's account and read, in the same statement, everything else a
    purchase needs to know first: the purchase already recorded with this
    receipt id at this store (`existing_purchase_id`; unique per store), the
    paid membership in force at `perks_at` (`plan_name`, `plan_multiplier`, as
    membership_multiplier_get reads them), whether the member has a pending
    referral their purchase may qualify (`referral_pending`), and the settings
    row's configuration token (`settings_version`, None before the row exists).
    One round trip where there were five; the subqueries read rows this
    transaction does not lock, as the separate reads did. The same lock as
    account_lock, in its place in the order. Raises PointsAccount.DoesNotExist
    as account_lock does.

    `locked=False` (PostgreSQL only): the same read, locking nothing, for a
    write that takes the lock itself and checks that the row is still the one
    read here (`row_version`: rewards.ledger_rows.entry_write_guarded).
    `account.locked` says which it was."""
    if not locked and connection.vendor != "postgresql":
        raise ValueError("An unlocked read is for PostgreSQL's guarded write.")
    at = connection.ops.adapt_datetimefield_value(perks_at)
    params = [
        store_id,
        receipt_id,
        SubscriptionStatus.ACTIVE,
        at,
        at,
        SubscriptionStatus.ACTIVE,
        at,
        at,
        ReferralStatus.PENDING,
        member_id,
    ]
    # Prepared on PostgreSQL after a few runs: this statement is the costliest
    # of a purchase for the server to plan.
    row = row_fetch(account_lock_sql(connection.vendor, locked), params, prepared=True)
    if row is None:
        raise PointsAccount.DoesNotExist(f"No points account for member {member_id}")
    width = len(PointsAccount._meta.concrete_fields)
    account = instance_from_row(PointsAccount, row[:width])
    (
        account.existing_purchase_id,
        account.plan_name,
        account.plan_multiplier,
        account.referral_pending,
        account.settings_version,
    ) = row[width : width + 5]
    account.locked = locked
    account.row_version = None if locked else row[width + 5]
    if account.plan_multiplier is not None:  # SQLite hands back a float
        account.plan_multiplier = Decimal(str(account.plan_multiplier))
    return account


@functools.cache
def account_lock_with_receipt_sql(vendor: str, model: type) -> str:
    """The statement `account_lock_with_receipt` sends for the receipts of
    `model` (unique per store and receipt id), written once per vendor."""
    account = PointsAccount._meta.db_table
    lock = f" FOR UPDATE OF {account}" if vendor == "postgresql" else ""
    meta = model._meta
    return (
        f"SELECT {columns_sql(PointsAccount, account)},"  # noqa: S608 - names from the models, values as parameters
        f" (SELECT r.{meta.pk.column} FROM {meta.db_table} r"
        f"   WHERE r.{meta.get_field('store').column} = %s"
        f"   AND r.{meta.get_field('receipt_id').column} = %s) AS existing_id"
        f" FROM {account} WHERE {account}.member_id = %s{lock}"
    )


def account_lock_with_receipt(
    *, member_id: int, model: type, store_id: int, receipt_id: str
) -> tuple[PointsAccount, int | None]:
    """Lock the member's account and read, in the same statement, the id of the
    `model` row (a till receipt: a return, a redemption) already recorded with
    this receipt id at this store, or None. One round trip under the lock where
    there were two. The look-up reads as of the statement's start, before any
    wait for the lock: a row a concurrent writer committed meanwhile is missed,
    and the caller's insert then fails on the unique constraint (or its
    refusal is checked again: rewards.services.receipts.receipt_record). The
    same lock as account_lock, in its place in the order. Raises
    PointsAccount.DoesNotExist as account_lock does."""
    row = row_fetch(
        account_lock_with_receipt_sql(connection.vendor, model),
        [store_id, receipt_id, member_id],
        prepared=True,
    )
    if row is None:
        raise PointsAccount.DoesNotExist(f"No points account for member {member_id}")
    return instance_from_row(PointsAccount, row[:-1]), row[-1]


def accounts_lock(*, member_ids) -> dict[int, PointsAccount]:
    """The accounts of several members, by member id, locked in pk order
    (the same lock as account_lock, in its place in the order)."""
    return {
        account.member_id: account
        for account in PointsAccount.objects.select_for_update(of=("self",))
        .filter(member_id__in=member_ids)
        .order_by("pk")
    }


def account_lock_by_id(*, account_id: int) -> PointsAccount:
    """The same lock as account_lock, for jobs that start from an account."""
    return PointsAccount.objects.select_for_update(of=("self",)).get(pk=account_id)


def active_subscription_lock(*, member_id: int) -> Subscription | None:
    """The member's active subscription (with its plan), or None; after the account."""
    return (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("plan")
        .filter(member_id=member_id, status=SubscriptionStatus.ACTIVE)
        .first()
    )


def payment_lock(*, payment_id: int) -> Payment:
    """An online payment; after the member's account, before the subscription
    its callback sells or ends."""
    return Payment.objects.select_for_update(of=("self",)).get(pk=payment_id)


def subscription_lock(*, subscription_id: int) -> Subscription:
    """After the member's account: a membership sale or cancellation also moves
    the tier and issues vouchers, which need the account."""
    return Subscription.objects.select_for_update(of=("self",)).get(pk=subscription_id)


def purchase_lock(*, purchase_id: int) -> Purchase:
    """The purchase being returned; after the account."""
    return Purchase.objects.select_for_update(of=("self",)).get(pk=purchase_id)


def purchase_lines_lock(*, purchase: Purchase) -> list[PurchaseLine]:
    """The purchase's lines, by pk; after the purchase."""
    return list(purchase.lines.select_for_update().order_by("pk"))


def promo_use_lock(*, purchase_id: int) -> PromoCodeUse | None:
    """The use of a promo code on a purchase, not yet reversed, or None; after
    the purchase (a return) and before the promotion."""
    return (
        PromoCodeUse.objects.select_for_update(of=("self",))
        .select_related("key")
        .filter(purchase_id=purchase_id, reversed_at__isnull=True)
        .first()
    )


def promo_code_lock(*, promo_id: int) -> PromoCode:
    """A promo code's promotion, while its uses are counted; after the account
    (and the purchase, at a return), before its code's row."""
    return PromoCode.objects.select_for_update(of=("self",)).get(pk=promo_id)


def promo_key_lock(*, key_id: int) -> PromoCodeKey:
    """One code of a promotion; after the promotion."""
    return PromoCodeKey.objects.select_for_update(of=("self",)).get(pk=key_id)


def stamp_cards_lock(*, member_id: int, program_ids: list[int]) -> list[StampCard]:
    """The member's open cards of these programs, by pk. Callers hold the account lock."""
    return list(
        StampCard.objects.select_for_update(of=("self",))
        .filter(member_id=member_id, program_id__in=program_ids, status="open")
        .order_by("pk")
    )


def stamp_card_lock(*, card_id: int) -> StampCard:
    """A completed card being undone; after the account and any open cards."""
    return StampCard.objects.select_for_update(of=("self",)).get(pk=card_id)


def reward_lock(*, reward_id: int) -> Reward:
    """A reward (its stock); after the account."""
    return Reward.objects.select_for_update(of=("self",)).get(pk=reward_id)


def voucher_lock(*, voucher_id: int) -> Voucher:
    """A voucher; after the account and the reward."""
    return Voucher.objects.select_for_update(of=("self",)).get(pk=voucher_id)


def adjustment_request_lock(*, adjustment_id: int):
    """Taken inside points_adjust's transaction (after the account) on approval,
    or alone on refusal."""
    from rewards.models import AdjustmentRequest

    return AdjustmentRequest.objects.select_for_update(of=("self",)).get(
        pk=adjustment_id
    )


def staff_user_lock(*, user_id: int) -> None:
    """Serializes one cashier's Counter writes while their daily limit is counted."""
    from members.models import User

    User.objects.select_for_update(of=("self",)).filter(pk=user_id).first()


def earning_rule_lock(*, rule_id: int) -> EarningRule:
    """An earning rule, taken alone."""
    return EarningRule.objects.select_for_update().get(pk=rule_id)


def referral_pending_lock(*, referral_id: int):
    """A pending referral with its referrer, or None; in a purchase, after the
    referee's account and before the referrer's."""
    return (
        Referral.objects.select_for_update(of=("self",))
        .select_related("referrer")
        .filter(pk=referral_id, status=ReferralStatus.PENDING)
        .first()
    )


def referral_lock(*, referral_id: int):
    """A referral with both members, at a staff approval or refusal; before
    both members' accounts."""
    return (
        Referral.objects.select_for_update(of=("self",))
        .select_related("referrer", "referee")
        .get(pk=referral_id)
    )


def anomaly_flags_open_lock(*, flag_ids) -> list[int]:
    """The ids of the still-open anomaly flags among flag_ids, locked by pk; alone."""
    return list(
        AnomalyFlag.objects.select_for_update()
        .filter(pk__in=flag_ids, status=AnomalyStatus.OPEN)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def wallet_pass_lock(*, member_id: int, skip_locked: bool = False):
    """A member's wallet pass (None when there is none, or it is locked
    elsewhere with `skip_locked`). Taken alone."""
    return (
        WalletPass.objects.select_for_update(skip_locked=skip_locked)
        .filter(member_id=member_id)
        .first()
    )


def wallet_passes_due_lock(*, now, batch: int) -> list[int]:
    """The member ids of wallet passes due for a sync that no worker holds,
    oldest due first; rows locked elsewhere are skipped. Taken alone."""
    return list(
        WalletPass.objects.select_for_update(skip_locked=True)
        .filter(sync_due_at__lte=now)
        .filter(Q(sync_claimed_until__isnull=True) | Q(sync_claimed_until__lte=now))
        .order_by("sync_due_at", "pk")
        .values_list("member_id", flat=True)[:batch]
    )
