"""The read replica against a real PostgreSQL streaming replica.

One private primary (initdb, bench/pg_cluster.py) holding a copy of this
run's test database, one hot standby made from it with `pg_basebackup -R`, and
gunicorn serving the site with DATABASE_URL on the primary and
REPLICA_DATABASE_URL on the standby (loyalty_site/db_router.py). The shared
server is not used for replication: it need not allow replication
connections.

Which server answered is proved by pausing WAL replay on the standby
(`pg_wal_replay_pause()`) and changing a row on the primary: a page that shows
the old value was read from the standby, one that shows the new value from
the primary. Started once for the module (about 15 s).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
sys.path.insert(0, str(ROOT / "bench"))
from pg_cluster import PrivateCluster, free_port, pg_bindir  # noqa: E402 - bench/

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
PIN_SECONDS = 1.5

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not ON_POSTGRES,
        reason="a PostgreSQL streaming replica: set DATABASE_URL to a PostgreSQL "
        "server to run (on SQLite there is no replica to route to)",
    ),
    pytest.mark.skipif(
        pg_bindir() is None,
        reason="needs the PostgreSQL server programs (initdb, pg_basebackup) in "
        "/usr/lib/postgresql/*/bin",
    ),
    # One primary, one standby and one gunicorn for the module.
    pytest.mark.xdist_group("replica"),
]

SETUP = """
from django.contrib.auth import get_user_model
from members.services import member_enroll, store_get_or_create
store, _ = store_get_or_create(code="R1", name="Replica Street")
get_user_model().objects.create_superuser("boss", "boss@example.com", "pass-word-123")
m = member_enroll(phone="+380501112233", first_name="Olena", last_name="Shevchenko",
                  store=store, source="admin")
print(m.pk, store.pk)
"""


def _copy_test_database(primary: PrivateCluster) -> None:
    """This run's test database (migrated) into the private primary."""
    from django.db import connection

    conf = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": conf.get("PASSWORD") or ""}
    dump = subprocess.Popen(  # noqa: S603
        [str(primary.bindir / "pg_dump"), "--no-owner", "--no-privileges",
         "-h", conf["HOST"] or "127.0.0.1", "-p", str(conf["PORT"] or 5432),
         "-U", conf["USER"], conf["NAME"]],
        stdout=subprocess.PIPE, env=env,
    )  # fmt: skip
    subprocess.run(  # noqa: S603
        [str(primary.bindir / "psql"), "-h", "127.0.0.1", "-p", str(primary.port),
         "-U", "postgres", "-d", primary.dbname, "-q", "-v", "ON_ERROR_STOP=1"],
        stdin=dump.stdout, check=True, capture_output=True,
    )  # fmt: skip
    assert dump.wait() == 0


def _manage_shell(env: dict, code: str) -> str:
    """Run `code` in `manage.py shell` with the site's environment; its output."""
    done = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


