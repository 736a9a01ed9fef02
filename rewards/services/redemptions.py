"""Redemptions: points spent as a discount on a till receipt."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import connection

from members.models import Member, Store, User
from rewards.models import PointsAccount, Redemption
from rewards.reasons import REDEMPTION_DISCOUNT, system_reason
from rewards.selectors.ledger import points_discount
from rewards.selectors.program import program_settings_get
from rewards.services.inputs import points_clean, receipt_id_clean
from rewards.services.ledger import points_spend_plan
from rewards.services.receipts import TillReceipt, receipt_record


def points_redeem(
    *,
    member: Member,
    store: Store,
    points: int,
    receipt_id: str,
    created_by: User | None = None,
    recorded_at: dt.datetime | None = None,
    on_written: Callable[[Redemption], None] | None = None,
) -> tuple[Redemption, bool]:
    """Spend points as a discount at a till. Returns (redemption, replayed).

    Locks the account; refuses (Conflict, stating the balance) when fewer than
    `points` can be spent now (pending points cannot), so no redemption ever
    overdraws. Draws on the soonest-expiring points first. Queues what
    entry_post queues (the wallet pass's sync on commit; the points.redeemed
    webhook event).
    `on_written(row)`, when given, runs inside the transaction after the write
    (not on a replay); raising there rolls the write back (staff audit, limits).
    """
    receipt_id = receipt_id_clean(receipt_id)
    points = points_clean(points)
    body = {"member": member.pk, "points": points}
    receipt = TillReceipt(
        Redemption, store, receipt_id, member.pk, body, created_by, recorded_at
    )

    # What depends on no locked row is made before the account is locked, so
    # that other writers on this member wait less (bench 4, the hot member):
    # the discount at the program's point value, the reason, the fingerprint.
    discount = points_discount(points, program_settings_get().point_value)
    reason = system_reason(REDEMPTION_DISCOUNT, receipt=receipt_id, store=store.code)
    receipt.fingerprint  # noqa: B018 - a cached_property, computed here

    # Under the lock, three statements on PostgreSQL: the lock with the
    # receipt's look-up (TillReceipt.account_lock), the lots to draw on (which
    # is also the check that the points can be spent), then the redemption's
    # row, the balance, the entry and the draws in one (rewards.ledger_rows).
    # On PostgreSQL two: the write statement draws on the lots itself, after
    # the lock, and refuses when they fall short (entry_post's draw_in_write).
    def write(account: PointsAccount) -> Redemption:
        in_write = connection.vendor == "postgresql"
        draws = None if in_write else points_spend_plan(account, points, field="points")
        redemption = receipt.row_new(
            member=member,
            points=points,
            discount=discount,
            balance_after=account.balance - points,
        )
        receipt.entry_post(
            account,
            redemption,
            -points,
            reason,
            draws=draws,
            insert_link=True,
            draw_in_write=in_write,
        )
        return redemption

    return receipt_record(receipt, write=write, on_written=on_written)
