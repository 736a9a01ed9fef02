"""Paid membership: selling (start or renew), cancelling, the nightly expiry,
monthly perk vouchers and the reminder before a membership ends.

The money is taken at a till (or the Counter), or online through a payment
provider (rewards.services.payments), and the sale arrives like a purchase,
idempotent on (store, receipt_id): an online payment is a sale at the online
store with its order id as the receipt. Automatic renewal is opt-in: the
nightly payments job starts the next period's payment; a renewal is another sale.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from members.emails import branded_email, branded_subject
from members.errors import Conflict, InvalidInput
from members.formatting import date_format
from members.messages import member_channel
from members.models import Channel, Member, Store, User
from members.sms import sms_send, sms_signed
from rewards.locks import account_lock, active_subscription_lock, subscription_lock
from rewards.models import (
    MembershipPlan,
    PointsAccount,
    Subscription,
    SubscriptionEvent,
    SubscriptionEventKind,
    SubscriptionStatus,
    Tier,
    TierHistory,
    Voucher,
    VoucherSource,
)
from rewards.reasons import TIER_MEMBERSHIP, SystemReason, reason_split, system_reason
from rewards.services.idempotency import body_fingerprint, idempotent_write
from rewards.services.inputs import receipt_id_clean
from rewards.services.tiers import tier_move
from rewards.services.vouchers import voucher_grant
from rewards.services.webhook_events import membership_event_record

MEMBERSHIP_KEY_PREFIX = "membership"


def membership_voucher_key(subscription_id: int, at: dt.datetime) -> str:
    """One perk voucher per subscription per calendar month (local time)."""
    return f"{MEMBERSHIP_KEY_PREFIX}:{subscription_id}:{timezone.localtime(at):%Y-%m}"


def _date_text(moment: dt.datetime) -> str:
    return date_format(timezone.localtime(moment))


# --- perks inside a locked transaction ------------------------------------------------


def _membership_tier_apply(
    account: PointsAccount, *, member_id: int, plan: MembershipPlan, at: dt.datetime
) -> TierHistory | None:
    """Raise the member to the plan's guaranteed tier if they are below it.
    The account must be locked."""
    tier = plan.guaranteed_tier
    if tier is None or not tier.is_active:
        return None
    current = (
        Tier.objects.filter(pk=account.tier_id).values_list("rank", flat=True).first()
        if account.tier_id
        else None
    )
    if current is not None and current >= tier.rank:
        return None
    return tier_move(
        account,
        member_id=member_id,
        to_tier=tier,
        kind=TierHistory.Kind.INITIAL if current is None else TierHistory.Kind.UP,
        reason=system_reason(TIER_MEMBERSHIP, plan_id=plan.pk, plan=plan.name),
        value=Decimal("0"),
        at=at,
    )


def _membership_voucher_issue(subscription: Subscription, *, at: dt.datetime) -> bool:
    """This month's perk voucher, once (idempotency key per subscription and
    month); a SubscriptionEvent when it is new. Runs inside the caller's
    transaction, which holds the member's account lock. True when issued now."""
    plan = subscription.plan
    if plan.monthly_reward_id is None:
        return False
    voucher, replayed = voucher_grant(
        member=subscription.member,
        reward=plan.monthly_reward,
        source=VoucherSource.MEMBERSHIP,
        idempotency_key=membership_voucher_key(subscription.pk, at),
        at=at,
    )
    if not replayed:
        SubscriptionEvent.objects.create(
            subscription=subscription,
            kind=SubscriptionEventKind.VOUCHER,
            voucher=voucher,
            created_at=at,
        )
    return not replayed


def _subscription_expire(subscription: Subscription, *, at: dt.datetime) -> None:
    """Mark a locked active subscription whose period is over as expired."""
    subscription.status = SubscriptionStatus.EXPIRED
    subscription.ended_at = subscription.current_period_end
    subscription.save(update_fields=["status", "ended_at"])
    SubscriptionEvent.objects.create(
        subscription=subscription,
        kind=SubscriptionEventKind.EXPIRED,
        period_end=subscription.current_period_end,
        created_at=at,
    )
    membership_event_record(subscription=subscription, started=False, at=at)


# --- selling ---------------------------------------------------------------------------


