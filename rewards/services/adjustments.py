"""Manual points adjustments under the four-eyes rule.

`adjustment_request` applies an adjustment at once while what the staff member
applied to the member in the last 24 hours stays within the approval threshold,
and keeps the rest waiting; `adjustment_approve` posts a waiting
one through points_adjust exactly once; `adjustment_refuse` closes it. Every
step writes its audit event in the same transaction as its change.

Locks, in the order of rewards/locks.py: a request locks the member, then the
account when applied at once; an approval the account (inside points_adjust),
then the request row. A refusal locks the request row only, so none deadlock.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Sum
from django.db.models.functions import Abs
from django.utils import timezone
from django.utils.translation import gettext as _

from members.audit import StaffActor, staff_audit_record
from members.errors import Conflict, Forbidden, InvalidInput, NotFound
from members.locks import member_lock
from members.models import AuditAction, Member
from rewards.locks import account_lock, adjustment_request_lock
from rewards.models import AdjustmentRequest, AdjustmentStatus, LedgerEntry
from rewards.reasons import SystemReason, reason_split
from rewards.selectors.controls import staff_controls_get
from rewards.services.idempotency import idempotent_write
from rewards.services.inputs import points_clean
from rewards.services.ledger import points_adjust, points_adjust_post

ADJUST_PERMISSION = "rewards.adjust_points"
APPROVE_PERMISSION = "rewards.approve_adjustmentrequest"
KEY_MAX_LENGTH = 80
# What one staff member applies to one member without approval is summed over
# this rolling window (see adjustment_request).
APPROVAL_WINDOW = dt.timedelta(hours=24)


class _AlreadyDecided(Exception):
    """Raised inside points_adjust's transaction to roll the entry back."""

    def __init__(self, adjustment: AdjustmentRequest) -> None:
        super().__init__(adjustment.status)
        self.adjustment = adjustment


def _same_or_conflict(
    existing: AdjustmentRequest, *, member: Member, points: int
) -> AdjustmentRequest:
    if existing.member_id != member.pk or existing.points != points:
        raise Conflict(
            _("This adjustment was already made with other details."), field="points"
        )
    return existing


def adjustment_request(
    *,
    member: Member,
    points: int,
    reason: str | SystemReason,
    actor: StaffActor,
    idempotency_key: str,
) -> AdjustmentRequest:
    """Ask for a manual adjustment of a member's points.

    What one staff member applies to one member without a second pair of eyes
    is bounded by StaffControls.adjustment_approval_threshold over a rolling
    APPROVAL_WINDOW: while the absolute points of this request plus those of
    the actor's adjustments to this member applied at once in the window stay
    within it, the request is applied at once (points_adjust_post posts the
    entry; the request is stored approved, with no approver, and audited).
    Otherwise it is stored pending for a Manager and audited; no points move.
    Pending, refused and Manager-approved requests do not count: a Manager
    reviews each of them, so splitting gains nothing. Idempotent on
    `idempotency_key`: the same key and details return the first request,
    other details raise Conflict. `reason` is what the staff member typed, or a
    system_reason when the system asks on their behalf (complaint goodwill).

    Locks the member (members.locks), so the window is summed and the request
    written by one writer at a time, then the account when applied at once.
    Queues nothing.
    """
    if not actor.user.has_perm(ADJUST_PERMISSION):
        raise Forbidden(_("You may not adjust points."), field="points")
    points = points_clean(points, allow_negative=True)
    reason = (reason or "").strip()  # a SystemReason strips to itself
    if not reason:
        raise InvalidInput(_("Give a reason for the adjustment."), field="reason")
    code, params, text = reason_split(reason)
    key = (idempotency_key or "").strip()
    if not key or len(key) > KEY_MAX_LENGTH:
        raise InvalidInput(_("The form expired; open it again."), field=None)

    def lookup() -> AdjustmentRequest | None:
        return AdjustmentRequest.objects.filter(idempotency_key=key).first()

    def replay(existing: AdjustmentRequest) -> tuple[AdjustmentRequest, bool]:
        return _same_or_conflict(existing, member=member, points=points), True

    def work() -> tuple[AdjustmentRequest, bool]:
        member_lock(member_id=member.pk)
        existing = lookup()
        if existing is not None:
            return replay(existing)
        threshold = staff_controls_get().adjustment_approval_threshold
        now = timezone.now()
        applied = adjustment_applied_at_once_sum(
            member=member, user=actor.user, since=now - APPROVAL_WINDOW
        )
        if applied + abs(points) <= threshold:
            entry = points_adjust_post(
                account=account_lock(member_id=member.pk),
                points=points,
                reason=reason,
                created_by=actor.user,
                idempotency_key=key,
            )
            adjustment = AdjustmentRequest.objects.create(
                member=member,
                points=points,
                reason=text,
                reason_code=code,
                reason_params=params,
                status=AdjustmentStatus.APPROVED,
                requested_by=actor.user,
                requested_at=now,
                decided_at=now,
                ledger_entry=entry,
                idempotency_key=key,
            )
            action = AuditAction.ADJUSTMENT_APPLIED
            details = {"points": points, "ledger_entry": entry.pk}
        else:
            adjustment = AdjustmentRequest.objects.create(
                member=member,
                points=points,
                reason=text,
                reason_code=code,
                reason_params=params,
                requested_by=actor.user,
                requested_at=now,
                idempotency_key=key,
            )
            action = AuditAction.ADJUSTMENT_REQUESTED
            details = {
                "points": points,
                "threshold": threshold,
                "applied_in_window": applied,
            }
        staff_audit_record(
            actor=actor,
            action=action,
            member=member,
            obj=adjustment,
            details=details,
        )
        return adjustment, False

    adjustment, _replayed = idempotent_write(work, lookup, replay)
    return adjustment


