"""Celery queues by kind (settings.CELERY_TASK_ROUTES): every task is routed to
one of the three queues by a route that names it, and a worker that consumes
only the ledger queue runs the nightly expiry while campaign chunks wait."""

from __future__ import annotations

import datetime as dt
import fnmatch
import time

import pytest
from django.conf import settings
from django.utils import timezone

from loyalty_site.celery import app
from rewards.models import LedgerKind, PointsLot
from rewards.selectors.program import program_settings_get
from rewards.services import points_bonus_grant
from tests.celery_worker import worker_running

BUILTINS = "celery."  # Celery's own canvas tasks: the default queue, ledger


def _route_key(name: str) -> str | None:
    """The CELERY_TASK_ROUTES key that routes `name`, as Celery picks it: an
    exact name first, then the patterns in order."""
    routes = settings.CELERY_TASK_ROUTES
    if name in routes:
        return name
    return next((key for key in routes if fnmatch.fnmatchcase(name, key)), None)


def test_every_registered_task_is_routed_to_a_known_queue():
    app.loader.import_default_modules()
    names = [name for name in app.tasks if not name.startswith(BUILTINS)]
    assert "rewards.tasks.points_expire_due" in names
    unrouted = [name for name in names if _route_key(name) is None]
    assert unrouted == [], "add these tasks to TASK_ROUTES in loyalty_site/queues.py"
    queues = {name: app.amqp.router.route({}, name)["queue"].name for name in names}
    assert set(queues.values()) == set(settings.LOYALTY_CELERY_QUEUES)
    # A worker started without -Q consumes every queue (make run, make worker).
    assert {q.name for q in app.amqp.queues.values()} >= set(queues.values())
    assert queues["rewards.tasks.points_expire_due"] == "ledger"
    assert queues["rewards.tasks.tiers_downgrade_due"] == "ledger"
    assert queues["members.tasks.webhook_delivery_send"] == "ledger"
    assert queues["campaigns.tasks.campaign_bonuses_grant_due"] == "ledger"
    assert queues["campaigns.tasks.campaign_chunk_send"] == "campaigns"
    assert queues["campaigns.tasks.message_deliver"] == "campaigns"
    assert queues["analytics.tasks.snapshots_refresh_incremental"] == "analytics"


def test_a_new_task_outside_the_routes_is_caught():
    assert _route_key("loyalty_site.tasks.something_new") is None
    assert _route_key("campaigns.tasks.anything") == "campaigns.*"


# --- A real worker on the ledger queue only ------------------------------------------


def _waiting(queue: str) -> int:
    with app.connection_for_write() as conn:
        return conn.default_channel.queue_declare(queue, passive=True).message_count


@pytest.fixture
def ledger_worker():
    with worker_running(queues=["ledger"]) as worker:
        try:
            yield worker
        finally:
            with app.connection_for_write() as conn:
                conn.default_channel.queue_purge("campaigns")


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_the_ledger_worker_expires_points_while_campaign_chunks_wait(
    ledger_worker, member
):
    conf = program_settings_get()
    conf.points_expire_months = 12
    conf.save()
    points_bonus_grant(
        member=member,
        points=100,
        reason="old",
        idempotency_key="q1",
        recorded_at=timezone.now() - dt.timedelta(days=400),
    )
    # A campaign's backlog: chunks no worker of this queue takes.
    for n in range(50):
        app.send_task("campaigns.tasks.campaign_chunk_send", args=[10**9 + n])
    assert _waiting("campaigns") == 50

    app.send_task("rewards.tasks.points_expire_due")

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if member.account.entries.filter(kind=LedgerKind.EXPIRE).exists():
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the ledger worker did not run the expiry")
    assert PointsLot.objects.get(account__member=member).remaining == 0
    assert _waiting("campaigns") == 50  # untouched: the worker takes ledger only


def test_a_worker_without_q_consumes_every_queue_again():
    """The worker above narrowed the app's queues; nothing of it remains."""
    consumed = {q.name for q in app.amqp.queues.consume_from.values()}
    assert consumed == set(settings.LOYALTY_CELERY_QUEUES)
