"""Manual points adjustments under the four-eyes rule.

`adjustment_request` applies an adjustment at or below the approval threshold
at once and keeps a larger one waiting; `adjustment_approve` posts a waiting
one through points_adjust exactly once; `adjustment_refuse` closes it. Every
step writes its audit event in the same transaction as its change.

Locks, in this order: the member's points account (inside points_adjust), then
the request row. A refusal locks the request row only, so the two never
deadlock.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members.audit import StaffActor, staff_audit_write
from members.errors import Conflict, Forbidden, InvalidInput, NotFound
from members.models import (
    AdjustmentRequest,
    AdjustmentStatus,
    AuditAction,
    Member,
)
from members.selectors import staff_controls_get
from rewards.locks import adjustment_request_lock
from rewards.models import LedgerEntry
from rewards.services.ledger import _points, points_adjust

ADJUST_PERMISSION = "rewards.adjust_points"
APPROVE_PERMISSION = "members.approve_adjustmentrequest"
KEY_MAX_LENGTH = 80


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
    reason: str,
    actor: StaffActor,
    idempotency_key: str,
) -> AdjustmentRequest:
    """Ask for a manual adjustment of a member's points.

    At or below StaffControls.adjustment_approval_threshold (in absolute
    points) it is applied at once: points_adjust posts the entry and, in its
    transaction, the request is stored approved (with no approver) and audited.
    Above it, the request is stored pending for a Manager and audited; no
    points move. Idempotent on `idempotency_key`: the same key and details
    return the first request, other details raise Conflict. Locks the account
    (applied at once only); queues nothing.
    """
    if not actor.user.has_perm(ADJUST_PERMISSION):
        raise Forbidden(_("You may not adjust points."), field="points")
    points = _points(points, allow_negative=True)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give a reason for the adjustment."), field="reason")
    key = (idempotency_key or "").strip()
    if not key or len(key) > KEY_MAX_LENGTH:
        raise InvalidInput(_("The form expired; open it again."), field=None)
    existing = AdjustmentRequest.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return _same_or_conflict(existing, member=member, points=points)
    threshold = staff_controls_get().adjustment_approval_threshold
    if abs(points) <= threshold:
        return _adjustment_apply_now(
            member=member, points=points, reason=reason, actor=actor, key=key
        )
    try:
        with transaction.atomic(durable=True):
            adjustment = AdjustmentRequest.objects.create(
                member=member,
                points=points,
                reason=reason[:255],
                requested_by=actor.user,
                idempotency_key=key,
            )
            staff_audit_write(
                actor=actor.user,
                action=AuditAction.ADJUSTMENT_REQUESTED,
                member=member,
                obj=adjustment,
                details={"points": points, "threshold": threshold},
                ip=actor.ip,
            )
    except IntegrityError:
        existing = AdjustmentRequest.objects.filter(idempotency_key=key).first()
        if existing is None:
            raise
        return _same_or_conflict(existing, member=member, points=points)
    return adjustment


def _adjustment_apply_now(
    *, member: Member, points: int, reason: str, actor: StaffActor, key: str
) -> AdjustmentRequest:
    created: list[AdjustmentRequest] = []

    def on_written(entry: LedgerEntry) -> None:
        now = timezone.now()
        adjustment = AdjustmentRequest.objects.create(
            member=member,
            points=points,
            reason=reason[:255],
            status=AdjustmentStatus.APPROVED,
            requested_by=actor.user,
            requested_at=now,
            decided_at=now,
            ledger_entry=entry,
            idempotency_key=key,
        )
        staff_audit_write(
            actor=actor.user,
            action=AuditAction.ADJUSTMENT_APPLIED,
            member=member,
            obj=adjustment,
            details={"points": points, "ledger_entry": entry.pk},
            ip=actor.ip,
        )
        created[:] = [adjustment]

    points_adjust(
        member=member,
        points=points,
        reason=reason,
        created_by=actor.user,
        idempotency_key=key,
        on_written=on_written,
    )
    if created:
        return created[0]
    # A replay: the first call stored the request with its entry.
    return AdjustmentRequest.objects.get(idempotency_key=key)


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
        staff_audit_write(
            actor=actor.user,
            action=AuditAction.ADJUSTMENT_APPROVED,
            member=adjustment.member,
            obj=locked,
            details={"points": locked.points, "ledger_entry": entry.pk},
            ip=actor.ip,
        )
        approved[:] = [locked]

    try:
        points_adjust(
            member=adjustment.member,
            points=adjustment.points,
            reason=adjustment.reason,
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
        staff_audit_write(
            actor=actor.user,
            action=AuditAction.ADJUSTMENT_REFUSED,
            member=adjustment.member,
            obj=locked,
            details={"points": locked.points},
            ip=actor.ip,
        )
    return locked, False