def adjustment_applied_at_once_sum(*, member: Member, user, since: dt.datetime) -> int:
    """Absolute points of `user`'s adjustments to `member` applied without an
    approver since `since`: what the approval threshold bounds. Exact only
    under the member's lock (adjustment_request takes it)."""
    return (
        AdjustmentRequest.objects.filter(
            member=member,
            requested_by=user,
            status=AdjustmentStatus.APPROVED,
            decided_by__isnull=True,
            requested_at__gte=since,
        ).aggregate(total=Sum(Abs("points")))["total"]
        or 0
    )


def _decider_check(adjustment: AdjustmentRequest, actor: StaffActor) -> None:
    if not actor.user.has_perm(APPROVE_PERMISSION):
        raise Forbidden(
            _("Only a Manager may approve or refuse adjustments."), field="status"
        )
    if adjustment.requested_by_id == actor.user.pk:
        raise Forbidden(
            _("You asked for this adjustment; another Manager must decide on it."),
            field="status",
        )


def _get(adjustment_id: int) -> AdjustmentRequest:
    found = (
        AdjustmentRequest.objects.select_related("member", "requested_by")
        .filter(pk=adjustment_id)
        .first()
    )
    if found is None:
        raise NotFound(_("No such adjustment request."), field="adjustment")
    return found


def adjustment_approve(
    *, adjustment_id: int, actor: StaffActor
) -> tuple[AdjustmentRequest, bool]:
    """Approve a waiting adjustment: its points are posted once. Returns
    (request, replayed); a second approval, even a concurrent one, posts nothing.

    Refused when the actor lacks the approve right or asked for it themselves
    (Forbidden), or when it was refused (Conflict). A deduction that would now
    overdraw is refused by points_adjust and the request stays pending.
    points_adjust locks the account; inside its transaction the request row is
    locked, its status checked, set approved with the entry, and audited. A
    concurrent second approval waits on the account lock and then replays from
    the ledger entry's idempotency key (the request's own key).
    """
    adjustment = _get(adjustment_id)
    _decider_check(adjustment, actor)
    if adjustment.status == AdjustmentStatus.APPROVED:
        return adjustment, True
    if adjustment.status == AdjustmentStatus.REFUSED:
        raise Conflict(
            _("This adjustment was refused; it cannot be approved."), field="status"
        )
    approved: list[AdjustmentRequest] = []

    def on_written(entry: LedgerEntry) -> None:
        locked = adjustment_request_lock(adjustment_id=adjustment.pk)
        if locked.status != AdjustmentStatus.PENDING:
            raise _AlreadyDecided(locked)
        locked.status = AdjustmentStatus.APPROVED
        locked.decided_by = actor.user
        locked.decided_at = timezone.now()
        locked.ledger_entry = entry
        locked.save(
            update_fields=["status", "decided_by", "decided_at", "ledger_entry"]
        )
        staff_audit_record(
            actor=actor,
            action=AuditAction.ADJUSTMENT_APPROVED,
            member=adjustment.member,
            obj=locked,
            details={"points": locked.points, "ledger_entry": entry.pk},
        )
        approved[:] = [locked]

    try:
        points_adjust(
            member=adjustment.member,
            points=adjustment.points,
            reason=(
                SystemReason(adjustment.reason_code, adjustment.reason_params)
                if adjustment.reason_code
                else adjustment.reason
            ),
            created_by=adjustment.requested_by,
            idempotency_key=adjustment.idempotency_key,
            on_written=on_written,
        )
    except _AlreadyDecided as decided:
        if decided.adjustment.status == AdjustmentStatus.APPROVED:
            return decided.adjustment, True
        raise Conflict(
            _("This adjustment was refused; it cannot be approved."), field="status"
        ) from None
    if approved:
        approved[0].member = adjustment.member
        return approved[0], False
    return _get(adjustment.pk), True


def adjustment_refuse(
    *, adjustment_id: int, actor: StaffActor, note: str = ""
) -> tuple[AdjustmentRequest, bool]:
    """Refuse a waiting adjustment; no points move. Returns (request, replayed).

    Same rights as approving. Locks the request row only; an approved one
    cannot be refused (Conflict: correct it with a new adjustment).
    """
    adjustment = _get(adjustment_id)
    _decider_check(adjustment, actor)
    with transaction.atomic(durable=True):
        locked = adjustment_request_lock(adjustment_id=adjustment.pk)
        if locked.status == AdjustmentStatus.REFUSED:
            return locked, True
        if locked.status == AdjustmentStatus.APPROVED:
            raise Conflict(
                _(
                    "This adjustment was approved already; correct it with a new "
                    "adjustment."
                ),
                field="status",
            )
        locked.status = AdjustmentStatus.REFUSED
        locked.decided_by = actor.user
        locked.decided_at = timezone.now()
        locked.decision_note = (note or "").strip()[:255]
        locked.save(
            update_fields=["status", "decided_by", "decided_at", "decision_note"]
        )
        staff_audit_record(
            actor=actor,
            action=AuditAction.ADJUSTMENT_REFUSED,
            member=adjustment.member,
            obj=locked,
            details={"points": locked.points},
        )
    return locked, False
