"""Queueing the app's Celery tasks by name.

Services never import the tasks modules (the tasks import the services), so
they name the task they queue: `task_queue("campaigns.tasks.message_deliver",
message.pk)`, inside `transaction.on_commit` when a transaction is open. Every
process registers the tasks (CampaignsConfig.ready imports campaigns.tasks), so
the named task runs in place when the tests make Celery eager, and goes to the
broker otherwise.
"""

from __future__ import annotations

from celery import current_app


def task_queue(name: str, *args) -> None:
    """Queue the registered task `name` with these (JSON) positional arguments."""
    current_app.signature(name, args=args).delay()
