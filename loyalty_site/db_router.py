"""Reads that may go to the PostgreSQL streaming replica, and the router that
sends them there (docs/operations.md, "Read replica").

The replica is opt-in, per block of code, never per model: a read goes to the
replica only when all of these hold:

- REPLICA_DATABASE_URL is set (settings.py then adds the `replica` alias, this
  router and ReadYourWritesMiddleware; without it nothing here is installed);
- the code runs inside `members.replica.replica_reads()` (a context manager
  and a decorator), which the analytics dashboards and their CSV exports,
  Member 360 and the nightly analytics jobs use: pages and jobs that read a
  lot and decide nothing;
- no transaction is open on the primary: inside `transaction.atomic()` reads
  see that transaction's own writes and locks, so they stay on the primary,
  unless the code says `replica_reads(in_transactions=True)` for reads of rows
  the transaction never writes (the snapshot refresh's source rows, read
  under its lock);
- the browser did not write in the last REPLICA_PIN_SECONDS
  (ReadYourWritesMiddleware): a page after one's own POST reads the primary,
  so the replica's lag never shows one's own change undone.

Every write goes to the primary, and so does every read outside
`replica_reads()`: everything the ledger decides (balances, locks, idempotency
keys, sessions, logins, the till API) reads the primary.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from members.replica import primary_pinned, replica_allowed

REPLICA = "replica"
PIN_COOKIE = "loyalty_primary_until"


def read_alias() -> str:
    """The alias a read made here and now would use."""
    if REPLICA in settings.DATABASES and replica_allowed(
        in_transaction=connections[DEFAULT_DB_ALIAS].in_atomic_block
    ):
        return REPLICA
    return DEFAULT_DB_ALIAS


# Read on the primary even inside replica_reads(): a counter or a session
# written a moment ago must not be read back old.
PRIMARY_ONLY_APPS = frozenset({"django_cache", "sessions"})


class ReplicaRouter:
    """settings.DATABASE_ROUTERS when REPLICA_DATABASE_URL is set."""

    def db_for_read(self, model, **hints) -> str:
        if model._meta.app_label in PRIMARY_ONLY_APPS:
            return DEFAULT_DB_ALIAS
        return read_alias()

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        # The replica holds the same rows: an object read there may be
        # referred to by one written to the primary.
        return True

    def allow_migrate(self, db, app_label, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS


class ReadYourWritesMiddleware:
    """After a request that may have written (POST, PUT, PATCH, DELETE), the
    browser carries a cookie for REPLICA_PIN_SECONDS; while it is fresh, every
    read of its requests goes to the primary. GETs that write a record of
    their own (the audit row of a Member 360 view, an open-tracking pixel) do
    not pin: the reader's change is what must not look undone. The cookie
    only chooses a server; forging it costs the primary a read, nothing more."""

    UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        try:
            until = float(request.COOKIES.get(PIN_COOKIE, "0"))
        except ValueError:
            until = 0.0
        if until > time.time():
            with primary_pinned():
                response = self.get_response(request)
        else:
            response = self.get_response(request)
        if request.method in self.UNSAFE:
            seconds = settings.REPLICA_PIN_SECONDS
            response.set_cookie(
                PIN_COOKIE,
                f"{time.time() + seconds:.3f}",
                max_age=max(1, round(seconds)),
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response
