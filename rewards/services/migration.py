"""Moving members from an earlier loyalty program: the opening balance (with
its own points lot and expiry) and the tier, as columns of the member import.

members.imports knows nothing of points; rewards registers MEMBER_IMPORT_COLUMNS
in members.import_columns from RewardsConfig.ready(). members_enroll_many
opens the points accounts (and pays the welcome bonus) through the
bulk-enrolment hook, then, in the same transaction, MemberImportRewards writes
for the chunk's new members, with one statement per kind of row:

- opening_balance: an ADJUST entry with the reason code `opening_balance`,
  after the bonuses (balance_after running, the cached balance moved with it:
  `balance == sum(entries)` at the commit), idempotency key
  `opening_balance:<member id>` (one opening balance per member, ever), and
  its own lot, expiring at the end of `points_expire_on` (the program's
  expiry counted from today when the column is empty; never when the program
  has no expiry);
- tier: the account's tier and a TierHistory row (kind "initial", reason code
  `tier_imported`, value 0). The nightly downgrade check applies from then on
  like for any member.

A member already enrolled is skipped by the import with everything of their
row, so re-running a file never adds a balance twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import OuterRef, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from members.errors import InvalidInput
from members.import_columns import ImportColumns, RowErrorReport
from members.models import Member
from rewards.models import (
    LedgerEntry,
    LedgerKind,
    PointsAccount,
    PointsLot,
    Tier,
    TierHistory,
)
from rewards.reasons import OPENING_BALANCE, TIER_IMPORTED, reason_split, system_reason
from rewards.selectors.program import program_settings_get
from rewards.services.inputs import points_clean
from rewards.services.ledger import balance_room_check, points_expiry

OPENING_COLUMNS = ("opening_balance", "points_expire_on", "tier")


def opening_key(member: Member) -> str:
    return f"opening_balance:{member.pk}"


@dataclass(frozen=True)
class OpeningRow:
    """What a row of the file brings to rewards."""

    points: int
    expires_at: dt.datetime | None  # None: the program's default expiry
    tier: Tier | None


def day_end(day: dt.date) -> dt.datetime:
    """The first moment after `day` in the site's time zone: points "valid
    until 31 March" expire at midnight starting 1 April."""
    return timezone.make_aware(
        dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min)
    )


