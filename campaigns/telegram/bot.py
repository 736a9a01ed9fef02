"""The Telegram bot: every update, from the webhook (campaigns.telegram.views)
or from polling (`manage.py telegram_poll`), goes through
`telegram_update_handle`, once per update_id.

Commands: /start <code> links the chat to the member whose portal showed the
code (members.services.telegram), then asks whether offers may come here (a
yes/no button: Telegram consent, its history kept, source "Telegram bot");
/balance, /card (the card's QR as a photo), /vouchers, /rewards (the nearest
ones), /offers, /stop (unlink), /help. Answers are in the member's language
(a stranger's: their Telegram app's, when the site has it)."""

from __future__ import annotations

import base64
import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from campaigns.models import TelegramUpdate
from campaigns.queueing import task_queue
from campaigns.telegram import replies
from campaigns.telegram.api import TelegramError, telegram_call
from members.errors import ServiceError
from members.models import Channel, ConsentSource, Member
from members.selectors import member_get_by_telegram_chat
from members.services import (
    member_consent_set,
    telegram_link,
    telegram_unlink,
)

log = logging.getLogger(__name__)

# Telegram retries a webhook call for about a day; polling may repeat the last
# batch after a restart. Kept longer than either, then deleted.
UPDATES_KEPT = dt.timedelta(days=3)


ANSWERS_TASK = "campaigns.tasks.telegram_answers_send"


@dataclass
class Reply:
    """One Bot API call the bot makes in answer, after its update committed.
    `files`: {field: (file name, content type, bytes)}."""

    method: str
    params: dict
    files: dict | None = field(default=None)

    def to_json(self) -> dict:
        """The reply as a Celery task's (JSON) argument."""
        files = {
            name: [filename, kind, base64.b64encode(content).decode()]
            for name, (filename, kind, content) in (self.files or {}).items()
        }
        return {"method": self.method, "params": self.params, "files": files}

    @classmethod
    def from_json(cls, data: dict) -> Reply:
        files = {
            name: (filename, kind, base64.b64decode(content))
            for name, (filename, kind, content) in (data.get("files") or {}).items()
        }
        return cls(data["method"], data["params"], files or None)


def telegram_update_handle(*, update: dict, queue: bool = False) -> list[Reply] | None:
    """Handle one Bot API update once: None when its update_id was handled
    already (or it has none). In one transaction: records the update_id
    (unique) and makes the changes its command asks (linking, consent). The
    answers leave after the commit: with `queue` (the webhook, which must
    answer Telegram at once) as one Celery task on the campaigns queue
    (telegram_answers_send), else sent here (polling). Locks what the member
    services it calls lock. Returns the answers."""
    update_id = update.get("update_id") if isinstance(update, dict) else None
    if not isinstance(update_id, int):
        return None
    now = timezone.now()
    try:
        with transaction.atomic():
            TelegramUpdate.objects.create(update_id=update_id, received_at=now)
            answers = _dispatch(update)
    except IntegrityError:
        return None
    if update_id % 100 == 0:
        TelegramUpdate.objects.filter(received_at__lt=now - UPDATES_KEPT).delete()
    if queue and answers:
        payload = [reply.to_json() for reply in answers]
        transaction.on_commit(lambda: task_queue(ANSWERS_TASK, payload))
    elif answers:
        telegram_answers_send(answers)
    return answers


def telegram_answers_send(answers: list[Reply]) -> int:
    """Make the bot's answers' Bot API calls in order; a failed one is logged
    and dropped (the member can ask again). Returns how many went."""
    sent = 0
    for reply in answers:
        try:
            telegram_call(reply.method, reply.params, files=reply.files)
        except TelegramError as exc:
            log.warning("Telegram answer %s failed: %s", reply.method, exc)
        else:
            sent += 1
    return sent


def _language(member: Member | None, sender: dict) -> str:
    if member is not None and member.language:
        return member.language
    code = (sender.get("language_code") or "").split("-")[0]
    languages = {c for c, _name in settings.LANGUAGES}
    return code if code in languages else settings.LANGUAGE_CODE


def _dispatch(update: dict) -> list[Reply]:
    if isinstance(update.get("callback_query"), dict):
        return _callback(update["callback_query"])
    message = update.get("message")
    if not isinstance(message, dict):
        return []
    chat = message.get("chat") or {}
    if chat.get("type") != "private" or "id" not in chat:
        return []  # the bot talks to one member at a time
    chat_id = str(chat["id"])
    member = member_get_by_telegram_chat(chat_id=chat_id)
    text = (message.get("text") or "").strip()
    command, _space, argument = text.partition(" ")
    command = command.split("@")[0].lower()
    with translation.override(_language(member, message.get("from") or {})):
        return _command(command, argument.strip(), chat_id=chat_id, member=member)


def _say(chat_id: str, text: str, keyboard: dict | None = None) -> Reply:
    params = {"chat_id": chat_id, "text": text}
    if keyboard:
        params["reply_markup"] = keyboard
    return Reply("sendMessage", params)


def _command(
    command: str, argument: str, *, chat_id: str, member: Member | None
) -> list[Reply]:
    if command == "/start" and argument:
        return _link(argument, chat_id=chat_id, member=member)
    if command in ("/start", "/help") or member is None:
        if member is None and command not in ("/start", "/help"):
            return [_say(chat_id, replies.not_linked_text())]
        return [_say(chat_id, replies.help_text(member))]
    if command == "/balance":
        return [_say(chat_id, replies.balance_text(member))]
    if command == "/card":
        png, caption = replies.card_photo(member)
        return [
            Reply(
                "sendPhoto",
                {"chat_id": chat_id, "caption": caption},
                files={"photo": ("card.png", "image/png", png)},
            )
        ]
    if command == "/vouchers":
        return [_say(chat_id, replies.vouchers_text(member))]
    if command == "/rewards":
        return [_say(chat_id, replies.rewards_text(member))]
    if command == "/offers":
        return [_say(chat_id, *replies.offers_question())]
    if command == "/stop":
        telegram_unlink(member=member, source=ConsentSource.TELEGRAM)
        return [_say(chat_id, replies.unlinked_text())]
    return [_say(chat_id, replies.help_text(member))]


def _link(code: str, *, chat_id: str, member: Member | None) -> list[Reply]:
    try:
        linked = telegram_link(code=code, chat_id=chat_id)
    except ServiceError as error:
        return [_say(chat_id, replies.link_refused_text(str(error.message)))]
    with translation.override(linked.language or settings.LANGUAGE_CODE):
        answers = [_say(chat_id, replies.linked_text(linked))]
        if not linked.telegram_consent:
            answers.append(_say(chat_id, *replies.offers_question()))
    return answers


def _callback(query: dict) -> list[Reply]:
    message = query.get("message") or {}
    chat_id = str((message.get("chat") or {}).get("id") or "")
    answered = Reply("answerCallbackQuery", {"callback_query_id": query.get("id")})
    member = member_get_by_telegram_chat(chat_id=chat_id)
    data = query.get("data")
    with translation.override(_language(member, query.get("from") or {})):
        if member is None:
            return [answered, _say(chat_id, replies.not_linked_text())]
        if data not in (replies.OFFERS_YES, replies.OFFERS_NO):
            return [answered]
        granted = data == replies.OFFERS_YES
        member_consent_set(
            member=member,
            channel=Channel.TELEGRAM,
            granted=granted,
            source=ConsentSource.TELEGRAM,
        )
        return [answered, _say(chat_id, replies.offers_answer_text(granted))]
