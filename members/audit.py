"""The staff audit log: who did what to which member, and who opened whose data.

`staff_audit_write` is the one writer. Callers run it inside the transaction of
the action it records, so the row commits or rolls back with the action; it is
a single INSERT, cheap enough for every page a member's data is shown on.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from django.db import models

from members.models import AuditAction, Member, StaffAuditEvent, User


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


def member_viewed_record(*, actor: StaffActor, member: Member, where: str) -> None:
    """Record that a staff user opened a member's data (`where`: the page)."""
    staff_audit_write(
        actor=actor.user,
        action=AuditAction.MEMBER_VIEWED,
        member=member,
        obj=member,
        details={"page": where},
        ip=actor.ip,
    )
