"""Why members leave, asked: the staff-edited list of reasons (translated) and
the answers (members.services.churn.leave_reason_record).

A member is asked, optionally and without blocking anything, when they delete
their account, unsubscribe from every channel, cancel the paid membership, and
in the win-back journey (a link in the message). One answer per occasion: the
member, the trigger and the occasion's key (the erasure, the message, the
subscription, the lapse) are unique together, so a second tap changes the
answer instead of adding one."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models.members import Member
from members.models.stores import Store


class LeaveReason(models.Model):
    """One choice of the question "Why are you leaving?". Staff edit the list
    (texts in every language); a reason that was answered is switched off,
    never deleted, so old answers keep their meaning."""

    code = models.SlugField(
        _("code"),
        max_length=40,
        unique=True,
        help_text=_("Fixed name used in exports and links; letters, digits, “-”."),
    )
    name = models.CharField(_("text shown to members"), max_length=120)
    asks_text = models.BooleanField(
        _("asks for a text"),
        default=False,
        help_text=_("Show a box for the member's own words (for “Other”)."),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=100)
    active = models.BooleanField(_("offered"), default=True)

    class Meta:
        verbose_name = _("leaving reason")
        verbose_name_plural = _("leaving reasons")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name


class LeaveTrigger(models.TextChoices):
    DELETED = "deleted", _("Deleted the account")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed from every channel")
    MEMBERSHIP_CANCELLED = "membership_cancelled", _("Cancelled the membership")
    WIN_BACK = "win_back", _("Answered the win-back message")


class LeaveAnswer(models.Model):
    """A member's answer. The store is the member's home store when they
    answered (the figures by store stay put when the member moves). When the
    member is erased, the answer stays with the anonymous member row and its
    text is blanked (members.privacy, erasure part 160)."""

    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="leave_answers",
        # The index on (member, trigger, key) serves it (tests/house/test_indexes.py).
        db_index=False,
    )
    trigger = models.CharField(
        _("when asked"), max_length=24, choices=LeaveTrigger.choices
    )
    key = models.CharField(_("occasion"), max_length=80)
    reason = models.ForeignKey(
        LeaveReason,
        verbose_name=_("reason"),
        on_delete=models.PROTECT,
        related_name="answers",
    )
    text = models.TextField(_("in their words"), blank=True, max_length=1000)
    store = models.ForeignKey(
        Store,
        verbose_name=_("store"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    answered_at = models.DateTimeField(
        _("answered"), default=timezone.now, db_index=True
    )

    class Meta:
        verbose_name = _("leaving answer")
        verbose_name_plural = _("leaving answers")
        ordering = ["-answered_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "trigger", "key"],
                name="leave_answer_one_per_occasion",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_trigger_display()}: {self.reason}"
