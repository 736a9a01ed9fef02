"""What the Counter adds to its writes: the cashier's daily limits and the
staff audit event, both inside the write's own transaction.

The points services take an `on_written` hook; `counter_hook` builds it. A
cashier over a daily limit gets DailyLimitReached, which rolls the write back.

Limits (StaffControls, 0 switches one off), per staff user and calendar day in
the site's time zone, for users without `rewards.exempt_daily_limits`
(Managers have it):

- `cashier_daily_redeemed_points`: points redeemed as discounts at the Counter,
  all customers together. Points spent for a friend's discount are the usual
  cashier fraud, and a points balance is money.
- `cashier_daily_returns`: returns recorded. A fake return refunds cash.

The check locks the cashier's user row (after the account and the purchase),
so two tills of one cashier cannot both slip under the limit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from django.db.models import Model, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from members.audit import StaffActor, audited_save, staff_audit_record
from members.errors import Conflict
from members.models import AuditAction
from members.singletons import singleton_ensure
from rewards.locks import staff_user_lock
from rewards.models import Purchase, PurchaseReturn, Redemption, StaffControls, Voucher
from rewards.selectors.controls import staff_controls_get

EXEMPT_PERMISSION = "rewards.exempt_daily_limits"


class DailyLimitReached(Conflict):
    """A cashier's daily limit refused a Counter write."""


def _day_start() -> dt.datetime:
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def _limits_check(
    actor: StaffActor, action: str, row: Model, conf: StaffControls
) -> None:
    if action == AuditAction.POINTS_REDEEMED:
        limit = conf.cashier_daily_redeemed_points
    elif action == AuditAction.RETURN_RECORDED:
        limit = conf.cashier_daily_returns
    else:
        return
    if not limit or actor.user.has_perm(EXEMPT_PERMISSION):
        return
    staff_user_lock(user_id=actor.user.pk)
    since = _day_start()
    if action == AuditAction.POINTS_REDEEMED:
        done = (
            Redemption.objects.filter(
                created_by=actor.user, created_at__gte=since
            ).aggregate(total=Sum("points"))["total"]
            or 0
        )  # this redemption included
        if done > limit:
            raise DailyLimitReached(
                _(
                    "Daily limit reached: a cashier may redeem at most %(limit)s "
                    "points a day, and you have redeemed %(done)s today. Ask a "
                    "Manager to redeem these %(points)s points."
                )
                % {"limit": limit, "done": done - row.points, "points": row.points},
                field="points",
                limit=limit,
            )
    else:
        done = PurchaseReturn.objects.filter(
            created_by=actor.user, created_at__gte=since
        ).count()
        if done > limit:
            raise DailyLimitReached(
                _(
                    "Daily limit reached: a cashier may record at most %(limit)s "
                    "returns a day. Ask a Manager to record this one."
                )
                % {"limit": limit},
                field="amount",
                limit=limit,
            )


def _details(row: Model) -> dict:
    if isinstance(row, Purchase):
        return {
            "store": row.store_id,
            "receipt": row.receipt_id,
            "total": str(row.total),
            "points": row.points_earned,
        }
    if isinstance(row, PurchaseReturn):
        return {
            "store": row.store_id,
            "receipt": row.receipt_id,
            "purchase": row.purchase_id,
            "amount": str(row.amount),
            "points": -row.points_reversed,
        }
    if isinstance(row, Redemption):
        return {
            "store": row.store_id,
            "receipt": row.receipt_id,
            "points": -row.points,
            "discount": str(row.discount or Decimal("0")),
        }
    if isinstance(row, Voucher):
        return {
            "store": row.used_store_id,
            "receipt": row.used_receipt_id,
            "code": row.code,
        }
    return {}


def _member_id(row: Model) -> int | None:
    if isinstance(row, PurchaseReturn):
        return row.purchase.member_id
    return getattr(row, "member_id", None)


def counter_hook(*, actor: StaffActor, action: str) -> Callable[[Model], None]:
    """The `on_written` hook for one Counter write: limits, then one audit INSERT."""

    def on_written(row: Model) -> None:
        _limits_check(actor, action, row, staff_controls_get())
        staff_audit_record(
            actor=actor,
            action=action,
            member_id=_member_id(row),
            obj=row,
            details=_details(row),
        )

    return on_written


def limit_refusal_record(
    *, actor: StaffActor, error: DailyLimitReached, member_id: int | None
) -> None:
    """Keep a refused attempt in the audit log, in its own transaction: the
    write it refused was rolled back."""
    staff_audit_record(
        actor=actor,
        action=AuditAction.LIMIT_REFUSED,
        member_id=member_id,
        details={"limit": error.extra.get("limit"), "field": error.field},
    )


def staff_controls_ensure() -> StaffControls:
    """The one StaffControls row, created with the default limits when it does
    not exist yet. Locks nothing; queues nothing."""
    return singleton_ensure(StaffControls)


def staff_controls_save(
    *, controls: StaffControls, actor: StaffActor | None = None
) -> StaffControls:
    """Save the one StaffControls row (approval threshold, cashier limits,
    anomaly rules) as a Manager edited it: validated, with the audit row of
    `actor`. Locks nothing; queues nothing."""
    return audited_save(obj=controls, actor=actor)
