"""Celery task of the Telegram bot (imported by campaigns.tasks so the worker
finds it; its name stays campaigns.tasks.*): a thin wrapper that calls one
service."""

from celery import shared_task

from campaigns.telegram.bot import Reply
from campaigns.telegram.bot import telegram_answers_send as answers_send


@shared_task(
    name="campaigns.tasks.telegram_answers_send", time_limit=120, soft_time_limit=100
)
def telegram_answers_send(answers: list[dict]) -> int:
    """The answers to one webhook update (Reply.to_json each), in order. Not
    retried: an answer Telegram refused is logged, and the member can ask again."""
    return answers_send([Reply.from_json(answer) for answer in answers])