def subscription_sell(
    *,
    member: Member,
    plan: MembershipPlan,
    store: Store,
    receipt_id: str,
    sold_by: User | None = None,
    at: dt.datetime | None = None,
) -> tuple[Subscription, bool]:
    """Record a membership sale: start one, or renew the member's active one.
    Returns (subscription, replayed).

    A renewal of the same plan moves the end one period on from the later of
    now and the current end, so paying early loses nothing. A member with an
    active membership of another plan is refused (Conflict): cancel it first.
    A subscription past its end but not yet marked expired is expired here and
    a new one starts. Starting or renewing also raises the member to the
    plan's guaranteed tier and issues this month's perk voucher (once a month).

    Idempotent on (store, receipt_id) like a purchase: the same sale again
    returns the subscription with replayed=True; the receipt with another
    member or plan is a Conflict. Only our own stores sell memberships, not
    partners'. Locks the member's account, then the subscription. Queues nothing.
    """
    receipt_id = receipt_id_clean(receipt_id)

    def lookup() -> SubscriptionEvent | None:
        return _sale_event_get(store=store, receipt_id=receipt_id)

    def replay(existing: SubscriptionEvent) -> tuple[Subscription, bool]:
        return _sale_replay(existing, member=member, plan=plan)

    def work() -> tuple[Subscription, bool]:
        account_lock(member_id=member.pk)
        return subscription_sell_locked(
            member=member,
            plan=plan,
            store=store,
            receipt_id=receipt_id,
            sold_by=sold_by,
            at=at,
        )

    return idempotent_write(work, lookup, replay)


def _sale_event_get(*, store: Store, receipt_id: str) -> SubscriptionEvent | None:
    return (
        SubscriptionEvent.objects.select_related("subscription__plan")
        .filter(store=store, receipt_id=receipt_id)
        .first()
    )


def _sale_replay(
    existing: SubscriptionEvent, *, member: Member, plan: MembershipPlan
) -> tuple[Subscription, bool]:
    fingerprint = body_fingerprint({"member": member.pk, "plan": plan.pk})
    if existing.fingerprint != fingerprint:
        raise Conflict(
            _(
                "Receipt %(receipt)s was already recorded at this store with "
                "other details."
            )
            % {"receipt": existing.receipt_id},
            field="receipt_id",
        )
    return existing.subscription, True


def subscription_sell_locked(
    *,
    member: Member,
    plan: MembershipPlan,
    store: Store,
    receipt_id: str,
    sold_by: User | None = None,
    at: dt.datetime | None = None,
) -> tuple[Subscription, bool]:
    """subscription_sell's work, inside a transaction that already holds the
    member's account lock (an online payment's callback takes the account and
    then the payment before it sells). Same rules, same replay on
    (store, receipt_id); locks the subscription. Queues nothing."""
    receipt_id = receipt_id_clean(receipt_id)
    if not plan.is_active:
        raise Conflict(
            _("The “%(plan)s” membership is not on sale.") % {"plan": plan.name},
            field="plan",
        )
    if store.partner_id is not None:
        raise Conflict(
            _("Memberships are sold at the program's own stores only."),
            field="store",
        )
    account = account_lock(member_id=member.pk)  # held already: no new wait
    existing = _sale_event_get(store=store, receipt_id=receipt_id)
    if existing:
        return _sale_replay(existing, member=member, plan=plan)
    fingerprint = body_fingerprint({"member": member.pk, "plan": plan.pk})
    now = at or timezone.now()
    current = active_subscription_lock(member_id=member.pk)
    if current is not None and current.current_period_end <= now:
        _subscription_expire(current, at=now)
        current = None
    if current is not None and current.plan_id != plan.pk:
        raise Conflict(
            _(
                "This member already has the “%(plan)s” membership until %(date)s; "
                "cancel it before selling another plan."
            )
            % {
                "plan": current.plan.name,
                "date": _date_text(current.current_period_end),
            },
            field="plan",
        )
    period = relativedelta(months=plan.period_months)
    if current is None:
        subscription = Subscription.objects.create(
            member=member,
            plan=plan,
            started_at=now,
            current_period_end=now + period,
            store=store,
            sold_by=sold_by,
        )
        kind = SubscriptionEventKind.STARTED
    else:
        subscription = current
        subscription.current_period_end = max(now, current.current_period_end) + period
        subscription.save(update_fields=["current_period_end"])
        kind = SubscriptionEventKind.RENEWED
    SubscriptionEvent.objects.create(
        subscription=subscription,
        kind=kind,
        store=store,
        receipt_id=receipt_id,
        price_paid=plan.price,
        period_end=subscription.current_period_end,
        created_by=sold_by,
        fingerprint=fingerprint,
        created_at=now,
    )
    subscription.plan = plan
    subscription.member = member
    if kind == SubscriptionEventKind.STARTED:
        membership_event_record(subscription=subscription, started=True, at=now)
    _membership_tier_apply(account, member_id=member.pk, plan=plan, at=now)
    _membership_voucher_issue(subscription, at=now)
    return subscription, False


