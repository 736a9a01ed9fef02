"""The staff audit log: who did what to which member, and who opened whose data.

`staff_audit_write` is the one writer. The service that does a staff action
takes `actor: StaffActor | None` and writes the row itself (`staff_audit_record`)
inside its transaction, so the row commits or rolls back with the action; it is
a single INSERT, cheap enough for every page a member's data is shown on.
Without an actor (seed data, scripts, the system) a service writes no row.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TypeVar

from django.db import models, transaction

from members.models import AuditAction, Member, StaffAuditEvent, User

ModelT = TypeVar("ModelT", bound=models.Model)


def request_ip(request) -> str | None:
    """The client address as the application server saw it (REMOTE_ADDR).

    Behind a reverse proxy this is the proxy unless it sets REMOTE_ADDR itself
    (gunicorn's --forwarded-allow-ips); we do not trust X-Forwarded-For here.
    """
    raw = (request.META.get("REMOTE_ADDR") or "").strip()
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


@dataclass(frozen=True)
class StaffActor:
    """Who acts and from where, passed from a view or admin page to the services."""

    user: User
    ip: str | None = None

    @classmethod
    def from_request(cls, request) -> StaffActor:
        return cls(user=request.user, ip=request_ip(request))


def staff_audit_write(
    *,
    actor: User | None,
    action: str,
    member: Member | None = None,
    member_id: int | None = None,
    obj: models.Model | None = None,
    details: dict | None = None,
    ip: str | None = None,
) -> StaffAuditEvent:
    """Append one audit event (one INSERT). Call it inside the action's transaction.

    `details` should hold ids, amounts and field names, never personal data.
    Locks nothing, queues nothing.
    """
    return StaffAuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        member_id=member.pk if member is not None else member_id,
        details=details or {},
        ip=ip,
    )


def staff_audit_record(
    *,
    actor: StaffActor | None,
    action: str,
    obj: models.Model | None = None,
    member: Member | None = None,
    member_id: int | None = None,
    details: dict | None = None,
) -> StaffAuditEvent | None:
    """The audit row of a staff action, written by the service that does it
    (inside its transaction); nothing when `actor` is None (not a staff action).
    Locks nothing, queues nothing."""
    if actor is None:
        return None
    return staff_audit_write(
        actor=actor.user,
        action=action,
        member=member,
        member_id=member_id,
        obj=obj,
        details=details,
        ip=actor.ip,
    )


def fields_changed(obj: models.Model) -> list[str] | None:
    """The names of `obj`'s fields whose value differs from its stored row;
    None for a new row. One SELECT; call it before saving. Names only: the
    audit log keeps no values."""
    if obj._state.adding or obj.pk is None:
        return None
    stored = type(obj)._base_manager.filter(pk=obj.pk).first()
    if stored is None:
        return None
    return sorted(
        field.name
        for field in obj._meta.concrete_fields
        if field.value_from_object(obj) != field.value_from_object(stored)
    )


def audited_save(
    *, obj: ModelT, actor: StaffActor | None, clean: bool = True
) -> ModelT:
    """Save a back-office row (stores, partners, settings ...) for the named
    service that owns it: validated (unless `clean` is False), saved, and for
    staff one audit row in the same transaction: added, or changed with the
    names of the fields that changed. Locks nothing; queues nothing."""
    changed = fields_changed(obj)
    if clean:
        obj.full_clean()
    with transaction.atomic():
        obj.save()
        if changed is None:
            staff_audit_record(actor=actor, action=AuditAction.RECORD_ADDED, obj=obj)
        else:
            staff_audit_record(
                actor=actor,
                action=AuditAction.RECORD_CHANGED,
                obj=obj,
                details={"fields": changed},
            )
    return obj


def audited_delete(*, obj: models.Model, actor: StaffActor | None) -> None:
    """Delete a back-office row for the named service that owns it, with the
    audit row written first (while the row has its id) in the same
    transaction; a protected reference (ProtectedError) undoes both."""
    with transaction.atomic():
        staff_audit_record(actor=actor, action=AuditAction.RECORD_DELETED, obj=obj)
        obj.delete()


def member_viewed_record(*, actor: StaffActor, member: Member, where: str) -> None:
    """Record that a staff user opened a member's data (`where`: the page)."""
    staff_audit_record(
        actor=actor,
        action=AuditAction.MEMBER_VIEWED,
        member=member,
        obj=member,
        details={"page": where},
    )