class Site:
    def __init__(self, primary, replica, base, env, member_id, store_id) -> None:
        self.primary, self.replica, self.base, self.env = primary, replica, base, env
        self.member_id, self.store_id = member_id, store_id

    def login(self) -> requests.Session:
        """A staff browser, logged in (a write: it is pinned for a moment)."""
        s = requests.Session()
        s.get(f"{self.base}/admin/login/", timeout=30)
        r = s.post(
            f"{self.base}/admin/login/",
            data={
                "username": "boss",
                "password": "pass-word-123",
                "csrfmiddlewaretoken": s.cookies["csrftoken"],
                "next": "/admin/",
            },
            timeout=30,
        )
        assert r.ok and "sessionid" in s.cookies, r.text[:500]
        return s

    def page(self, s: requests.Session, path: str) -> str:
        r = s.get(self.base + path, timeout=30)
        assert r.status_code == 200, r.text[:1000]
        return r.text

    def m360(self, s: requests.Session) -> str:
        return self.page(s, f"/admin/members/member/{self.member_id}/360/")

    def balance_shown(self, s: requests.Session) -> str:
        found = re.search(r'id="m360-balance">([^<]*)<', self.m360(s))
        assert found
        return found.group(1).strip()

    def caught_up(self, seconds: float = 30) -> None:
        """Replay resumed and the standby at the primary's current WAL position."""
        self.replica.psql("select pg_wal_replay_resume()")
        target = self.primary.psql("select pg_current_wal_lsn()")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            behind = self.replica.psql(
                f"select pg_last_wal_replay_lsn() < '{target}'::pg_lsn"
            )
            if behind == "f":
                return
            time.sleep(0.1)
        raise AssertionError("the standby did not catch up")


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    work = Path(tempfile.mkdtemp(prefix="loyalty-replica-"))
    primary = PrivateCluster(work / "primary", "loyalty_replica")
    replica = PrivateCluster(work / "standby", "loyalty_replica")
    server = None
    try:
        primary.start()
        with django_db_blocker.unblock():
            _copy_test_database(primary)
        env = {
            **os.environ,
            "DATABASE_URL": primary.url,
            "REPLICA_DATABASE_URL": replica.url,
            "REPLICA_PIN_SECONDS": str(PIN_SECONDS),
            "DEBUG": "0",
            "LANGUAGE_CODE": "en",
            "CACHE_URL": "locmemcache://",
            "CELERY_BROKER_URL": "memory://",
            "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
            "LOYALTY_VAR_DIR": str(work / "var"),
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "loyalty_site.settings",
        }
        member_id, store_id = map(int, _manage_shell(env, SETUP).split()[-2:])
        replica.start_replica_of(primary)
        replica.wait_ready()
        port = free_port()
        log = open(work / "gunicorn.log", "w")  # noqa: SIM115 - closed below
        server = subprocess.Popen(  # noqa: S603 - our own venv's gunicorn
            [str(Path(sys.executable).with_name("gunicorn")),
             "loyalty_site.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", "1"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(base + "/healthz", timeout=10).ok:
                    break
            except requests.RequestException:  # still starting
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise AssertionError((work / "gunicorn.log").read_text()[-3000:])
            time.sleep(0.2)
        yield Site(primary, replica, base, env, member_id, store_id)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        replica.stop()
        primary.stop()
        shutil.rmtree(work, ignore_errors=True)


def _unpin() -> None:
    """Wait until the logins' and writes' read-your-writes pins have lapsed."""
    time.sleep(PIN_SECONDS + 0.2)


def test_analytics_and_member_360_read_the_replica(site):
    browser = site.login()
    _unpin()
    site.replica.psql("select pg_wal_replay_pause()")
    try:
        site.primary.psql(
            "update members_member set first_name = 'Oksana' where id = :member;"
            "update members_store set name = 'Renamed Street' where id = :store",
            member=site.member_id,
            store=site.store_id,
        )
        # The standby has not replayed the changes: what it serves is old.
        assert "Olena" in site.m360(browser)
        assert "Oksana" not in site.m360(browser)
        stores = site.page(browser, "/admin/analytics/dashboard/export/stores/")
        assert "Replica Street" in stores
        assert "Renamed Street" not in stores
        assert "Replica Street" in site.page(browser, "/admin/analytics/dashboard/")
        # Pages outside replica_reads() read the primary.
        change = site.page(browser, f"/admin/members/member/{site.member_id}/change/")
        assert "Oksana" in change
    finally:
        site.caught_up()
    assert "Oksana" in site.m360(browser)
    assert "Renamed Street" in site.page(
        browser, "/admin/analytics/dashboard/export/stores/"
    )


def test_a_write_goes_to_the_primary_and_its_author_reads_it_back(site):
    browser, other = site.login(), site.login()
    _unpin()
    before = site.balance_shown(browser)
    site.replica.psql("select pg_wal_replay_pause()")
    try:
        adjust = f"/admin/members/member/{site.member_id}/adjust-points/"
        site.page(browser, adjust)
        r = browser.post(
            site.base + adjust,
            data={
                "points": "25",
                "reason": "Replica test",
                "idempotency_key": "replica-test-1",
                "csrfmiddlewaretoken": browser.cookies["csrftoken"],
            },
            timeout=30,
        )
        assert r.ok, r.text[:1000]
        sql = "select balance from rewards_pointsaccount where member_id = :member"
        # Written on the primary; the paused standby has not got it.
        after = int(site.primary.psql(sql, member=site.member_id))
        assert after == int(site.replica.psql(sql, member=site.member_id)) + 25
        # Read-your-writes: right after the POST, Member 360 reads the primary.
        assert site.balance_shown(browser) == str(after)
        # Another staff browser, which wrote nothing, still reads the standby.
        assert site.balance_shown(other) == before
        # Once the pin lapses, this browser reads the standby again.
        _unpin()
        assert site.balance_shown(browser) == before
    finally:
        site.caught_up()
    assert site.balance_shown(browser) == str(after)


PURCHASE = """
from members.models import Member
from rewards.services import purchase_record
member = Member.objects.get(pk={member})
purchase_record(store=member.home_store, member=member, receipt_id="SNAP1",
                total="40.00")
"""
SNAPSHOT_JOB = """
from analytics.tasks import snapshots_refresh_incremental
snapshots_refresh_incremental.apply().get()
"""

SNAPSHOT_PURCHASES = """
select coalesce(sum(purchases), 0) from analytics_dailystoresnapshot
where store_id = :store
"""


def test_the_snapshot_job_reads_its_source_rows_from_the_replica(site):
    site.replica.psql("select pg_wal_replay_pause()")
    try:
        # The purchase is written to the primary; the job, run next, reads the
        # purchases from the paused standby, which has not got it.
        _manage_shell(site.env, PURCHASE.format(member=site.member_id) + SNAPSHOT_JOB)
        purchases = site.primary.psql(
            "select count(*) from rewards_purchase where store_id = :store",
            store=site.store_id,
        )
        assert int(purchases) >= 1
        assert site.primary.psql(SNAPSHOT_PURCHASES, store=site.store_id) == "0"
    finally:
        site.caught_up()
    _manage_shell(site.env, SNAPSHOT_JOB)
    # Caught up: the purchase is counted (its day is among the recent ones).
    assert site.primary.psql(SNAPSHOT_PURCHASES, store=site.store_id) == purchases
