"""Row locks on members' rows, the first in the project's one lock order.

The order is stated once, in rewards/locks.py: the member comes first, before
its points account and everything after it. A one-time code row comes after its
member. Several members are locked by pk.

A check that counts what was done for a member against a cap or threshold (codes
sent this hour, referrals this month, what one staff member adjusted in 24 hours)
runs under the member's lock, so two requests cannot both read the count from
before the other's write.
"""

from __future__ import annotations

from members.models import Member, OneTimeCode


def member_lock(*, member_id: int) -> Member:
    """The member's row, locked until the caller's transaction ends.

    Raises Member.DoesNotExist when there is no such member."""
    return Member.objects.select_for_update(of=("self",)).get(pk=member_id)


def one_time_code_lock(*, otp_id: int) -> OneTimeCode | None:
    """A one-time code's row, or None. After its member's lock."""
    return OneTimeCode.objects.select_for_update(of=("self",)).filter(pk=otp_id).first()
