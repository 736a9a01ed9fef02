"""Telegram backends: the development outbox and the Bot API.

What leaves is `telegram_text`: the message's text HTML-escaped (Telegram's
HTML parse mode), its links through click tracking, and a button opening the
first one; a marketing message ends with its opt-out link. Telegram reports no
reads to a bot, so there is no open tracking on this channel: a message is
"opened" only when one of its links is clicked. `telegram_hand_over` calls
whichever backend LOYALTY_TELEGRAM_BACKEND names; a chat that blocked the bot
is unlinked (campaigns.telegram docs: docs/operations.md, "Telegram")."""

from __future__ import annotations

import html
import logging

from django.conf import settings
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext

from campaigns.messaging.tracking import LINK_RE, TRAILING, click_url, unsubscribe_url
from campaigns.telegram.api import TelegramError, telegram_call
from members.models import Channel, ConsentSource

log = logging.getLogger(__name__)


def telegram_text(message) -> tuple[str, dict | None]:
    """The HTML text of a message as Telegram shows it, and its inline
    keyboard (a button to the first link, tracked), or None."""
    parts, last, first = [], 0, None
    body = message.body
    for index, match in enumerate(LINK_RE.finditer(body)):
        url = match.group(0)
        link = url.rstrip(TRAILING)
        tracked = click_url(message.token, index)
        first = first or tracked
        parts.append(html.escape(body[last : match.start()], quote=False))
        parts.append(f'<a href="{html.escape(tracked)}">{html.escape(link)}</a>')
        parts.append(html.escape(url[len(link) :], quote=False))
        last = match.end()
    parts.append(html.escape(body[last:], quote=False))
    text = "".join(parts)
    if message.subject:
        text = f"<b>{html.escape(message.subject, quote=False)}</b>\n\n{text}"
    with translation.override(message.language or settings.LANGUAGE_CODE):
        if message.marketing:
            text += '\n\n<a href="{}">{}</a>'.format(
                html.escape(unsubscribe_url(message.token)),
                html.escape(gettext("Opt out")),
            )
        keyboard = None
        if first:
            keyboard = {"inline_keyboard": [[{"text": gettext("Open"), "url": first}]]}
    return text, keyboard


class OutboxTelegramBackend:
    """Keeps each message as an OutboxEntry (channel telegram), shown with the
    emails and SMS on the Outbox page."""

    def send(self, message) -> str:
        from campaigns.models import OutboxEntry

        text, keyboard = telegram_text(message)
        entry = OutboxEntry.objects.create(
            channel=Channel.TELEGRAM,
            to=message.to,
            subject=message.subject,
            body=message.body,
            html=text,
            headers={"reply_markup": keyboard} if keyboard else {},
            reference=message.token[:100],
        )
        return f"outbox-{entry.pk}"


class BotApiTelegramBackend:
    """sendMessage to the member's chat; the provider id is "<chat>:<message_id>".
    429, 5xx and no answer are transient (tried again); 403 (the member blocked
    the bot) and other 4xx fail the message at once."""

    def send(self, message) -> str:
        text, keyboard = telegram_text(message)
        params = {
            "chat_id": message.to,
            "text": text,
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True},
        }
        if keyboard:
            params["reply_markup"] = keyboard
        result = telegram_call("sendMessage", params) or {}
        return f"{message.to}:{result.get('message_id', '')}"


def telegram_configured() -> bool:
    """Whether the bot is configured: its token is set (the Outbox's rule is
    members.messages.channel_available's)."""
    return bool(settings.TELEGRAM_BOT_TOKEN)


def telegram_hand_over(message) -> str:
    """The Telegram channel's backend (registered from CampaignsConfig.ready()).
    A chat that blocked the bot is unlinked from the member (their Telegram
    consent withdrawn, source unsubscribe) before the failure is recorded."""
    backend = import_string(settings.LOYALTY_TELEGRAM_BACKEND)()
    try:
        return backend.send(message)
    except TelegramError as exc:
        if exc.blocked:
            _blocked(message)
        raise


def _blocked(message) -> None:
    from members.models import Member
    from members.services import telegram_unlink

    member = Member.objects.filter(pk=message.member_id).first()
    if member is not None and member.telegram_chat_id == message.to:
        log.info("member %s blocked the Telegram bot: unlinked", member.pk)
        telegram_unlink(member=member, source=ConsentSource.UNSUBSCRIBE)
