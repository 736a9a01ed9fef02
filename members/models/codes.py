"""Secrets: one-time codes that prove a phone or address, and the tills' API tokens."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models.members import Channel, Member
from members.models.stores import Store


class OneTimeCode(models.Model):
    """A short code sent by SMS or email to prove a phone or an address, or
    shown on the portal for the member to give the Telegram bot (purpose
    telegram: it links the chat that brings it; members.services.telegram).

    Only a hash of the code is stored. Codes expire and allow a few attempts.
    A member has at most one unused code: a new one voids (uses up) the others.
    """

    class Purpose(models.TextChoices):
        CLAIM = "claim", _("Claim a membership")
        TELEGRAM = "telegram", _("Link Telegram")

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="codes"
    )
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    destination = models.CharField(_("sent to"), max_length=254)
    code_hash = models.CharField(max_length=128)
    payload = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")
        constraints = [
            # A new code voids the earlier ones (members.services.otp_send).
            models.UniqueConstraint(
                fields=["member"],
                condition=models.Q(used_at__isnull=True),
                name="one_time_code_one_unused_per_member",
            )
        ]

    def __str__(self) -> str:
        return f"{self.purpose} → {self.destination}"


class ApiToken(models.Model):
    """A till's credential for the POS API. Only the SHA-256 of the token is kept."""

    store = models.ForeignKey(
        Store,
        verbose_name=_("store"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    name = models.CharField(_("name"), max_length=80, help_text=_("e.g. Till 2"))
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("starts with"), max_length=8, editable=False)
    created_at = models.DateTimeField(
        _("created"), default=timezone.now, editable=False
    )
    last_used_at = models.DateTimeField(
        _("last used"), null=True, blank=True, editable=False
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["store__code", "name"]

    def __str__(self) -> str:
        return f"{self.store.code} · {self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
