"""Every task of the project retries when the database goes away."""

import pytest
from django.db.utils import InterfaceError, OperationalError

from loyalty_site.celery import app

PROJECT_APPS = ("members.", "rewards.", "campaigns.", "analytics.")


def _project_tasks():
    app.loader.import_default_modules()
    return {
        name: task for name, task in app.tasks.items() if name.startswith(PROJECT_APPS)
    }


def test_every_project_task_retries_on_database_errors():
    tasks = _project_tasks()
    assert "campaigns.tasks.campaign_chunk_send" in tasks
    assert "rewards.tasks.points_expire_due" in tasks
    missing = [
        name
        for name, task in tasks.items()
        if not {OperationalError, InterfaceError} <= set(task.autoretry_for)
    ]
    assert missing == []


def test_a_task_that_loses_the_database_asks_to_be_retried(monkeypatch):
    """Not acknowledged as failed: Celery's Retry, which queues it again."""
    from celery.exceptions import Retry

    from campaigns import tasks

    def gone(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("campaigns.messaging.delivery.message_deliver", gone)
    with pytest.raises(Retry):
        tasks.message_deliver.apply(args=[1], throw=True)
