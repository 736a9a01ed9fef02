"""How messages leave: the delivery settings row and the development outbox."""

from __future__ import annotations

import datetime as dt

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import Channel


class DeliverySettings(models.Model):
    """Limits every marketing message obeys at send time: one row, edited by
    Managers and Marketers in admin, read by
    campaigns.messaging.services.delivery_settings_get."""

    frequency_cap = models.PositiveSmallIntegerField(
        _("marketing messages per member per 7 days"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_(
            "A marketing message over this number in the last 7 days is not sent "
            "(the reason is kept on the message). Service messages do not count."
        ),
    )
    quiet_start = models.TimeField(
        _("quiet hours start"),
        default=dt.time(21, 0),
        help_text=_("No marketing SMS from this time in the member's time zone..."),
    )
    quiet_end = models.TimeField(
        _("quiet hours end"),
        default=dt.time(9, 0),
        help_text=_("...until this time; the SMS waits and leaves then."),
    )
    max_attempts = models.PositiveSmallIntegerField(
        _("attempts before a message fails"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text=_(
            "A gateway or mail server that is down or times out is tried again "
            "later, this many times in all."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("delivery settings")
        verbose_name_plural = _("delivery settings")

    def __str__(self) -> str:
        return str(_("Delivery settings"))


class OutboxEntry(models.Model):
    """An email or SMS that a development backend kept instead of sending it
    (`make run`): the Outbox page in admin shows exactly what would have left."""

    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    to = models.CharField(_("to"), max_length=500)
    from_address = models.CharField(_("from"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("text"))
    html = models.TextField(_("HTML version"), blank=True)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    reference = models.CharField(
        _("message token"), max_length=100, blank=True, db_index=True
    )
    created_at = models.DateTimeField(_("kept at"), default=timezone.now)

    class Meta:
        verbose_name = _("outbox entry")
        verbose_name_plural = _("outbox")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.to}: {self.subject or self.body[:40]}"
