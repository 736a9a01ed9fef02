"""Real traffic through PgBouncer in transaction mode.

A private pgbouncer (Debian's package; `make test` installs it as it installs
Chromium) on a free port, pool_mode=transaction, a pool of 3 server
connections in front of this run's test database. The test's own Django
connection, and each thread's, go through it with the settings PGBOUNCER=1
gives (loyalty_site/databases.py: no server-side cursors, no prepared
statements, CONN_MAX_AGE=0). Through it: purchases through the till API, a
redemption race of eight threads, a campaign sent (chunks and deliveries), the
nightly RFM job (`.iterator()` outside a transaction) and the analytics
dashboard and an export.

Transaction mode hands each transaction whichever server connection is free,
so anything a session keeps (a prepared statement, a WITH HOLD cursor, a SET)
breaks: the test also checks that pgbouncer logged no server error.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from campaigns.models import Message, MessageStatus
from campaigns.sending.services import campaign_send_now
from campaigns.tests.factories import campaign_make, members_bulk
from loyalty_site.databases import postgres_tune
from members.models import Member
from members.services import api_token_create
from members.tests.factories import MemberFactory
from rewards.models import PointsAccount, Redemption
from rewards.selectors.program import program_settings_get
from rewards.tests.ledger.test_races import assert_ledger_exact, run_together

sys.path.insert(0, str(Path(settings.BASE_DIR) / "bench"))
from pg_cluster import free_port, pg_bindir  # noqa: E402 - bench/

PGBOUNCER = shutil.which("pgbouncer") or (
    "/usr/sbin/pgbouncer" if os.path.exists("/usr/sbin/pgbouncer") else None
)
ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not ON_POSTGRES,
        reason="PgBouncer pools PostgreSQL connections: set DATABASE_URL to a "
        "PostgreSQL server to run",
    ),
    pytest.mark.skipif(
        PGBOUNCER is None,
        reason="pgbouncer not found: `apt-get install -y pgbouncer` (make test "
        "does, as root)",
    ),
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("pgbouncer"),
]

INI = """\
[databases]
* = host={host} port={port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen}
unix_socket_dir =
auth_type = trust
auth_file = {dir}/userlist.txt
admin_users = {user}
pool_mode = transaction
default_pool_size = 3
max_client_conn = 50
logfile = {dir}/pgbouncer.log
pidfile = {dir}/pgbouncer.pid
"""


class Bouncer:
    def __init__(self, directory: Path, port: int, user: str) -> None:
        self.dir, self.port, self.user = directory, port, user

    def log(self) -> str:
        return (self.dir / "pgbouncer.log").read_text(errors="replace")

    def transactions(self, database: str) -> int:
        """Transactions pgbouncer has passed to `database` (its admin console)."""
        out = subprocess.run(  # noqa: S603
            [str(pg_bindir() / "psql"), "-h", "127.0.0.1", "-p", str(self.port),
             "-U", self.user, "-d", "pgbouncer", "-At", "-F", "|", "-c",
             "SHOW STATS"],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        for line in out.splitlines():
            fields = line.split("|")
            if fields[0] == database:
                return int(fields[1])  # total_xact_count
        return 0


@pytest.fixture(scope="module")
def bouncer(django_db_setup):
    conf = connections["default"].settings_dict
    work = Path(tempfile.mkdtemp(prefix="loyalty-pgbouncer-"))
    as_user = []
    if os.getuid() == 0:  # pgbouncer refuses to run as root
        shutil.chown(work, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    (work / "userlist.txt").write_text(
        f'"{conf["USER"]}" "{conf.get("PASSWORD") or ""}"\n'
    )
    (work / "pgbouncer.ini").write_text(
        INI.format(
            host=conf["HOST"] or "127.0.0.1",
            port=conf["PORT"] or 5432,
            listen=port,
            dir=work,
            user=conf["USER"],
        )
    )
    process = subprocess.Popen(  # noqa: S603 - Debian's pgbouncer, our own ini
        [*as_user, PGBOUNCER, str(work / "pgbouncer.ini")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 20
    while "listening on" not in (
        (work / "pgbouncer.log").read_text()
        if (work / "pgbouncer.log").exists()
        else ""
    ):
        assert process.poll() is None, "pgbouncer exited"
        assert time.monotonic() < deadline, "pgbouncer did not start"
        time.sleep(0.1)
    yield Bouncer(work, port, conf["USER"])
    process.terminate()
    process.wait(timeout=10)
    shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
def through_bouncer(bouncer, transactional_db):
    """Every connection of this process (each thread opens its own from the
    same settings) goes through pgbouncer, configured as PGBOUNCER=1 does."""
    conf = connections["default"].settings_dict
    saved = {**conf, "OPTIONS": dict(conf.get("OPTIONS") or {})}
    connection.close()
    conf.update(HOST="127.0.0.1", PORT=str(bouncer.port))
    conf.pop("CONN_HEALTH_CHECKS", None)
    postgres_tune(conf, pgbouncer=True, conn_max_age=60)
    conf.setdefault("CONN_HEALTH_CHECKS", False)
    try:
        yield bouncer
    finally:
        connection.close()
        conf.clear()
        conf.update(saved)


def test_the_portal_runs_through_pgbouncer_in_transaction_mode(
    through_bouncer, store, django_user_model, client, settings
):
    database = connection.settings_dict["NAME"]
    passed_before = through_bouncer.transactions(database)

    conf = program_settings_get()
    conf.points_per_unit, conf.min_purchase = Decimal("1"), Decimal("0")
    conf.save()
    member = MemberFactory(store=store)
    _token, raw_token = api_token_create(store=store, name="till 1")
    till = till_client(raw_token)

    # Purchases through the till API.
    for n in range(3):
        r = till.post(
            "/api/v1/purchases",
            {"card_number": member.card_number, "receipt_id": f"PB{n}",
             "total": "50.00"},
            format="json",
        )  # fmt: skip
        assert r.status_code == 201, r.content
    assert PointsAccount.objects.get(member=member).balance == 150

    # A redemption race: 8 tills spend 40 points each from 150; three succeed.
    def redeem(i: int) -> int:
        return till_client(raw_token).post(
            "/api/v1/redemptions",
            {"card_number": member.card_number, "points": 40,
             "receipt_id": f"RACE{i}"},
            format="json",
        ).status_code  # fmt: skip

    codes = run_together(8, redeem)
    assert sorted(codes) == [201] * 3 + [409] * 5, codes
    assert Redemption.objects.filter(receipt_id__startswith="RACE").count() == 3
    assert assert_ledger_exact(member) == 30

    # A campaign: recipients frozen, chunks queued on commit and sent (Celery
    # runs them in this process, eagerly), one message each.
    settings.CAMPAIGN_CHUNK_SIZE = 10
    members_bulk(25)  # agreed to emails; the till's member did not
    campaign = campaign_make()
    campaign_send_now(campaign=campaign)
    sent = Message.objects.filter(campaign=campaign, status=MessageStatus.SENT)
    assert sent.count() == 25, _campaign_state(campaign)
    assert len(mail.outbox) == 25

    # The nightly RFM job reads with .iterator() outside a transaction.
    from analytics.tasks import rfm_refresh

    assert rfm_refresh.apply().get() > 0

    # An analytics page and an export, as a superuser.
    boss = django_user_model.objects.create_superuser("boss", "b@example.com", "pw")
    client.force_login(boss)
    assert client.get("/admin/analytics/dashboard/").status_code == 200
    export = client.get("/admin/analytics/dashboard/export/stores/")
    assert export.status_code == 200
    assert store.name in export.content.decode()

    # Really through pgbouncer, and nothing it had to complain about.
    assert through_bouncer.transactions(database) > passed_before + 50
    log = through_bouncer.log()
    assert " ERROR " not in log and " WARNING " not in log, log[-3000:]


def test_reading_in_chunks_outside_a_transaction_survives_the_pool(through_bouncer):
    """`.iterator()` outside a transaction: with a server-side cursor its FETCH
    would run on whatever server connection is free by then, where the cursor
    does not exist. Here another client takes the server it started on."""
    members_bulk(30)
    rows = Member.objects.order_by("pk").values_list("pk", flat=True)
    reading = rows.iterator(chunk_size=5)
    first = next(reading)  # the first chunk; the server goes back to the pool
    taken, release = threading.Event(), threading.Event()

    def take_a_server() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT 1")  # pgbouncer gives the last used one
                taken.set()
                release.wait(20)
        finally:
            connection.close()

    other = threading.Thread(target=take_a_server)
    other.start()
    try:
        assert taken.wait(20)
        rest = list(reading)
    finally:
        release.set()
        other.join(timeout=30)
    assert [first, *rest] == list(rows)


def _campaign_state(campaign) -> dict:
    """What a campaign that did not send all its messages left behind (this
    step once failed with 0 of 25 sent, and did not again): its runs, chunks
    and messages, and whether Celery was eager in this thread."""
    from celery import current_app

    from campaigns.models import CampaignChunk, CampaignRun

    return {
        "runs": list(
            CampaignRun.objects.filter(campaign=campaign).values(
                "status", "recipients_total", "chunks_total", "chunks_done"
            )
        ),
        "chunks": list(
            CampaignChunk.objects.filter(run__campaign=campaign).values(
                "queued_at", "done_at", "attempts"
            )
        ),
        "messages": list(
            Message.objects.filter(campaign=campaign).values_list(
                "status", "error", "send_after"
            )
        ),
        "celery": (current_app.main, current_app.conf.task_always_eager),
    }


def till_client(raw_token: str) -> APIClient:
    """A till's API client (one per thread: a client is not shared)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw_token}")
    return client
