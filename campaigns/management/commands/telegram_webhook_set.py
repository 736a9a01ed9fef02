"""Production: tell Telegram where to POST the bot's updates (setWebhook), with
the secret it must send back in X-Telegram-Bot-Api-Secret-Token."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from campaigns.telegram.api import TelegramError, telegram_call, telegram_configured
from members.links import absolute_url


class Command(BaseCommand):
    help = (
        "Register the site's /telegram/webhook/ as the bot's webhook with "
        "TELEGRAM_WEBHOOK_SECRET, and the bot's command menu."
    )

    def handle(self, *args, **options):
        if not telegram_configured():
            raise CommandError("Set TELEGRAM_BOT_TOKEN first (docs/operations.md).")
        if not settings.TELEGRAM_WEBHOOK_SECRET:
            raise CommandError(
                "Set TELEGRAM_WEBHOOK_SECRET first (docs/operations.md)."
            )
        url = absolute_url(reverse("campaigns:telegram_webhook"))
        if not url.startswith("https://"):
            raise CommandError(f"Telegram calls HTTPS addresses only, not {url}.")
        try:
            telegram_call(
                "setWebhook",
                {
                    "url": url,
                    "secret_token": settings.TELEGRAM_WEBHOOK_SECRET,
                    "allowed_updates": ["message", "callback_query"],
                },
            )
            for language, _name in settings.LANGUAGES:
                with translation.override(language):
                    telegram_call(
                        "setMyCommands",
                        {"commands": _commands(), "language_code": language},
                    )
        except TelegramError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Webhook set: {url}")


def _commands() -> list[dict]:
    """The bot's menu in the active language."""
    return [
        {"command": name, "description": description}
        for name, description in (
            ("balance", _("Your points")),
            ("card", _("Your card to show at the till")),
            ("vouchers", _("Your vouchers")),
            ("rewards", _("The rewards nearest to you")),
            ("offers", _("Offers in this chat: yes or no")),
            ("stop", _("Unlink this chat from your card")),
            ("help", _("What the bot can do")),
        )
    ]
