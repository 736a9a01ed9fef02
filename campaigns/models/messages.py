import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from members.models import Channel


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    # Claimed by a delivery batch, not yet (or not known to be) handed over.
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SUPPRESSED = "suppressed", _("Not sent")


def message_token_new() -> str:
    """The random, unguessable name of a message in its tracking, unsubscribe and
    webhook URLs (always signed on top, see campaigns.messaging.tracking)."""
    return secrets.token_urlsafe(16)


class Message(models.Model):
    """One email or SMS to one member, written before it leaves.

    `key` says what the message is for ("campaign:12", "complaint-reply:7",
    "event-reminder:3"); (member, key) is unique, so a retried or redelivered
    send never reaches a member twice.
    """

    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="messages",
        # The index on (member, key) serves it (tests/house/test_indexes.py).
        db_index=False,
    )
    key = models.CharField(_("purpose key"), max_length=80)
    kind = models.CharField(_("kind"), max_length=40)
    marketing = models.BooleanField(_("marketing"), default=False)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    to = models.CharField(_("to"), max_length=254)
    language = models.CharField(_("language"), max_length=8)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"))
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=MessageStatus.choices,
        default=MessageStatus.QUEUED,
    )
    error = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # Campaigns: which campaign and text this message came from.
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
        # The index on (campaign, status) serves it (tests/house/test_indexes.py).
        db_index=False,
    )
    variant = models.ForeignKey(
        "campaigns.CampaignVariant",
        verbose_name=_("variant"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    # --- delivery (campaigns.messaging.delivery.message_deliver) ---
    token = models.CharField(
        _("token"),
        max_length=32,
        unique=True,
        default=message_token_new,
        editable=False,
    )
    send_after = models.DateTimeField(
        _("not before"),
        null=True,
        blank=True,
        help_text=_("Held back until then (quiet hours, a retry after a failure)."),
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # The delivery batch that claimed it (status sending): after a crash, the
    # first message of a claim still sending is the one that was in flight.
    claim = models.CharField(_("claim"), max_length=32, blank=True, default="")
    provider_id = models.CharField(
        _("provider's id"), max_length=100, blank=True, db_index=True
    )
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    clicked_at = models.DateTimeField(_("clicked at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)
    # The provider's last delivery report for it (Viber: "Delivered", "Read",
    # "Undelivered"...; campaigns.messaging.viber), and the channel that carried
    # it instead when the provider could not deliver it (the SMS fallback).
    provider_status = models.CharField(
        _("provider's report"), max_length=32, blank=True, default="", db_default=""
    )
    fallback_channel = models.CharField(
        _("sent instead by"),
        max_length=8,
        choices=Channel.choices,
        blank=True,
        default="",
        db_default="",
    )

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "key"], name="message_member_key_unique"
            )
        ]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["campaign", "status"]),
            # The sweep of delayed messages (messages_requeue_due).
            models.Index(
                fields=["send_after"],
                condition=models.Q(status="queued"),
                name="message_queued_send_after",
            ),
            # The frequency cap counts a member's recent marketing sends.
            models.Index(
                fields=["member", "sent_at"],
                condition=models.Q(marketing=True),
                name="message_member_marketing_sent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.to}: {self.subject or self.body[:40]}"
