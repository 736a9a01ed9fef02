"""Referrals: a member joining with another member's code, the checks that
refuse or hold it, its bonuses, and the staff review."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members.errors import Conflict
from members.models import Member, User
from rewards.locks import referral_lock, referral_pending_lock
from rewards.models import Purchase, Referral, ReferralStatus, RefusalReason
from rewards.reasons import BONUS_REFEREE, BONUS_REFERRER, system_reason
from rewards.selectors.referrals import bonus_settings_get
from rewards.services.bonuses import bonus_grant

# Mail providers whose addresses ignore dots and "+tags" in the local part.
DOTLESS_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def _email_canonical(email: str | None) -> str:
    """The mailbox behind an address: "+tags" dropped, and dots where they do not count."""
    local, _sep, domain = (email or "").lower().partition("@")
    local = local.split("+", 1)[0]
    if domain in DOTLESS_DOMAINS:
        local = local.replace(".", "")
    return f"{local}@{domain}" if domain else ""


def referral_refuse_enrolled(*, referrer: Member, existing: Member) -> Referral:
    """Keep the attempt of an existing member to join with a code, refused (an
    enrolment-refused hook of member_enroll and member_signup)."""
    reason = (
        RefusalReason.SELF_REFERRAL
        if existing.pk == referrer.pk
        else RefusalReason.ALREADY_ENROLLED
    )
    return Referral.objects.create(
        referrer=referrer,
        referee=None,
        referee_phone=existing.phone,
        status=ReferralStatus.REFUSED,
        refusal_reason=reason,
    )


def _month_start(moment: dt.datetime) -> dt.datetime:
    local = timezone.localtime(moment)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _referral_decide(
    *, referrer: Member, member: Member, now: dt.datetime, conf
) -> tuple[str, str, str]:
    """(status, refusal reason, review note) for a new member's referral.

    Refused: the same phone, mailbox (see _email_canonical) or device as the
    referrer, or over the referrer's cap this calendar month. Held for review:
    more than `referral_review_per_day` referrals by the referrer within 24
    hours, or the same email domain and last name as the referrer (a family
    member, or one person with two addresses: staff decide).
    """
    same_email = member.email and _email_canonical(member.email) == _email_canonical(
        referrer.email
    )
    same_device = member.device_id and member.device_id == referrer.device_id
    if member.phone == referrer.phone or same_email or same_device:
        return ReferralStatus.REFUSED, RefusalReason.SELF_REFERRAL, ""
    counted = referrer.referrals_made.exclude(status=ReferralStatus.REFUSED)
    if counted.filter(created_at__gte=_month_start(now)).count() >= (
        conf.referral_cap_per_month
    ):
        return ReferralStatus.REFUSED, RefusalReason.OVER_CAP, ""
    if counted.filter(created_at__gt=now - dt.timedelta(days=1)).count() >= (
        conf.referral_review_per_day
    ):
        return (
            ReferralStatus.REVIEW,
            "",
            _("Many referrals by this member in one day."),
        )
    domain = (member.email or "").rpartition("@")[2]
    if (
        domain
        and domain == (referrer.email or "").lower().rpartition("@")[2]
        and member.last_name
        and member.last_name.casefold() == referrer.last_name.casefold()
    ):
        return (
            ReferralStatus.REVIEW,
            "",
            _("Same last name and email domain as the referrer."),
        )
    return ReferralStatus.PENDING, "", ""


def referral_record(
    *, referrer: Member, member: Member, now: dt.datetime, conf, at=None
) -> Referral:
    """The referral of a member enrolling with `referrer`'s code, decided by
    _referral_decide, with the referee bonus when it is pending. Called by the
    enrolment hook (rewards.services.enrolment) under the referrer's lock."""
    status, reason, note = _referral_decide(
        referrer=referrer, member=member, now=now, conf=conf
    )
    referral = Referral.objects.create(
        referrer=referrer,
        referee=member,
        referee_phone=member.phone,
        status=status,
        refusal_reason=reason,
        review_note=note,
        created_at=now,
    )
    if status == ReferralStatus.PENDING:
        _referee_bonus(referral, conf, at)
    return referral


def _referee_bonus(referral: Referral, conf, at=None) -> None:
    bonus_grant(
        referral.referee,
        conf.referee_points,
        system_reason(BONUS_REFEREE),
        f"referral:{referral.pk}:referee",
        at,
    )


def referral_qualify_on_purchase(*, member: Member, purchase) -> Referral | None:
    """Called by purchase_record inside its transaction, after the earn entry.

    The referee's first purchase of at least the minimum qualifies a pending
    referral and credits the referrer's bonus once (key
    "referral:<id>:referrer"). Locks the referral row, then the referrer's
    account (the referee's account is already locked by the caller).
    """
    # Runs on every purchase: a bare indexed lookup first, the lock only for
    # the few members with a pending referral.
    pending = Referral.objects.filter(
        referee_id=member.pk, status=ReferralStatus.PENDING
    ).values_list("pk", flat=True)
    referral_id = pending.order_by().first()
    if referral_id is None:
        return None
    conf = bonus_settings_get()
    if purchase.total < conf.referral_min_purchase:
        return None
    referral = referral_pending_lock(referral_id=referral_id)
    if referral is None:
        return None
    return _referral_qualify(referral, conf, at=purchase.created_at)


def _referral_qualify(referral: Referral, conf, *, at: dt.datetime) -> Referral:
    referral.status = ReferralStatus.QUALIFIED
    referral.qualified_at = at
    referral.save(update_fields=["status", "qualified_at"])
    bonus_grant(
        referral.referrer,
        conf.referrer_points,
        system_reason(BONUS_REFERRER),
        f"referral:{referral.pk}:referrer",
        at if at < timezone.now() - dt.timedelta(minutes=1) else None,
    )
    return referral


def referral_approve(*, referral: Referral, by: User | None) -> Referral:
    """Staff approve a referral from the review queue.

    The new member gets the referee bonus now; when they have already made a
    qualifying purchase the referral qualifies at once and the referrer gets
    theirs. Locks the referral row, then the accounts.
    """
    with transaction.atomic(durable=True):
        referral = referral_lock(referral_id=referral.pk)
        if referral.status != ReferralStatus.REVIEW:
            raise Conflict(
                _("Only a referral waiting for review can be approved."),
                field="status",
            )
        conf = bonus_settings_get()
        referral.status = ReferralStatus.PENDING
        referral.decided_by = by
        referral.save(update_fields=["status", "decided_by"])
        _referee_bonus(referral, conf)
        first = (
            Purchase.objects.filter(
                member_id=referral.referee_id, total__gte=conf.referral_min_purchase
            )
            .order_by("created_at", "pk")
            .first()
        )
        if first is not None:
            _referral_qualify(referral, conf, at=timezone.now())
    return referral


def referral_refuse(*, referral: Referral, by: User | None) -> Referral:
    """Staff refuse a referral from the review queue: no bonus to either member."""
    with transaction.atomic(durable=True):
        referral = referral_lock(referral_id=referral.pk)
        if referral.status != ReferralStatus.REVIEW:
            raise Conflict(
                _("Only a referral waiting for review can be refused."),
                field="status",
            )
        referral.status = ReferralStatus.REFUSED
        referral.refusal_reason = RefusalReason.STAFF
        referral.decided_by = by
        referral.save(update_fields=["status", "refusal_reason", "decided_by"])
    return referral