def subscription_cancel(
    *, subscription: Subscription, by: User | None, reason: str | SystemReason = ""
) -> Subscription:
    """End an active membership at once: its multiplier and tier guarantee stop now.

    At once, not at the period end: "stop at the end" is turning automatic
    renewal off (or simply not renewing); a cancellation is what staff record
    when the money is given back at the till (outside the program), what a
    member asks for on the portal, and what a refunded online payment does
    when its plan says so. Vouchers already issued stay valid; the member's
    tier then follows the usual grace rules of the nightly downgrade.
    Cancelling again returns it unchanged; an expired one is a Conflict.
    Locks the member's account, then the subscription. Queues nothing.
    """
    with transaction.atomic(durable=True):
        account_lock(member_id=subscription.member_id)
        return subscription_cancel_locked(
            subscription_id=subscription.pk, by=by, reason=reason
        )


def subscription_cancel_locked(
    *, subscription_id: int, by: User | None, reason: str | SystemReason = ""
) -> Subscription:
    """subscription_cancel's work inside a transaction that holds the member's
    account lock (a refund callback). Locks the subscription. Queues nothing."""
    locked = subscription_lock(subscription_id=subscription_id)
    if locked.status == SubscriptionStatus.CANCELLED:
        return locked
    if locked.status == SubscriptionStatus.EXPIRED:
        raise Conflict(
            _("This membership already ended on %(date)s.")
            % {"date": _date_text(locked.ended_at or locked.current_period_end)},
            field="subscription",
        )
    now = timezone.now()
    locked.status = SubscriptionStatus.CANCELLED
    locked.ended_at = now
    locked.cancelled_by = by
    code, params, text = reason_split(reason)
    locked.cancel_reason, locked.reason_code, locked.reason_params = (
        text,
        code,
        params,
    )
    locked.auto_renew = False
    locked.save(
        update_fields=[
            "status",
            "ended_at",
            "cancelled_by",
            "cancel_reason",
            "reason_code",
            "reason_params",
            "auto_renew",
        ]
    )
    SubscriptionEvent.objects.create(
        subscription=locked,
        kind=SubscriptionEventKind.CANCELLED,
        period_end=locked.current_period_end,
        created_by=by,
        created_at=now,
    )
    membership_event_record(subscription=locked, started=False, at=now)
    return locked


# --- nightly jobs -----------------------------------------------------------------------


def subscriptions_expire_due(
    *, now: dt.datetime | None = None, batch: int = 500
) -> int:
    """Nightly: mark active memberships whose period is over as expired.
    Returns how many.

    Each in its own transaction (locks: account, subscription) with the state
    re-checked, so a second run, or a renewal meanwhile, is respected. Queues
    nothing."""
    now = now or timezone.now()
    done, last_pk = 0, 0
    while True:
        due = list(
            Subscription.objects.filter(
                pk__gt=last_pk,
                status=SubscriptionStatus.ACTIVE,
                current_period_end__lte=now,
            )
            .order_by("pk")
            .values_list("pk", "member_id")[:batch]
        )
        for pk, member_id in due:
            with transaction.atomic(durable=True):
                account_lock(member_id=member_id)
                sub = subscription_lock(subscription_id=pk)
                if (
                    sub.status != SubscriptionStatus.ACTIVE
                    or sub.current_period_end > now
                ):
                    continue
                _subscription_expire(sub, at=now)
                done += 1
        if len(due) < batch:
            return done
        last_pk = due[-1][0]


def membership_vouchers_issue_due(
    *, at: dt.datetime | None = None, batch: int = 500
) -> int:
    """Nightly: this month's perk voucher for every active membership whose plan
    has one, once per subscription and month (key "membership:<id>:<YYYY-MM>").
    Returns how many vouchers it issued.

    Chunks of `batch` subscriptions; one query per chunk finds the vouchers
    already issued, so a second run issues nothing. Each grant is its own
    transaction locking the account, then the subscription. Queues nothing."""
    at = at or timezone.now()
    issued, last_pk = 0, 0
    base = Subscription.objects.filter(
        status=SubscriptionStatus.ACTIVE,
        started_at__lte=at,
        current_period_end__gt=at,
        plan__monthly_reward__isnull=False,
    ).order_by("pk")
    while True:
        rows = list(base.filter(pk__gt=last_pk).values_list("pk", "member_id")[:batch])
        if not rows:
            return issued
        last_pk = rows[-1][0]
        keys = {pk: membership_voucher_key(pk, at) for pk, _member in rows}
        have = set(
            Voucher.objects.filter(idempotency_key__in=keys.values()).values_list(
                "idempotency_key", flat=True
            )
        )
        for pk, member_id in rows:
            if keys[pk] in have:
                continue
            with transaction.atomic(durable=True):
                account_lock(member_id=member_id)
                sub = subscription_lock(subscription_id=pk)
                if (
                    sub.status != SubscriptionStatus.ACTIVE
                    or sub.current_period_end <= at
                ):
                    continue
                sub = Subscription.objects.select_related(
                    "member", "plan__monthly_reward"
                ).get(pk=pk)
                issued += _membership_voucher_issue(sub, at=at)
        if len(rows) < batch:
            return issued


