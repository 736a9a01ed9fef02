"""Telegram updates the bot has handled (campaigns.telegram)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TelegramUpdate(models.Model):
    """One update from the Bot API, kept by its update_id so that an update
    delivered twice (a webhook retried, polling restarted) is handled once.
    Rows older than a few days are deleted as new ones come."""

    update_id = models.BigIntegerField(_("update id"), unique=True)
    received_at = models.DateTimeField(
        _("received"), default=timezone.now, db_index=True
    )

    class Meta:
        verbose_name = _("Telegram update")
        verbose_name_plural = _("Telegram updates")

    def __str__(self) -> str:
        return str(self.update_id)
