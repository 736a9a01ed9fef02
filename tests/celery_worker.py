"""One real, in-process Celery worker for the tests that need one (a task
queued on commit and run by a worker, a task delivered twice, a queue left
waiting): Celery's own `start_worker` with the solo pool, on an in-memory
broker and result backend, the app's settings put back afterwards.

    with worker_running() as worker: ...
    with worker_running(queues=["ledger"]) as worker: ...   # like -Q ledger
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connection

from loyalty_site.celery import app

TEST_CONF = {
    "broker_url": "memory://",
    "result_backend": "cache+memory://",
    "broker_transport_options": {"polling_interval": 0.05},
    "task_always_eager": False,
}


def _close_db_connection(**kwargs) -> None:
    # The worker thread opens its own connection; with CONN_MAX_AGE it would
    # outlive the test and keep the test database from being dropped.
    connection.close()


def app_connections_reset() -> None:
    """Forget broker pools and result backends made with the other settings."""
    app._pool = None
    app._backend_cache = None
    if getattr(app._local, "backend", None) is not None:
        del app._local.backend
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@contextmanager
def broker_in_memory() -> Iterator:
    """While the block runs, tasks go to the in-memory broker (not run eagerly),
    where they wait for a worker: worker_running, in the block or after it
    inside the same block."""
    saved = {key: app.conf.get(key) for key in TEST_CONF}
    app.conf.update(TEST_CONF)
    app_connections_reset()
    try:
        yield
    finally:
        app.conf.update(saved)
        app_connections_reset()


@contextmanager
def worker_running(*, queues: list[str] | None = None) -> Iterator:
    """A worker consuming every queue, or only `queues`, while the block runs."""
    task_postrun.connect(_close_db_connection, weak=False)
    extra = {"queues": queues} if queues else {}
    try:
        with (
            broker_in_memory(),
            start_worker(app, pool="solo", perform_ping_check=False, **extra) as worker,
        ):
            yield worker
    finally:
        if queues:
            # -Q narrowed the app's own queue list (Queues.select): later
            # workers of this process must consume every queue again.
            app.amqp.queues._consume_from = None
        task_postrun.disconnect(_close_db_connection)


def wait_for(predicate, seconds: float = 20) -> None:
    """Until `predicate()` is true; AssertionError after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")
