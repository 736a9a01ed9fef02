"""What REPLICA_DATABASE_URL and PGBOUNCER change in the settings, where reads
go (loyalty_site/db_router.py), and that no code keeps PostgreSQL session
state that PgBouncer's transaction mode would lose. Runs on SQLite too."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, transaction

from loyalty_site.db_router import REPLICA, ReplicaRouter, read_alias
from members.replica import primary_pinned, replica_allowed, replica_reads

ROOT = Path(settings.BASE_DIR)

SHOW = """
import json
from django.conf import settings
print(json.dumps({"databases": settings.DATABASES, "routers": settings.DATABASE_ROUTERS,
                  "middleware": settings.MIDDLEWARE}, default=str))
"""


def _settings_with(**env: str) -> dict:
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REPLICA_DATABASE_URL", "PGBOUNCER"}
    }
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", "import django; django.setup()\n" + SHOW],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "loyalty_site.settings", **env},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.splitlines()[-1])


def test_without_a_replica_or_pgbouncer_nothing_changes():
    got = _settings_with(DATABASE_URL="postgres://u@db:5432/loyalty")
    assert list(got["databases"]) == ["default"]
    assert got["routers"] == []
    assert "loyalty_site.db_router.ReadYourWritesMiddleware" not in got["middleware"]
    default = got["databases"]["default"]
    assert default["CONN_MAX_AGE"] == 60
    assert (
        "DISABLE_SERVER_SIDE_CURSORS" not in default
        or not default["DISABLE_SERVER_SIDE_CURSORS"]
    )
    # SQLite (make run, the tests) as before.
    assert list(_settings_with()["databases"]) == ["default"]


def test_a_replica_url_adds_the_alias_router_and_middleware():
    got = _settings_with(
        DATABASE_URL="postgres://u@primary:5432/loyalty",
        REPLICA_DATABASE_URL="postgres://u@standby:5432/loyalty",
    )
    replica = got["databases"]["replica"]
    assert (replica["HOST"], replica["TEST"]["MIRROR"]) == ("standby", "default")
    assert got["routers"] == ["loyalty_site.db_router.ReplicaRouter"]
    assert "loyalty_site.db_router.ReadYourWritesMiddleware" in got["middleware"]


def test_pgbouncer_turns_off_what_a_pooled_server_connection_cannot_keep():
    got = _settings_with(
        DATABASE_URL="postgres://u@bouncer:6432/loyalty",
        REPLICA_DATABASE_URL="postgres://u@bouncer:6432/loyalty_standby",
        PGBOUNCER="1",
    )
    for alias in ("default", "replica"):
        conf = got["databases"][alias]
        assert conf["CONN_MAX_AGE"] == 0
        assert conf["DISABLE_SERVER_SIDE_CURSORS"] is True
        assert conf["OPTIONS"]["prepare_threshold"] is None


def test_a_direct_connection_prepares_what_binds_on_the_server():
    conf = _settings_with(DATABASE_URL="postgres://u@primary:5432/loyalty")
    assert conf["databases"]["default"]["OPTIONS"]["prepare_threshold"] == 5


@pytest.fixture
def with_replica(monkeypatch):
    """The router's view of a configured replica (the alias is never used here)."""
    monkeypatch.setitem(settings.DATABASES, REPLICA, settings.DATABASES["default"])


def test_only_marked_reads_outside_transactions_go_to_the_replica(with_replica):
    from django.contrib.sessions.models import Session
    from django.core.cache.backends.db import DatabaseCache

    from members.models import Member

    cache_entry = DatabaseCache("loyalty_cache", {}).cache_model_class
    router = ReplicaRouter()
    assert router.db_for_read(Member) == DEFAULT_DB_ALIAS
    with replica_reads():
        assert router.db_for_read(Member) == REPLICA
        assert router.db_for_write(Member) == DEFAULT_DB_ALIAS
        # Counters and sessions written a moment ago are read where written.
        assert router.db_for_read(cache_entry) == DEFAULT_DB_ALIAS
        assert router.db_for_read(Session) == DEFAULT_DB_ALIAS
        with primary_pinned():
            assert router.db_for_read(Member) == DEFAULT_DB_ALIAS
        assert read_alias() == REPLICA
    assert read_alias() == DEFAULT_DB_ALIAS

    @replica_reads()
    def analytics_view() -> str:
        return read_alias()

    assert analytics_view() == REPLICA
    assert read_alias() == DEFAULT_DB_ALIAS
    assert router.allow_migrate(REPLICA, "members") is False
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "members") is True


@pytest.mark.django_db(transaction=True)
def test_reads_inside_a_transaction_stay_on_the_primary(with_replica):
    with replica_reads():
        assert read_alias() == REPLICA
        with transaction.atomic():
            assert read_alias() == DEFAULT_DB_ALIAS
            # Rows the transaction never writes (a snapshot's source rows).
            with replica_reads(in_transactions=True):
                assert read_alias() == REPLICA
                with primary_pinned():
                    assert read_alias() == DEFAULT_DB_ALIAS
            assert read_alias() == DEFAULT_DB_ALIAS


def test_without_a_replica_marked_reads_stay_on_default():
    with replica_reads():
        assert read_alias() == DEFAULT_DB_ALIAS


# Session state PgBouncer's transaction mode would lose or leak to another client.
SESSION_STATE = re.compile(
    r"pg_advisory_lock|pg_advisory_unlock|\bLISTEN\s|\bPREPARE\s|"
    r"""execute\(\s*f?["']SET\s+(?!LOCAL\b)""",
    re.IGNORECASE,
)


def test_no_code_keeps_session_state_on_the_connection():
    found = []
    for app in ("members", "rewards", "campaigns", "analytics", "loyalty_site", "demo"):
        for path in sorted((ROOT / app).rglob("*.py")):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if SESSION_STATE.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert found == [], "use SET LOCAL inside a transaction, row locks, no LISTEN"


def test_the_session_state_pattern_catches_a_session_set():
    assert SESSION_STATE.search('cursor.execute("SET statement_timeout = 5")')
    assert SESSION_STATE.search("cursor.execute('select pg_advisory_lock(1)')")
    assert not SESSION_STATE.search('cursor.execute("SET LOCAL lock_timeout = 5")')


def test_a_post_pins_the_browser_to_the_primary_for_a_while(settings, rf):
    from django.http import HttpResponse

    from loyalty_site.db_router import PIN_COOKIE, ReadYourWritesMiddleware

    settings.REPLICA_PIN_SECONDS = 5.0
    seen = []

    def view(request):
        with replica_reads():
            seen.append(replica_allowed())
        return HttpResponse("ok")

    middleware = ReadYourWritesMiddleware(view)
    assert PIN_COOKIE not in middleware(rf.get("/")).cookies
    assert seen == [True]

    wrote = middleware(rf.post("/"))
    pin = wrote.cookies[PIN_COOKIE]
    assert pin["max-age"] == 5 and pin["httponly"]
    later = rf.get("/")
    later.COOKIES[PIN_COOKIE] = pin.value
    middleware(later)
    assert seen[-1] is False  # pinned: the primary

    stale = rf.get("/")
    stale.COOKIES[PIN_COOKIE] = str(time.time() - 1)
    middleware(stale)
    forged = rf.get("/")
    forged.COOKIES[PIN_COOKIE] = "not a time"
    middleware(forged)
    assert seen[-2:] == [True, True]
