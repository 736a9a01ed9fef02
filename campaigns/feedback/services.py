"""Writes of the complaints desk: filing, the thread, status, assignment,
goodwill points (surveys: campaigns.feedback.surveys).

Every message to a member leaves through `campaigns.messaging.services.message_send`
(after commit, once per purpose key). Staff actions write a StaffAuditEvent in
the transaction of the change. Goodwill points go through
`rewards.services.adjustment_request`, so the Manager's right to adjust points
and the approval threshold of StaffControls apply to them as to any adjustment.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from campaigns.locks import complaint_lock
from campaigns.messaging.services import message_send
from campaigns.models import (
    OPEN_STATUSES,
    Complaint,
    ComplaintMessage,
    ComplaintSender,
    ComplaintSource,
    ComplaintStatus,
    ComplaintTopic,
)
from campaigns.reasons import COMPLAINT_GOODWILL
from members.audit import StaffActor, staff_audit_record
from members.errors import Conflict, Forbidden, InvalidInput, NotFound
from members.links import absolute_url
from members.models import Member, User
from rewards.models import Purchase
from rewards.reasons import system_reason

BODY_MAX = 4000
GOODWILL_MAX = 100_000

# Audit actions of this area (StaffAuditEvent.action, at most 32 characters).
AUDIT_COMPLAINT_LOGGED = "complaint.logged"
AUDIT_COMPLAINT_REPLIED = "complaint.replied"
AUDIT_COMPLAINT_STATUS = "complaint.status"
AUDIT_COMPLAINT_ASSIGNED = "complaint.assigned"

TRANSITIONS: dict[str, set[str]] = {
    ComplaintStatus.NEW: {
        ComplaintStatus.IN_PROGRESS,
        ComplaintStatus.WAITING,
        ComplaintStatus.RESOLVED,
        ComplaintStatus.CLOSED,
    },
    ComplaintStatus.IN_PROGRESS: {
        ComplaintStatus.WAITING,
        ComplaintStatus.RESOLVED,
        ComplaintStatus.CLOSED,
    },
    ComplaintStatus.WAITING: {
        ComplaintStatus.IN_PROGRESS,
        ComplaintStatus.RESOLVED,
        ComplaintStatus.CLOSED,
    },
    ComplaintStatus.RESOLVED: {ComplaintStatus.IN_PROGRESS, ComplaintStatus.CLOSED},
    ComplaintStatus.CLOSED: set(),
}

WORK_PERMISSION = "campaigns.change_complaint"
LOG_PERMISSION = "campaigns.add_complaint"


# --- complaints: helpers --------------------------------------------------------------


def _body(text: str, *, field: str = "message") -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("Write your message."), field=field)
    if len(text) > BODY_MAX:
        raise InvalidInput(
            _("Keep the message under %(max)s characters.") % {"max": BODY_MAX},
            field=field,
        )
    return text


def _lock(complaint_id: int) -> Complaint:
    found = complaint_lock(complaint_id=complaint_id)
    if found is None:
        raise NotFound(_("No such complaint."), field=None)
    return found


def _require(actor: StaffActor, permission: str) -> None:
    if not actor.user.has_perm(permission):
        raise Forbidden(_("You may not work on complaints."), field=None)


def _touch(complaint: Complaint, *fields: str) -> None:
    complaint.updated_at = timezone.now()
    complaint.save(update_fields=[*fields, "updated_at"])


def _audit(actor: StaffActor, action: str, complaint: Complaint, **details) -> None:
    staff_audit_record(
        actor=actor,
        action=action,
        member_id=complaint.member_id,
        obj=complaint,
        details=details,
    )


# --- complaints: filing and the thread --------------------------------------------------


def complaint_file(
    *,
    member: Member,
    topic: str,
    body: str,
    purchase: Purchase | None = None,
    actor: StaffActor | None = None,
    at: dt.datetime | None = None,
) -> Complaint:
    """Open a complaint with its first message from the customer.

    `at` (default now) is when the customer said it, for imported or demo history.

    From the portal `actor` is None; a cashier logging what a customer said at
    the counter passes themselves (needs campaigns.add_complaint): the source is
    then "counter", the store theirs, and the action is audited. `purchase` must
    be the member's own. One transaction; locks nothing; queues nothing.
    """
    if topic not in ComplaintTopic.values:
        raise InvalidInput(_("Choose a topic."), field="topic")
    body = _body(body)
    if purchase is not None and purchase.member_id != member.pk:
        raise InvalidInput(_("Choose one of your own purchases."), field="purchase")
    if actor is not None:
        _require_log(actor)
    store = purchase.store if purchase is not None else None
    if store is None and actor is not None:
        store = actor.user.store if actor.user.store_id else None
    at = at or timezone.now()
    with transaction.atomic():
        complaint = Complaint.objects.create(
            member=member,
            topic=topic,
            created_at=at,
            updated_at=at,
            purchase=purchase,
            store=store,
            source=ComplaintSource.COUNTER if actor else ComplaintSource.PORTAL,
            created_by=actor.user if actor else None,
        )
        ComplaintMessage.objects.create(
            complaint=complaint,
            sender=ComplaintSender.CUSTOMER,
            author=actor.user if actor else None,
            body=body,
            created_at=at,
        )
        if actor is not None:
            _audit(actor, AUDIT_COMPLAINT_LOGGED, complaint, topic=topic)
    return complaint


def _require_log(actor: StaffActor) -> None:
    if not actor.user.has_perm(LOG_PERMISSION):
        raise Forbidden(_("You may not log complaints."), field=None)


def complaint_customer_reply(
    *, member: Member, complaint_id: int, body: str
) -> ComplaintMessage:
    """The customer answers in the thread of one of their own complaints.

    Another member's complaint is NotFound, a closed one Conflict. A complaint
    waiting for the customer, or resolved, goes back to "in progress". Locks the
    complaint row; queues nothing.
    """
    body = _body(body)
    with transaction.atomic():
        complaint = _lock(complaint_id)
        if complaint.member_id != member.pk:
            raise NotFound(_("No such complaint."), field=None)
        if complaint.status == ComplaintStatus.CLOSED:
            raise Conflict(
                _("This conversation is closed. Write to us again as a new message."),
                field="message",
            )
        message = ComplaintMessage.objects.create(
            complaint=complaint, sender=ComplaintSender.CUSTOMER, body=body
        )
        if complaint.status in (ComplaintStatus.WAITING, ComplaintStatus.RESOLVED):
            complaint.status = ComplaintStatus.IN_PROGRESS
            complaint.resolved_at = None
        _touch(complaint, "status", "resolved_at")
    return message


def _reply_text(complaint: Complaint, body: str) -> tuple[str, str]:
    member = complaint.member
    link = absolute_url(reverse("campaigns:complaint_detail", args=[complaint.pk]))
    with translation.override(member.language):
        subject = _("Our reply to your message #%(id)s") % {"id": complaint.pk}
        text = _("%(reply)s\n\nRead the conversation and answer: %(link)s") % {
            "reply": body,
            "link": link,
        }
    return str(subject), str(text)


def complaint_staff_reply(
    *, complaint_id: int, actor: StaffActor, body: str
) -> ComplaintMessage:
    """Staff answer the customer: the reply is added to the thread and sent to
    the member by email (or SMS when they have no email), exactly once per reply
    (message_send key `complaint-reply:<reply id>`, delivered after commit).

    A new or in-progress complaint becomes "waiting for the customer". Needs
    campaigns.change_complaint. Locks the complaint row; audited.
    """
    _require(actor, WORK_PERMISSION)
    body = _body(body, field="reply")
    with transaction.atomic():
        complaint = _lock(complaint_id)
        if complaint.status == ComplaintStatus.CLOSED:
            raise Conflict(
                _("This complaint is closed; it can no longer be answered."),
                field="reply",
            )
        reply = ComplaintMessage.objects.create(
            complaint=complaint,
            sender=ComplaintSender.STAFF,
            author=actor.user,
            body=body,
        )
        subject, text = _reply_text(complaint, body)
        reply.sent_message = message_send(
            member=complaint.member,
            key=f"complaint-reply:{reply.pk}",
            kind="complaint_reply",
            subject=subject,
            body=text,
            marketing=False,
        )
        reply.save(update_fields=["sent_message"])
        if complaint.status in (ComplaintStatus.NEW, ComplaintStatus.IN_PROGRESS):
            complaint.status = ComplaintStatus.WAITING
        _touch(complaint, "status")
        _audit(
            actor,
            AUDIT_COMPLAINT_REPLIED,
            complaint,
            reply=reply.pk,
            message=reply.sent_message.pk if reply.sent_message else None,
        )
    return reply


# --- complaints: the queue ---------------------------------------------------------------


def complaint_status_set(
    *, complaint_id: int, actor: StaffActor, status: str
) -> Complaint:
    """Move a complaint along: new → in progress / waiting → resolved → closed
    (a resolved one may be reopened; a closed one stays closed). Setting the
    status it has is a no-op. Needs campaigns.change_complaint. Locks the
    complaint row; audited. Resolving with goodwill points: complaint_resolve.
    """
    _require(actor, WORK_PERMISSION)
    if status not in ComplaintStatus.values:
        raise InvalidInput(_("Choose a status."), field="status")
    with transaction.atomic():
        complaint = _lock(complaint_id)
        before = complaint.status
        if before == status:
            return complaint
        if status not in TRANSITIONS[before]:
            raise Conflict(
                _("A complaint that is “%(before)s” cannot become “%(after)s”.")
                % {
                    "before": ComplaintStatus(before).label,
                    "after": ComplaintStatus(status).label,
                },
                field="status",
            )
        complaint.status = status
        if status == ComplaintStatus.RESOLVED:
            complaint.resolved_at = timezone.now()
        elif status in OPEN_STATUSES:
            complaint.resolved_at = None
        _touch(complaint, "status", "resolved_at")
        _audit(actor, AUDIT_COMPLAINT_STATUS, complaint, before=before, after=status)
    return complaint


def complaint_resolve(
    *, complaint_id: int, actor: StaffActor, goodwill_points: int = 0
) -> Complaint:
    """Resolve a complaint, granting `goodwill_points` at most once per complaint.

    The points go through adjustment_request with the key
    `complaint-goodwill:<id>` and the reason "Goodwill for complaint #<id>": at
    or below StaffControls' approval threshold they are posted at once, above it
    they wait for another Manager; without rewards.adjust_points it is refused
    (Forbidden) and nothing changes. A complaint that already had goodwill gets
    none again (resolving twice grants once). The adjustment's own durable
    transaction runs first (it locks the account); then, in a second one, the
    complaint row is locked, linked to it and resolved (audited). A failure
    between the two is mended by running it again: the key replays.
    """
    _require(actor, WORK_PERMISSION)
    try:
        points = int(goodwill_points or 0)
    except (TypeError, ValueError):
        points = -1
    if not 0 <= points <= GOODWILL_MAX:
        raise InvalidInput(
            _("Goodwill points must be a whole number from 0 to %(max)s.")
            % {"max": GOODWILL_MAX},
            field="goodwill_points",
        )
    complaint = (
        Complaint.objects.select_related("member").filter(pk=complaint_id).first()
    )
    if complaint is None:
        raise NotFound(_("No such complaint."), field=None)
    if complaint.status == ComplaintStatus.CLOSED:
        raise Conflict(
            _("This complaint is closed; it cannot be resolved again."),
            field="status",
        )
    adjustment = None
    if points and complaint.goodwill_adjustment_id is None:
        from rewards.services import adjustment_request

        reason = system_reason(COMPLAINT_GOODWILL, complaint=complaint.pk)
        adjustment = adjustment_request(
            member=complaint.member,
            points=points,
            reason=reason,
            actor=actor,
            idempotency_key=f"complaint-goodwill:{complaint.pk}",
        )
    with transaction.atomic():
        complaint = _lock(complaint_id)
        before = complaint.status
        fields = []
        if adjustment is not None and complaint.goodwill_adjustment_id is None:
            complaint.goodwill_adjustment = adjustment
            complaint.goodwill_points = adjustment.points
            fields += ["goodwill_adjustment", "goodwill_points"]
        if before != ComplaintStatus.RESOLVED:
            if ComplaintStatus.RESOLVED not in TRANSITIONS[before]:
                raise Conflict(
                    _("This complaint is closed; it cannot be resolved again."),
                    field="status",
                )
            complaint.status = ComplaintStatus.RESOLVED
            complaint.resolved_at = timezone.now()
            fields += ["status", "resolved_at"]
        if not fields:
            return complaint
        _touch(complaint, *fields)
        _audit(
            actor,
            AUDIT_COMPLAINT_STATUS,
            complaint,
            before=before,
            after=ComplaintStatus.RESOLVED,
            goodwill_points=complaint.goodwill_points,
            adjustment=complaint.goodwill_adjustment_id,
        )
    return complaint


def complaint_assign(
    *, complaint_id: int, actor: StaffActor, assignee: User | None
) -> Complaint:
    """Give a complaint to a staff user (or to nobody). Needs
    campaigns.change_complaint; the assignee must be active staff allowed to
    work complaints. Locks the complaint row; audited; a no-op when unchanged.
    """
    _require(actor, WORK_PERMISSION)
    if assignee is not None and not (
        assignee.is_active and assignee.is_staff and assignee.has_perm(WORK_PERMISSION)
    ):
        raise InvalidInput(
            _("%(user)s may not work on complaints.") % {"user": assignee},
            field="assignee",
        )
    with transaction.atomic():
        complaint = _lock(complaint_id)
        if complaint.assignee_id == (assignee.pk if assignee else None):
            return complaint
        before = complaint.assignee_id
        complaint.assignee = assignee
        if complaint.status == ComplaintStatus.NEW and assignee is not None:
            complaint.status = ComplaintStatus.IN_PROGRESS
        _touch(complaint, "assignee", "status")
        _audit(
            actor,
            AUDIT_COMPLAINT_ASSIGNED,
            complaint,
            before=before,
            after=assignee.pk if assignee else None,
        )
    return complaint
