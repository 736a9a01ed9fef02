"""Campaigns through real Celery: `celery -A loyalty_site worker -B` started as a
subprocess (its embedded beat runs the per-minute dispatcher every second here),
against a file SQLite database with the filesystem broker, and against the
PostgreSQL test database with Redis; a chunk redelivered after its worker was
killed (acks_late) sends nothing twice and, once the sweep has recovered the
dead batch, loses at most the one message in flight; an in-process worker
running the same chunk task twice writes nothing twice.

Slow (each starts a worker): marked `celery`. Redis tests need a server on
127.0.0.1:6379 (database 5 is used) and PostgreSQL (DATABASE_URL).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from campaigns.messaging.delivery import messages_deliver_many
from campaigns.messaging.services import INTERRUPTED, messages_recover_interrupted
from campaigns.models import (
    Campaign,
    CampaignChunk,
    CampaignRun,
    CampaignStatus,
    Message,
    MessageStatus,
)
from campaigns.sending.services import campaign_schedule, campaign_send_now
from campaigns.tests.factories import campaign_make, members_bulk
from tests.celery_worker import worker_running
from tests.local_redis import needs_redis

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

ROOT = Path(settings.BASE_DIR)
PYTHON = sys.executable
CELERY = str(Path(sys.executable).with_name("celery"))
# A Redis database of this xdist worker's own: the tests below flush it and
# start workers on it, so two of them running at once on two xdist workers
# (each with its own test database) would flush and take each other's tasks.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:] or 0)
REDIS_URL = os.environ.get(
    "CAMPAIGNS_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{(5, 7, 11, 12)[_WORKER % 4]}"
)


def _env(tmp_path: Path, **extra) -> dict:
    for folder in ("broker/out", "broker/processed", "broker/control", "sms", "mail"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "LOYALTY_VAR_DIR": str(tmp_path),
        "CAMPAIGN_DISPATCH_EVERY": "1",
        "DJANGO_SETTINGS_MODULE": "loyalty_site.settings",
        "PYTHONPATH": str(ROOT),
        "EMAIL_URL": f"filemail://{tmp_path / 'mail'}",
        "SMS_BACKEND": "members.sms.FileSmsBackend",
        "LOG_LEVEL": "WARNING",
    }
    env.update(extra)
    return env


def _worker(
    tmp_path: Path, env: dict, name: str, beat: bool = True
) -> subprocess.Popen:
    args = [
        CELERY,
        "-A",
        "loyalty_site",
        "worker",
        "--concurrency",
        "1",
        "--loglevel",
        "WARNING",
        "-n",
        f"{name}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    if beat:
        args += ["-B", "-s", str(tmp_path / f"beat-{name}")]
    log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(  # noqa: S603 - our own venv's celery, fixed argv
        args,
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen, sig=signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _wait(predicate, timeout: float, what: str, logs: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    tail = ""
    if logs is not None:
        tail = "\n".join(p.read_text()[-3000:] for p in logs.glob("*.log"))
    raise AssertionError(f"timed out waiting for {what}\n{tail}")


def _status(campaign_id: int) -> str:
    connection.close()  # a fresh read each time, not a cached transaction
    return Campaign.objects.values_list("status", flat=True).get(pk=campaign_id)


# --- SQLite file database + filesystem broker ------------------------------------------

SEED = """
import datetime as dt
from django.utils import timezone
from campaigns.sending.services import campaign_schedule
from campaigns.tests.factories import campaign_make, members_bulk
members_bulk(7)
campaign = campaign_make(channel="email")
campaign_schedule(campaign=campaign, at=timezone.now() + dt.timedelta(seconds=3))
print(campaign.pk)
"""


def test_scheduled_campaign_goes_out_through_real_beat_on_sqlite_and_filesystem_broker(
    tmp_path,
):
    db = tmp_path / "db.sqlite3"
    env = _env(
        tmp_path, DATABASE_URL=f"sqlite:///{db}", CELERY_BROKER_URL="filesystem://"
    )
    subprocess.run(  # noqa: S603 - our own manage.py with a fixed argv
        [PYTHON, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    seeded = subprocess.run(  # noqa: S603 - our own manage.py with a fixed argv
        [PYTHON, "manage.py", "shell", "-c", SEED],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    campaign_id = int(seeded.stdout.strip().splitlines()[-1])

    def status() -> str:
        with sqlite3.connect(db, timeout=10) as conn:
            return conn.execute(
                "SELECT status FROM campaigns_campaign WHERE id = ?", [campaign_id]
            ).fetchone()[0]

    assert status() == "scheduled"
    worker = _worker(tmp_path, env, "fs")
    try:
        _wait(lambda: status() == "sent", 120, "the campaign to be sent", tmp_path)
    finally:
        _stop(worker)
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT status, COUNT(*) FROM campaigns_message WHERE campaign_id = ? GROUP BY status",
            [campaign_id],
        ).fetchall()
    assert rows == [("sent", 7)]
    assert (
        len(list((tmp_path / "mail").iterdir())) >= 1
    )  # filemail writes one file per run


# --- PostgreSQL + Redis ----------------------------------------------------------------


def _pg_env(tmp_path: Path, **extra) -> dict:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}"
    if db.get("PASSWORD"):
        url += f":{db['PASSWORD']}"
    url += f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return _env(tmp_path, DATABASE_URL=url, CELERY_BROKER_URL=REDIS_URL, **extra)


def _redis_flush() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


@pytest.mark.postgres
@needs_redis
def test_scheduled_campaign_goes_out_through_real_beat_on_postgres_and_redis(tmp_path):
    _redis_flush()
    members_bulk(12)
    campaign = campaign_make(channel="sms")
    campaign_schedule(campaign=campaign, at=timezone.now() + dt.timedelta(seconds=3))
    env = _pg_env(tmp_path, CAMPAIGN_CHUNK_SIZE="5")

    worker = _worker(tmp_path, env, "redis")
    try:
        _wait(
            lambda: _status(campaign.pk) == "sent",
            120,
            "the campaign to be sent",
            tmp_path,
        )
    finally:
        _stop(worker)

    assert (
        Message.objects.filter(campaign=campaign, status=MessageStatus.SENT).count()
        == 12
    )
    lines = (tmp_path / "sms" / "outbox.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["to"] for line in lines) == sorted(
        Message.objects.filter(campaign=campaign).values_list("to", flat=True)
    )
    assert (
        CampaignChunk.objects.filter(
            run__campaign=campaign, done_at__isnull=False
        ).count()
        == 3
    )


@pytest.mark.postgres
@needs_redis
def test_chunk_redelivered_after_its_worker_is_killed_sends_nothing_twice(
    tmp_path, settings
):
    _redis_flush()
    members_bulk(10)
    campaign = campaign_make(channel="sms")
    campaign_schedule(campaign=campaign, at=timezone.now())
    env = _pg_env(
        tmp_path,
        SMS_BACKEND="campaigns.tests.slow_sms.SlowFileSmsBackend",
        SLOW_SMS_SECONDS="0.5",
        CELERY_VISIBILITY_TIMEOUT="4",
    )
    outbox = tmp_path / "sms" / "outbox.jsonl"

    def sms_sent() -> int:
        return len(outbox.read_text().splitlines()) if outbox.exists() else 0

    first = _worker(tmp_path, env, "first")
    try:
        _wait(lambda: sms_sent() >= 3, 90, "the first SMS", tmp_path)
    finally:
        _stop(first, signal.SIGKILL)  # no warm shutdown: the task stays unacknowledged
    killed_at = sms_sent()
    assert killed_at < 10
    assert _status(campaign.pk) == CampaignStatus.SENDING
    time.sleep(
        5
    )  # past the visibility timeout: Redis gives the task to the next worker

    second = _worker(tmp_path, env, "second", beat=False)
    try:
        _wait(
            lambda: _status(campaign.pk) == "sent",
            120,
            "the campaign to finish",
            tmp_path,
        )
    finally:
        _stop(second)

    messages = Message.objects.filter(campaign=campaign)
    assert messages.count() == 10
    # The killed worker had claimed all 10 in one batch and marked each sent as
    # its SMS left; the redelivered chunk hands none of its claim over again.
    left = dict(messages.values_list("status").annotate(n=Count("pk")).order_by())
    assert set(left) == {MessageStatus.SENT, MessageStatus.SENDING}
    assert len(set(messages.filter(status="sending").values_list("claim"))) == 1

    # The sweep's recovery: the first message still sending may have left
    # (failed, never sent again); the others of the claim are delivered now.
    requeued, failed = messages_recover_interrupted(older_than=dt.timedelta(0))
    assert failed == 1
    assert requeued == left[MessageStatus.SENDING] - 1
    settings.LOYALTY_SMS_BACKEND = "members.sms.FileSmsBackend"
    settings.LOYALTY_SMS_FILE_PATH = tmp_path / "sms"
    queued = messages.filter(status=MessageStatus.QUEUED).values_list("pk", flat=True)
    assert messages_deliver_many(message_ids=list(queued)).handed_over == requeued

    phones = [json.loads(line)["to"] for line in outbox.read_text().splitlines()]
    assert len(phones) == len(set(phones)), "a member got the SMS twice"
    sent = set(messages.filter(status=MessageStatus.SENT).values_list("to", flat=True))
    interrupted = messages.get(status=MessageStatus.FAILED)
    assert interrupted.error == INTERRUPTED
    # At most one message lost: the one in flight, which may or may not have left.
    assert len(sent) == 9
    assert sent <= set(phones) <= sent | {interrupted.to}
    assert set(messages.values_list("attempts", flat=True)) == {1}
    chunk = CampaignChunk.objects.get(run__campaign=campaign)
    assert chunk.attempts >= 2


# --- an in-process worker runs the same chunk task twice ----------------------------------


@pytest.fixture
def worker():
    with worker_running() as w:
        yield w


def test_chunk_task_delivered_twice_to_a_real_worker_writes_nothing_twice(
    worker, mailoutbox
):
    from campaigns.tasks import campaign_chunk_send

    members_bulk(8)
    campaign = campaign_make()
    with mock.patch("campaigns.sending.services._chunks_queue"):
        run = campaign_send_now(campaign=campaign)
    chunk = CampaignChunk.objects.get(run=run)
    first = campaign_chunk_send.delay(chunk.pk)
    assert first.get(timeout=30) == 8
    # What a redelivery after a crash before the chunk counted itself sees.
    CampaignChunk.objects.filter(pk=chunk.pk).update(done_at=None)
    CampaignRun.objects.filter(pk=run.pk).update(chunks_done=0, status="sending")
    Campaign.objects.filter(pk=campaign.pk).update(status="sending")
    second = campaign_chunk_send.delay(chunk.pk)
    assert second.get(timeout=30) == 8  # rendered again, inserted nothing

    assert CampaignRun.objects.get(pk=run.pk).chunks_done == 1

    assert Message.objects.filter(campaign=campaign).count() == 8
    assert len(mailoutbox) == 8
