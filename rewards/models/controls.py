"""Staff controls: the limits on what staff may do with points, and the manual
adjustments that wait for a second Manager.

The models came from the members app and keep their tables (members_*).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rewards.models.reasons import SystemReasonFields


class StaffControls(models.Model):
    """Limits on what staff may do with points: one row, edited by Managers in admin.

    A limit of 0 switches that limit off.
    """

    adjustment_approval_threshold = models.PositiveIntegerField(
        _("adjustment approval threshold"),
        default=500,
        help_text=_(
            "Points (added or taken) one staff member may adjust for one member in "
            "24 hours without approval; an adjustment beyond that waits for another "
            "Manager's approval."
        ),
    )
    cashier_daily_redeemed_points = models.PositiveIntegerField(
        _("points a cashier may redeem per day"),
        default=20000,
        help_text=_(
            "Points one cashier may spend as discounts at the Counter in a day, "
            "all customers together. 0: no limit."
        ),
    )
    cashier_daily_returns = models.PositiveIntegerField(
        _("returns a cashier may record per day"),
        default=20,
        help_text=_(
            "Returns one cashier may record at the Counter in a day. 0: no limit."
        ),
    )
    anomaly_member_daily_transactions = models.PositiveIntegerField(
        _("member transactions a day before a flag"),
        default=20,
        help_text=_(
            "A member with more purchases and redemptions than this in a day is "
            "flagged for review. 0: do not check."
        ),
    )
    anomaly_cashier_daily_operations = models.PositiveIntegerField(
        _("cashier operations a day before a flag"),
        default=200,
        help_text=_(
            "A staff user who records more purchases, returns and redemptions than "
            "this in a day is flagged for review. 0: do not check."
        ),
    )
    anomaly_return_window_days = models.PositiveIntegerField(
        _("days from a redemption to a return"),
        default=7,
        help_text=_(
            "A member who returns a purchase within this many days after redeeming "
            "points or using a voucher is flagged for review. 0: do not check."
        ),
    )
    anomaly_adjustment_points = models.PositiveIntegerField(
        _("manual adjustment size before a flag"),
        default=1000,
        help_text=_(
            "A manual adjustment of more than this many points (added or taken) is "
            "flagged for review. 0: do not check."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        db_table = "members_staffcontrols"
        verbose_name = _("staff controls")
        verbose_name_plural = _("staff controls")
        permissions = [
            ("exempt_daily_limits", _("Is not bound by the cashier daily limits")),
        ]

    def __str__(self) -> str:
        return str(_("Staff controls"))


class AdjustmentStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class AdjustmentRequest(SystemReasonFields):
    """A manual points adjustment asked for by staff.

    While what its requester applied at once to the member in the last 24
    hours, this one included, stays within the approval threshold, it is applied
    at once (approved, with no approver); beyond it, it waits until a Manager
    other than the requester approves or refuses it. Approval posts exactly one ledger entry, linked here.
    """

    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="adjustment_requests",
    )
    points = models.IntegerField(_("points"))
    reason = models.CharField(_("reason"), max_length=255)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=AdjustmentStatus.choices,
        default=AdjustmentStatus.PENDING,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
        # The index on (requested_by, requested_at) serves it (tests/house/test_indexes.py).
        db_index=False,
    )
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.CharField(_("note"), max_length=255, blank=True)
    ledger_entry = models.OneToOneField(
        "rewards.LedgerEntry",
        verbose_name=_("ledger entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="adjustment_request",
    )
    idempotency_key = models.CharField(max_length=80, unique=True)

    class Meta:
        db_table = "members_adjustmentrequest"
        verbose_name = _("points adjustment request")
        verbose_name_plural = _("points adjustment requests")
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-requested_at"]),
            models.Index(fields=["requested_by", "requested_at"]),
        ]
        permissions = [
            ("approve_adjustmentrequest", _("Can approve or refuse adjustments")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(points=0), name="adjustment_points_not_zero"
            ),
            # Approved means posted: the entry and the status commit together.
            models.CheckConstraint(
                condition=~models.Q(status="approved")
                | models.Q(ledger_entry__isnull=False),
                name="adjustment_approved_has_entry",
            ),
            models.CheckConstraint(
                condition=~models.Q(decided_by=models.F("requested_by")),
                name="adjustment_not_self_approved",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.points:+d} · {self.member.card_number}"
