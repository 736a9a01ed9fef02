"""The staff audit log: who did what to which member. Append-only."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.appendonly import AppendOnlyError, AppendOnlyModel, AppendOnlyQuerySet
from members.models.members import Member


class AuditAction(models.TextChoices):
    MEMBER_VIEWED = "member.viewed", _("Opened a member's data")
    MEMBER_CHANGED = "member.changed", _("Changed a member")
    MEMBER_ENROLLED = "member.enrolled", _("Enrolled a member")
    MEMBER_EXPORTED = "member.exported", _("Downloaded a member's data")
    MEMBER_ANONYMIZED = "member.anonymized", _("Anonymized a member")
    ADJUSTMENT_REQUESTED = "adjustment.requested", _("Requested a points adjustment")
    ADJUSTMENT_APPLIED = "adjustment.applied", _("Adjusted points (no approval needed)")
    ADJUSTMENT_APPROVED = "adjustment.approved", _("Approved a points adjustment")
    ADJUSTMENT_REFUSED = "adjustment.refused", _("Refused a points adjustment")
    PURCHASE_RECORDED = "counter.purchase", _("Recorded a purchase")
    RETURN_RECORDED = "counter.return", _("Recorded a return")
    POINTS_REDEEMED = "counter.redemption", _("Redeemed points")
    VOUCHER_CONSUMED = "counter.voucher", _("Used a voucher")
    LIMIT_REFUSED = "limit.refused", _("Refused by a daily limit")
    EVENT_CHECKIN = "event.checkin", _("Checked a member in at an event")
    COMPLAINT_LOGGED = "complaint.logged", _("Logged a complaint for a member")
    COMPLAINT_REPLIED = "complaint.replied", _("Replied to a complaint")
    COMPLAINT_STATUS = "complaint.status", _("Changed a complaint's status")
    COMPLAINT_ASSIGNED = "complaint.assigned", _("Assigned a complaint")
    CAMPAIGN_SENT = "campaign.sent", _("Sent a campaign")
    CAMPAIGN_SCHEDULED = "campaign.scheduled", _("Scheduled a campaign")
    CAMPAIGN_CANCELLED = "campaign.cancelled", _("Cancelled a campaign")
    # Back-office records (stores, partners, staff users, settings ...): the
    # row's type and id say which.
    RECORD_ADDED = "record.added", _("Added a back-office record")
    RECORD_CHANGED = "record.changed", _("Changed a back-office record")
    RECORD_DELETED = "record.deleted", _("Deleted a back-office record")


AuditAppendOnlyError = AppendOnlyError  # the name the audit code and tests use


class StaffAuditEventQuerySet(AppendOnlyQuerySet):
    """Reads only: bulk update and delete would rewrite history."""


class StaffAuditEvent(AppendOnlyModel):
    """Who did what to which member, and who opened whose data. Append-only.

    Written in the transaction of the action it records, with one INSERT.
    `details` holds ids, amounts and the names of changed fields, never the
    personal data itself, so erasing a member leaves nothing personal here.
    """

    append_only_message = "The audit log is append-only."

    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        # The index on (actor, created_at) serves it (tests/house/test_indexes.py).
        db_index=False,
    )
    action = models.CharField(_("action"), max_length=32, choices=AuditAction.choices)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        # The index on (member, created_at) serves it (tests/house/test_indexes.py).
        db_index=False,
    )
    details = models.JSONField(_("details"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    objects = StaffAuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["member", "-created_at"]),
            models.Index(fields=["actor", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} · {self.object_type} {self.object_id}"
