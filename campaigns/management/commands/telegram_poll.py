"""Development: fetch the bot's updates by long polling (getUpdates) instead of
the webhook, and handle each through the one service the webhook calls."""

from __future__ import annotations

import logging
import time

from django.core.management.base import BaseCommand, CommandError

from campaigns.telegram.api import TelegramError, telegram_call, telegram_configured
from campaigns.telegram.bot import telegram_update_handle

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Poll the Telegram Bot API for updates (development; production uses the "
        "webhook). Telegram refuses getUpdates while a webhook is set: this "
        "command deletes it first."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="One getUpdates call, then stop."
        )
        parser.add_argument(
            "--timeout", type=int, default=30, help="Long-polling seconds (30)."
        )

    def handle(self, *args, once: bool, timeout: int, **options):
        if not telegram_configured():
            raise CommandError("Set TELEGRAM_BOT_TOKEN first (docs/operations.md).")
        telegram_call("deleteWebhook", {"drop_pending_updates": False})
        offset = None
        while True:
            params = {
                "timeout": timeout,
                "allowed_updates": ["message", "callback_query"],
            }
            if offset is not None:
                params["offset"] = offset
            try:
                updates = telegram_call("getUpdates", params, timeout=timeout + 10)
            except TelegramError as exc:
                if once or not exc.transient:
                    raise CommandError(str(exc)) from None
                self.stderr.write(f"{exc}; trying again in 5 s")
                time.sleep(5)
                continue
            for update in updates or []:
                offset = max(offset or 0, int(update.get("update_id", 0)) + 1)
                try:
                    telegram_update_handle(update=update)
                except Exception:
                    log.exception("Telegram update %s failed", update.get("update_id"))
            self.stdout.write(f"{len(updates or [])} update(s) handled")
            if once:
                return
