"""Webhooks out: the endpoints staff register, the outbox of events and the
delivery log (members.services.webhooks writes them; docs/api.md, "Webhooks",
tells the receivers what they get)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from members.models.members import Member


class WebhookEventType(models.TextChoices):
    MEMBER_ENROLLED = "member.enrolled", _("Member enrolled")
    POINTS_EARNED = "points.earned", _("Points earned")
    POINTS_RETURNED = "points.returned", _("Points taken back by a return")
    POINTS_REDEEMED = "points.redeemed", _("Points redeemed")
    VOUCHER_ISSUED = "voucher.issued", _("Voucher issued")
    VOUCHER_CONSUMED = "voucher.consumed", _("Voucher used")
    TIER_CHANGED = "tier.changed", _("Tier changed")
    MEMBERSHIP_STARTED = "membership.started", _("Paid membership started")
    MEMBERSHIP_ENDED = "membership.ended", _("Paid membership ended")
    PROMO_CODE_USED = "promo_code.used", _("Promo code used")


class WebhookEndpoint(models.Model):
    """A URL that gets the events it asked for, signed with its own secret."""

    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # Shown once when the endpoint is made; the receiver verifies with it.
    secret = models.CharField(_("signing secret"), max_length=100, editable=False)
    events = models.JSONField(_("events"), default=list)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ("pk",)

    def __str__(self) -> str:
        return self.url


class WebhookSequence(models.Model):
    """The last event number given to a member: the next event takes the row's
    lock (members.locks.webhook_sequence_next) until its transaction ends, so
    a member's events are numbered in the order they commit."""

    member = models.OneToOneField(
        Member, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("webhook sequence")
        verbose_name_plural = _("webhook sequences")

    def __str__(self) -> str:
        return f"{self.member_id}: {self.last}"


class WebhookEvent(models.Model):
    """One event for the endpoints, written in the transaction of what it tells
    (a rolled-back purchase leaves none). `sequence` counts the member's events
    from 1, without gaps."""

    type = models.CharField(_("type"), max_length=40, choices=WebhookEventType.choices)
    member = models.ForeignKey(
        Member,
        on_delete=models.CASCADE,
        related_name="webhook_events",
        verbose_name=_("member"),
        # The index on (member, sequence) serves it (tests/house/test_indexes.py).
        db_index=False,
    )
    sequence = models.PositiveIntegerField(_("sequence"))
    data = models.JSONField(_("data"), default=dict)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ("-pk",)
        constraints = [
            models.UniqueConstraint(
                fields=["member", "sequence"], name="webhook_event_member_sequence"
            )
        ]

    def __str__(self) -> str:
        return f"evt_{self.pk} {self.type}"

    @property
    def public_id(self) -> str:
        return f"evt_{self.pk}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """The outbox: one event for one endpoint, until it is delivered or given
    up. An endpoint gets a member's events in `sequence` order: the next waits
    while an earlier one is pending."""

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("endpoint"),
        # The index on (endpoint, event) serves it (tests/house/test_indexes.py).
        db_index=False,
    )
    event = models.ForeignKey(
        WebhookEvent,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("event"),
    )
    # The event's, copied so that a member's queue is one index.
    member_id = models.BigIntegerField(_("member id"))
    sequence = models.PositiveIntegerField(_("sequence"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING,
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    # A worker sending it holds it until then; after, the sweeper may take it.
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    give_up_at = models.DateTimeField(_("retried until"))
    last_status_code = models.PositiveIntegerField(
        _("last response code"), null=True, blank=True
    )
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ("-pk",)
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event"], name="webhook_delivery_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["endpoint", "member_id", "sequence"],
                name="webhook_delivery_queue",
                condition=models.Q(status="pending"),
            ),
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due",
                condition=models.Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint}"


class WebhookAttempt(models.Model):
    """One try at a delivery: what the receiver answered, or why it could not."""

    delivery = models.ForeignKey(
        WebhookDelivery,
        on_delete=models.CASCADE,
        related_name="attempt_log",
        verbose_name=_("delivery"),
    )
    number = models.PositiveIntegerField(_("attempt"))
    started_at = models.DateTimeField(_("started"))
    status_code = models.PositiveIntegerField(_("response code"), null=True, blank=True)
    response_excerpt = models.TextField(_("response"), blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ("delivery", "number")

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}"
