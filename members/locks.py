"""Row locks on members' rows: members, one-time codes, a member's login. The
order is in rewards/locks.py.

A check that counts what was done for a member against a cap or threshold (codes
sent this hour, referrals this month, what one staff member adjusted in 24 hours)
runs under the member's lock, so two requests cannot both read the count from
before the other's write.
"""

from __future__ import annotations

from collections.abc import Iterable

from members.models import Member, OneTimeCode, User


def member_lock(*, member_id: int) -> Member:
    """The member's row, locked until the caller's transaction ends; taken first.

    Raises Member.DoesNotExist when there is no such member."""
    return Member.objects.select_for_update(of=("self",)).get(pk=member_id)


def member_lock_or_none(*, member_id: int) -> Member | None:
    """The member's row, or None when there is no such member; taken first."""
    return Member.objects.select_for_update(of=("self",)).filter(pk=member_id).first()


def members_lock(*, member_ids: Iterable[int]) -> list[Member]:
    """Several members' rows, by pk; taken first."""
    return list(
        Member.objects.select_for_update(of=("self",))
        .filter(pk__in=member_ids)
        .order_by("pk")
    )


def one_time_code_lock(*, otp_id: int) -> OneTimeCode | None:
    """A one-time code's row, or None. After its member's lock."""
    return OneTimeCode.objects.select_for_update(of=("self",)).filter(pk=otp_id).first()


def login_user_lock(*, user_id: int) -> User:
    """A member's login (their User row). After its member's lock."""
    return User.objects.select_for_update(of=("self",)).get(pk=user_id)
