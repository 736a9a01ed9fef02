"""What rewards adds to a member's enrolment, through members.services.hooks
(registered in RewardsConfig.ready()): the points account, the welcome and
profile bonuses, and the referral with its bonus.

member_enroll runs these in its transaction, in this order: the account right
after the member's INSERT, the bonuses last; members_enroll_many does the same
for a batch with a fixed number of statements (BulkEnrolmentBonuses).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from members.locks import member_lock
from members.models import Member
from rewards.selectors.referrals import bonus_settings_get
from rewards.services.accounts import BonusInput, points_accounts_open
from rewards.services.bonuses import (
    PROFILE_REASON,
    WELCOME_REASON,
    bonus_grant,
    profile_bonus_check,
    profile_bonus_due,
    profile_key,
    welcome_key,
)
from rewards.services.referrals import referral_record


def enrolment_bonuses_grant(
    *, member: Member, referrer: Member | None, now: dt.datetime
) -> None:
    """The enrolment hook: the welcome bonus, the referral with its referee
    bonus (with `referrer`), then the profile bonus, in member_enroll's
    transaction. Locks the referrer's member row first (their referral caps are
    counted under it), then the new account for the bonuses."""
    conf = bonus_settings_get()
    at = now if now < timezone.now() - dt.timedelta(minutes=1) else None
    if referrer is not None:
        # The referrer's caps count their referrals: one enrollment at a time
        # (a member before any account, the order of rewards/locks.py).
        member_lock(member_id=referrer.pk)
    bonus_grant(member, conf.welcome_points, WELCOME_REASON, welcome_key(member), at)
    if referrer is not None:
        referral_record(referrer=referrer, member=member, now=now, conf=conf, at=at)
    profile_bonus_check(member=member, at=at)
    if conf.welcome_points or conf.profile_points or referrer is not None:
        # The bonuses moved the balance on a locked copy of the account row.
        member.account.refresh_from_db(fields=["balance", "updated_at"])


class BulkEnrolmentBonuses:
    """The bulk-enrolment hook (members.services.hooks.BulkEnrolmentPlan): the
    points accounts of a batch and their welcome and profile bonuses, what
    enrolment_bonuses_grant pays one member at a time (no referrals: a file
    gives no referral codes). Reads the bonus settings once, when the batch
    starts."""

    def __init__(self, *, now: dt.datetime) -> None:
        self.now = now
        self.conf = bonus_settings_get()

    def member_prepare(self, member: Member) -> None:
        """Mark the profile bonus given when the row comes complete."""
        if self.conf.profile_points and profile_bonus_due(member):
            member.profile_bonus_at = self.now

    def members_created(self, members: list[Member]) -> None:
        """Open the accounts and credit the bonuses: points_accounts_open."""
        conf = self.conf
        bonuses: dict[int, list[BonusInput]] = {}
        for member in members:
            planned = bonuses[member.pk] = []
            if conf.welcome_points:
                planned.append(
                    BonusInput(conf.welcome_points, WELCOME_REASON, welcome_key(member))
                )
            if member.profile_bonus_at is not None:
                planned.append(
                    BonusInput(conf.profile_points, PROFILE_REASON, profile_key(member))
                )
        points_accounts_open(members=members, bonuses=bonuses)
