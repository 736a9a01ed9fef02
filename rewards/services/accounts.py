"""Points accounts: opening one (at enrolment), and opening many at once with
their enrolment bonuses (bulk enrolment)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from members.errors import InvalidInput
from members.models import Member
from rewards.models import LedgerEntry, LedgerKind, PointsAccount, PointsLot
from rewards.reasons import SystemReason, reason_split
from rewards.selectors.program import program_settings_get
from rewards.services.inputs import points_clean
from rewards.services.ledger import balance_room_check, points_expiry
from rewards.services.webhook_events import points_events_record_many


def points_account_create(*, member: Member) -> PointsAccount:
    """Open the member's points account (balance 0). Called by member_enroll."""
    return PointsAccount.objects.create(member=member)


@dataclass(frozen=True)
class BonusInput:
    """One bonus for points_accounts_open: what points_bonus_grant takes."""

    points: int
    reason: str | SystemReason
    idempotency_key: str


def points_accounts_open(
    *,
    members: list[Member],
    bonuses: dict[int, list[BonusInput]] | None = None,
) -> list[PointsAccount]:
    """Open the points accounts of members just created together (bulk
    enrollment, members_enroll_many) and credit their enrollment bonuses
    (`bonuses` by member pk, in order): what points_account_create and
    points_bonus_grant do one member at a time, with one bulk_create each for
    the accounts (at their final balance), the BONUS entries (balance_after
    running, stamped now) and their lots.

    Only for members created in the caller's transaction: the accounts are new,
    so there is nothing to lock, no debt to pay and no key to look up first; the
    idempotency keys' unique constraint still refuses a bonus paid twice (an
    IntegrityError for the caller, whose transaction rolls back). Records each
    bonus's points.earned webhook event, as points_bonus_grant does (its
    deliveries queued on commit).
    """
    bonuses = bonuses or {}
    now = timezone.now()
    accounts, entries = [], []
    for member in members:
        account = PointsAccount(member=member)
        accounts.append(account)
        for bonus in bonuses.get(member.pk, ()):
            points = points_clean(bonus.points)
            code, params, reason = reason_split(bonus.reason)
            if not reason or not bonus.idempotency_key:
                raise InvalidInput(_("Give a reason for the bonus."), field="reason")
            balance_room_check(account, points)
            account.balance += points
            entries.append(
                LedgerEntry(
                    account=account,
                    kind=LedgerKind.BONUS,
                    points=points,
                    balance_after=account.balance,
                    reason=reason,
                    reason_code=code,
                    reason_params=params,
                    idempotency_key=bonus.idempotency_key,
                    created_at=now,
                )
            )
    PointsAccount.objects.bulk_create(accounts)
    if entries:
        # bulk_create takes each account's pk from the object assigned above.
        LedgerEntry.objects.bulk_create(entries)
        expires_at = points_expiry(now, program_settings_get())
        PointsLot.objects.bulk_create(
            PointsLot(
                account=entry.account,
                entry=entry,
                points=entry.points,
                remaining=entry.points,
                earned_at=now,
                available_at=now,
                expires_at=expires_at,
            )
            for entry in entries
        )
        points_events_record_many(entries=entries)
    return accounts
