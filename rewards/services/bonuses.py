"""Bonuses: the welcome, profile and birthday bonuses, and the one settings row
with their amounts (BonusSettings, which the referral bonuses share)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from members.audit import StaffActor, audited_save
from members.locks import member_lock_or_none
from members.models import Member
from members.singletons import singleton_ensure
from rewards.models import BonusSettings, VoucherSource
from rewards.reasons import (
    BONUS_BIRTHDAY,
    BONUS_PROFILE,
    BONUS_WELCOME,
    SystemReason,
    system_reason,
)
from rewards.selectors.referrals import bonus_settings_get
from rewards.services.earning import settings_row_update
from rewards.services.ledger import points_bonus_grant
from rewards.services.vouchers import voucher_grant

BIRTHDAY_NOTICE_DAYS = 30  # a birthday entered closer to it than this earns nothing
WELCOME_REASON = system_reason(BONUS_WELCOME)
PROFILE_REASON = system_reason(BONUS_PROFILE)
BIRTHDAY_REASON = system_reason(BONUS_BIRTHDAY)


def bonus_grant(
    member: Member,
    points: int,
    reason: SystemReason,
    key: str,
    at: dt.datetime | None = None,
) -> None:
    """Credit a bonus of `points` (nothing when 0: that bonus is switched off)
    once per idempotency key `key`, through points_bonus_grant (which locks
    the account); `at` backdates the entry (an enrolment of the past)."""
    if points > 0:
        points_bonus_grant(
            member=member,
            points=points,
            reason=reason,
            idempotency_key=key,
            recorded_at=at,
        )


def welcome_key(member: Member) -> str:
    return f"welcome:{member.pk}"


def profile_key(member: Member) -> str:
    return f"profile:{member.pk}"


def profile_bonus_due(member: Member) -> bool:
    """Not given yet, and the profile is complete."""
    return member.profile_bonus_at is None and all(
        (member.first_name, member.last_name, member.birthday, member.email)
    )


def profile_bonus_check(*, member: Member, at: dt.datetime | None = None) -> None:
    """Credit the profile bonus once, when the profile is first complete: at
    enrolment, and as a profile hook of member_update_profile (in its
    transaction). Locks the account through points_bonus_grant."""
    if not profile_bonus_due(member):
        return
    points = bonus_settings_get().profile_points
    if not points:
        return  # switched off: a member completing it later may still get it
    bonus_grant(member, points, PROFILE_REASON, profile_key(member), at)
    member.profile_bonus_at = at or timezone.now()
    member.save(update_fields=["profile_bonus_at"])


def _birthday_in(year: int, birthday: dt.date) -> dt.date:
    if birthday.month == 2 and birthday.day == 29:
        try:
            return birthday.replace(year=year)
        except ValueError:
            return dt.date(year, 2, 28)
    return birthday.replace(year=year)


def birthday_bonus_grant_due(
    *, today: dt.date | None = None, batch: int = 500, at: dt.datetime | None = None
) -> int:
    """Credit the birthday bonus (points, a gift voucher, or both) to members
    whose birthday month this is.

    Once a year (`Member.birthday_bonus_year` and the idempotency key
    "birthday:<member>:<year>"), and not when the birthday was entered less than
    BIRTHDAY_NOTICE_DAYS before it this year. Members are read in pk-ordered
    chunks of `batch`, one query per chunk; each member is credited in its own
    durable transaction, locking the member row and then the account. Safe to
    run twice. Returns how many bonuses were given.
    """
    today = today or timezone.localdate()
    conf = bonus_settings_get()
    points, reward = conf.birthday_points, conf.birthday_reward
    if not points and reward is None:
        return 0
    due = (
        Member.objects.filter(birthday__month=today.month)
        .exclude(birthday_bonus_year=today.year)
        .order_by("pk")
        .only("pk", "birthday", "birthday_set_at")
    )
    given, last_pk = 0, 0
    while True:
        chunk = list(due.filter(pk__gt=last_pk)[:batch])
        if not chunk:
            return given
        last_pk = chunk[-1].pk
        for member in chunk:
            birthday = _birthday_in(today.year, member.birthday)
            entered = member.birthday_set_at
            if entered is not None and timezone.localdate(entered) > (
                birthday - dt.timedelta(days=BIRTHDAY_NOTICE_DAYS)
            ):
                continue
            with transaction.atomic(durable=True):
                locked = member_lock_or_none(member_id=member.pk)
                if locked is None or locked.birthday_bonus_year == today.year:
                    continue
                key = f"birthday:{locked.pk}:{today.year}"
                if points:
                    bonus_grant(locked, points, BIRTHDAY_REASON, key, at)
                if reward is not None:
                    voucher_grant(
                        member=locked,
                        reward=reward,
                        source=VoucherSource.BIRTHDAY,
                        idempotency_key=key,
                        at=at,
                    )
                locked.birthday_bonus_year = today.year
                locked.save(update_fields=["birthday_bonus_year"])
                given += 1


def bonus_settings_ensure() -> BonusSettings:
    """The one bonus and referral settings row, created with the defaults (every
    bonus off) when it does not exist yet. Locks nothing; queues nothing."""
    return singleton_ensure(BonusSettings)


def bonus_settings_update(**values) -> BonusSettings:
    """Set bonus and referral amounts on the one settings row (seed data, scripts)."""
    return settings_row_update(bonus_settings_ensure(), **values)


def bonus_settings_save(
    *, settings_row: BonusSettings, actor: StaffActor | None = None
) -> BonusSettings:
    """Save the one bonus and referral settings row as a Manager edited it (the
    admin): validated, with the audit row of `actor`. Locks nothing; queues
    nothing."""
    return audited_save(obj=settings_row, actor=actor)