class MemberImportRewards:
    """members.import_columns.ImportPart of rewards, made once per import run:
    reads the active tiers and the program's expiry once."""

    def __init__(self) -> None:
        self.now = timezone.now()
        self.conf = program_settings_get()
        self.tiers: dict[str, Tier] = {}
        for tier in Tier.objects.filter(is_active=True).order_by("rank"):
            self.tiers.setdefault(str(tier.rank), tier)
            for code, _name in settings.LANGUAGES:
                name = getattr(tier, f"name_{code.replace('-', '_')}", None) or ""
                if name.strip():
                    self.tiers.setdefault(name.strip().lower(), tier)

    def row_clean(self, row, error: RowErrorReport) -> OpeningRow | None:
        points = 0
        text = row.get("opening_balance")
        if text and text != "0":
            try:
                points = points_clean(text, field="opening_balance")
            except InvalidInput as exc:
                error("opening_balance", exc.message)
        expires_at = None
        if row.get("points_expire_on"):
            try:
                day = dt.date.fromisoformat(row.get("points_expire_on"))
            except ValueError:
                error(
                    "points_expire_on",
                    _("“%(value)s” is not a date such as 2027-03-31.")
                    % {"value": row.get("points_expire_on")},
                )
            else:
                expires_at = day_end(day)
                if expires_at <= self.now:
                    error(
                        "points_expire_on",
                        _("The date has passed: these points would expire at once."),
                    )
                elif not points:
                    error(
                        "points_expire_on",
                        _("An expiry date is given without an opening balance."),
                    )
        tier = None
        if row.get("tier"):
            tier = self.tiers.get(row.get("tier").lower())
            if tier is None:
                error(
                    "tier",
                    _("No active tier is called “%(tier)s”. The tiers are: %(tiers)s.")
                    % {
                        "tier": row.get("tier"),
                        "tiers": ", ".join(
                            sorted({t.name for t in self.tiers.values()})
                        )
                        or "—",
                    },
                )
        if not points and tier is None:
            return None
        return OpeningRow(points=points, expires_at=expires_at, tier=tier)

    def members_imported(
        self, members: list[tuple[Member, OpeningRow]], now: dt.datetime
    ) -> None:
        """The opening entries, their lots and the tiers of members created in
        the caller's transaction (their accounts opened by the bulk-enrolment
        hook just before): one query reads the accounts, one bulk statement
        each writes the entries, the lots and the tier history, one UPDATE sets
        the balances to the sum of the entries and one per tier the tiers.
        Locks nothing (the accounts are new); queues nothing."""
        accounts = {
            account.member_id: account
            for account in PointsAccount.objects.filter(
                member_id__in=[member.pk for member, _row in members]
            )
        }
        # After the welcome bonus the hook just wrote, so that the running
        # balances (verify_ledger) follow (created_at, id): an account's time
        # is never before any of its entries (LatestTimeField), so it bounds
        # them; the entries are stamped `now`, and the accounts' time moves to it.
        now = max(
            now,
            timezone.now(),
            *(a.updated_at for a in accounts.values() if a.updated_at),
        )
        code, params, text = reason_split(system_reason(OPENING_BALANCE))
        t_code, t_params, t_text = reason_split(system_reason(TIER_IMPORTED))
        default_expiry = points_expiry(now, self.conf)
        entries, expiries, history = [], [], []
        by_tier: dict[Tier, list[int]] = {}
        for member, row in members:
            account = accounts[member.pk]
            if row.points:
                balance_room_check(account, row.points)
                entries.append(
                    LedgerEntry(
                        account=account,
                        kind=LedgerKind.ADJUST,
                        points=row.points,
                        balance_after=account.balance + row.points,
                        reason=text,
                        reason_code=code,
                        reason_params=params,
                        idempotency_key=opening_key(member),
                        created_at=now,
                    )
                )
                expiries.append(row.expires_at or default_expiry)
            if row.tier is not None:
                history.append(
                    TierHistory(
                        member_id=member.pk,
                        from_tier_id=account.tier_id,
                        to_tier=row.tier,
                        kind=TierHistory.Kind.INITIAL,
                        reason=t_text,
                        reason_code=t_code,
                        reason_params=t_params,
                        value=Decimal(0),
                        created_at=now,
                    )
                )
                by_tier.setdefault(row.tier, []).append(account.pk)
        LedgerEntry.objects.bulk_create(entries, batch_size=1000)
        # The account had no debt (it is new): the lot is the whole credit.
        PointsLot.objects.bulk_create(
            (
                PointsLot(
                    account=entry.account,
                    entry=entry,
                    points=entry.points,
                    remaining=entry.points,
                    earned_at=now,
                    available_at=now,
                    expires_at=expires_at,
                )
                for entry, expires_at in zip(entries, expiries, strict=True)
            ),
            batch_size=1000,
        )
        # One statement moves every cached balance to the sum of its entries
        # (bulk_update's CASE per row costs seconds per thousand in Python).
        if entries:
            PointsAccount.objects.filter(
                pk__in=[entry.account.pk for entry in entries]
            ).update(
                balance=Subquery(
                    LedgerEntry.objects.filter(account=OuterRef("pk"))
                    .order_by()
                    .values("account")
                    .annotate(total=Sum("points"))
                    .values("total")
                ),
                updated_at=now,  # not before the account's time: see above
            )
        TierHistory.objects.bulk_create(history, batch_size=1000)
        for tier, account_ids in by_tier.items():
            PointsAccount.objects.filter(pk__in=account_ids).update(
                tier=tier, tier_since=now, updated_at=now
            )


MEMBER_IMPORT_COLUMNS = ImportColumns(
    app="rewards",
    columns=OPENING_COLUMNS,
    example=("1250", "2027-03-31", ""),
    start=MemberImportRewards,
)