def subscriptions_remind_due(
    *, now: dt.datetime | None = None, days: int | None = None, batch: int = 500
) -> int:
    """Nightly: remind members whose membership ends within `days` days
    (LOYALTY_MEMBERSHIP_REMINDER_DAYS) that it is time to renew, once per period.

    Marks `reminder_sent_for` with the period end and writes a REMINDER event
    in the subscription's transaction (lock: the subscription); the message
    leaves after commit through membership_reminder_send. A renewal moves the
    period end, so the next period gets its own reminder. Returns how many."""
    now = now or timezone.now()
    days = settings.LOYALTY_MEMBERSHIP_REMINDER_DAYS if days is None else days
    sent, last_pk = 0, 0
    due = Subscription.objects.filter(
        status=SubscriptionStatus.ACTIVE,
        current_period_end__gt=now,
        current_period_end__lte=now + dt.timedelta(days=days),
    ).filter(
        Q(reminder_sent_for__isnull=True)
        | ~Q(reminder_sent_for=F("current_period_end"))
    )
    while True:
        ids = list(
            due.filter(pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )
        for pk in ids:
            with transaction.atomic(durable=True):
                sub = subscription_lock(subscription_id=pk)
                if (
                    sub.status != SubscriptionStatus.ACTIVE
                    or sub.reminder_sent_for == sub.current_period_end
                ):
                    continue
                sub.reminder_sent_for = sub.current_period_end
                sub.save(update_fields=["reminder_sent_for"])
                SubscriptionEvent.objects.create(
                    subscription=sub,
                    kind=SubscriptionEventKind.REMINDER,
                    period_end=sub.current_period_end,
                    created_at=now,
                )
                transaction.on_commit(
                    lambda pk=pk: membership_reminder_send(subscription_id=pk)
                )
                sent += 1
        if len(ids) < batch:
            return sent
        last_pk = ids[-1]


# --- the reminder message: one place to replace ------------------------------------


def membership_reminder_send(*, subscription_id: int) -> None:
    """Send the renewal reminder through LOYALTY_MEMBERSHIP_REMINDER_SENDER, a
    function taking `subscription=`. The campaigns work can point the setting at
    its own channel (templates, push, delivery log) without touching the job."""
    sub = (
        Subscription.objects.select_related("member", "plan")
        .filter(pk=subscription_id)
        .first()
    )
    if sub is None:
        return
    import_string(settings.LOYALTY_MEMBERSHIP_REMINDER_SENDER)(subscription=sub)


def membership_reminder_email_or_sms(*, subscription: Subscription) -> None:
    """A sender without the message log: on the member's channel
    (`members.messages.member_channel`, the one rule), in the member's
    language. A service message about something the member paid for, so it
    goes without marketing consent."""
    member = subscription.member
    with translation.override(member.language):
        text = _(
            "Your %(plan)s membership ends on %(date)s. Renew it at any of our "
            "stores to keep its perks."
        ) % {
            "plan": subscription.plan.name,
            "date": _date_text(subscription.current_period_end),
        }
        subject = branded_subject(_("Your membership ends soon"))
    channel = member_channel(member)
    if channel == Channel.EMAIL:
        email = branded_email(
            subject=subject,
            text=text,
            to=[member.email],
            language=member.language,
        )
        email.send()
    elif channel == Channel.SMS:
        sms_send(to=member.phone, text=sms_signed(text))


def membership_plan_save(*, plan: MembershipPlan) -> MembershipPlan:
    """Create or change a plan (admin, seed data): validates and writes the row.
    Existing subscriptions keep running on the changed plan. Locks nothing."""
    plan.full_clean()
    if plan.earn_multiplier < 1:
        raise InvalidInput(
            _("The earn multiplier is at least 1."), field="earn_multiplier"
        )
    plan.save()
    return plan
