"""Erasure: the record of a member anonymized on request."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.formatting import date_format
from members.models.members import Member


class ErasureSource(models.TextChoices):
    PORTAL = "portal", _("The customer, in the portal")
    ADMIN = "admin", _("Staff in admin")


class MemberErasure(models.Model):
    """A member's request to be forgotten, carried out at once (member_anonymize).

    The member row, its ledger, purchases and vouchers stay for the accounts and
    the figures; the personal data on them is blanked and the login disabled.
    """

    member = models.OneToOneField(
        Member,
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="erasure",
    )
    source = models.CharField(
        _("asked by"), max_length=16, choices=ErasureSource.choices
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("anonymized"), default=timezone.now)

    class Meta:
        verbose_name = _("anonymized member")
        verbose_name_plural = _("anonymized members")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.member.card_number} · {date_format(self.created_at)}"
