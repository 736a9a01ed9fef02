"""Anomaly monitoring: members and staff users whose activity on a day broke a rule.

The model came from the members app and keeps its table (members_anomalyflag).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AnomalySubject(models.TextChoices):
    MEMBER = "member", _("Member")
    CASHIER = "cashier", _("Staff user")


class AnomalyRule(models.TextChoices):
    # Many transactions is one rule for both subjects: a member's purchases and
    # redemptions, or the operations a staff user recorded.
    MANY_TRANSACTIONS = "many_transactions", _("Many transactions in a day")
    REDEEM_THEN_RETURN = "redeem_then_return", _("Redemption followed by a return")
    LARGE_ADJUSTMENT = "large_adjustment", _("Large manual adjustment")


class AnomalyStatus(models.TextChoices):
    OPEN = "open", _("Waiting for review")
    DISMISSED = "dismissed", _("Dismissed")
    CONFIRMED = "confirmed", _("Confirmed")


class AnomalyFlag(models.Model):
    """A member or a staff user whose activity on a day broke an anomaly rule.

    Written by rewards.services.anomalies.anomalies_scan, once per (rule, subject, day):
    the conditional unique constraints make a rerun flag nothing twice (a plain
    unique over nullable columns would not, NULLs being distinct). Managers
    dismiss or confirm flags in admin; `details` holds counts, amounts and ids.
    """

    subject_kind = models.CharField(
        _("subject"), max_length=16, choices=AnomalySubject.choices
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="anomaly_flags",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff user"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="anomaly_flags",
    )
    rule = models.CharField(_("rule"), max_length=32, choices=AnomalyRule.choices)
    day = models.DateField(_("day"))
    details = models.JSONField(_("details"), default=dict, blank=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=AnomalyStatus.choices,
        default=AnomalyStatus.OPEN,
    )
    created_at = models.DateTimeField(_("flagged"), default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        db_table = "members_anomalyflag"
        verbose_name = _("anomaly flag")
        verbose_name_plural = _("anomaly flags")
        ordering = ["-day", "-id"]
        indexes = [models.Index(fields=["status", "-day"])]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "member", "day"],
                condition=models.Q(subject_kind="member"),
                name="anomaly_member_once_a_day",
            ),
            models.UniqueConstraint(
                fields=["rule", "user", "day"],
                condition=models.Q(subject_kind="cashier"),
                name="anomaly_user_once_a_day",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(
                        subject_kind="member",
                        member__isnull=False,
                        user__isnull=True,
                    )
                    | models.Q(
                        subject_kind="cashier",
                        member__isnull=True,
                        user__isnull=False,
                    )
                ),
                name="anomaly_subject_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_rule_display()} · {self.subject_label} · {self.day}"

    @property
    def subject_label(self) -> str:
        if self.subject_kind == AnomalySubject.MEMBER:
            return self.member.card_number if self.member_id else "-"
        return self.user.username if self.user_id else "-"
