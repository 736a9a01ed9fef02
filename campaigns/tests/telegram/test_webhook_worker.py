"""The webhook answers Telegram without waiting for the Bot API: the bot's
answers leave as a task on the campaigns queue, which a real worker runs."""

from __future__ import annotations

import pytest
from django.test import TestCase
from django.urls import reverse
from django.utils import translation

from campaigns.tasks import telegram_answers_send
from campaigns.telegram import replies
from campaigns.telegram.bot import Reply
from campaigns.tests.telegram.conftest import SECRET
from tests.celery_worker import broker_in_memory, wait_for, worker_running

pytestmark = [pytest.mark.django_db, pytest.mark.celery]


def test_the_answers_wait_in_the_queue_for_a_worker_not_in_the_request(client, bot_api):
    update = {
        "update_id": 424242,
        "message": {
            "message_id": 1,
            "from": {"id": 5150, "is_bot": False, "language_code": "en"},
            "chat": {"id": 5150, "type": "private"},
            "date": 1_780_000_000,
            "text": "/help",
        },
    }
    with broker_in_memory():  # a broker, and no worker yet
        with TestCase.captureOnCommitCallbacks(execute=True):
            response = client.post(
                reverse("campaigns:telegram_webhook"),
                update,
                content_type="application/json",
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            )
        assert response.status_code == 200
        assert bot_api.calls == []  # the request made no Bot API call

        with worker_running(queues=["campaigns"]):
            wait_for(lambda: bot_api.of("sendMessage"))
    (call,) = bot_api.of("sendMessage")
    assert str(call["params"]["chat_id"]) == "5150"
    with translation.override("en"):  # a stranger's answer, in their app's language
        assert call["params"]["text"] == replies.help_text(None)


def test_a_photo_answer_survives_the_queue(bot_api):
    """The card's QR (bytes) goes through the task's JSON argument intact."""
    png = bytes(range(256)) * 3
    reply = Reply(
        "sendPhoto",
        {"chat_id": "1", "caption": "Card"},
        files={"photo": ("card.png", "image/png", png)},
    )
    assert telegram_answers_send.delay([reply.to_json()]).get() == 1
    (call,) = bot_api.of("sendPhoto")
    assert call["files"]["photo"]["content"] == png
    assert call["files"]["photo"]["filename"] == "card.png"
