"""Extension points of enrolment and the profile: what the apps above add.

members knows nothing of points. rewards opens the points account, pays the
welcome, profile and referral bonuses and keeps the referrals by registering
its functions here from RewardsConfig.ready(), the way every app registers its
models with the admin (docs/decisions.md, "Enrolment hooks").

Each hook runs in the caller's transaction, in the order hooks were registered,
so what it writes commits or rolls back with the member; an exception in a
hook fails the enrolment. Hooks take keyword arguments only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Protocol

from members.models import Member


class BulkEnrolmentPlan(Protocol):
    """One app's part in a bulk enrolment (members_enroll_many), made once per
    batch by a bulk-enrolment hook before the rows are checked."""

    def member_prepare(self, member: Member) -> None:
        """Adjust a new member row before it is inserted (not saved)."""

    def members_created(self, members: list[Member]) -> None:
        """Write what goes with the inserted members (they have pks), in the
        batch's transaction, with a fixed number of statements."""


# (member=) right after the new member's INSERT, in the enrolment transaction.
member_created_hooks: list[Callable[..., None]] = []
# (member=, referrer=, now=) last in the enrolment transaction; `referrer` is
# the member whose referral code came with the enrolment, or None.
enrolment_hooks: list[Callable[..., None]] = []
# (referrer=, existing=) a referral code came with a phone or email that member
# `existing` has already: the enrolment is refused after the hooks ran.
enrolment_refused_hooks: list[Callable[..., None]] = []
# (now=) -> BulkEnrolmentPlan, once per members_enroll_many batch.
bulk_enrolment_hooks: list[Callable[..., BulkEnrolmentPlan]] = []
# (member=) after member_update_profile saved the fields, in its transaction.
profile_hooks: list[Callable[..., None]] = []


def hook_register(hooks: list[Callable], hook: Callable) -> None:
    """Add `hook` to one of the lists above, once (ready() may run again)."""
    if hook not in hooks:
        hooks.append(hook)


def member_created_run(*, member: Member) -> None:
    for hook in member_created_hooks:
        hook(member=member)


def enrolment_run(*, member: Member, referrer: Member | None, now: dt.datetime) -> None:
    for hook in enrolment_hooks:
        hook(member=member, referrer=referrer, now=now)


def enrolment_refused_run(*, referrer: Member, existing: Member) -> None:
    for hook in enrolment_refused_hooks:
        hook(referrer=referrer, existing=existing)


def bulk_enrolment_plans(*, now: dt.datetime) -> list[BulkEnrolmentPlan]:
    return [hook(now=now) for hook in bulk_enrolment_hooks]


def profile_run(*, member: Member) -> None:
    for hook in profile_hooks:
        hook(member=member)
