"""Connection settings for PostgreSQL, shared by settings.py and the PgBouncer
test (no Django import here: settings.py imports it)."""

from __future__ import annotations


def postgres_tune(config: dict, *, pgbouncer: bool, conn_max_age: int) -> dict:
    """Make a PostgreSQL DATABASES entry fit for a direct connection or for
    PgBouncer in transaction mode, where each transaction may run on another
    server connection, so nothing may outlive a transaction:

    - no server-side cursors (`.iterator()` outside a transaction would DECLARE
      a cursor WITH HOLD on one server connection and FETCH on another);
    - no prepared statements (psycopg 3 prepares a query run often enough:
      `prepare_threshold=None` turns that off);
    - no persistent connection of Django's own (PgBouncer pools them).

    Nothing else in the project keeps session state: no SET outside a
    transaction (demo's bulk load uses SET LOCAL), no advisory locks, no
    LISTEN; the time zone Django sets is one of the parameters PgBouncer
    tracks per client. Returns `config`, changed in place."""
    if pgbouncer:
        config["CONN_MAX_AGE"] = 0
        config["DISABLE_SERVER_SIDE_CURSORS"] = True
        config.setdefault("OPTIONS", {})["prepare_threshold"] = None
    else:
        config.setdefault("CONN_MAX_AGE", conn_max_age)
        config.setdefault("CONN_HEALTH_CHECKS", True)
        # Django turns psycopg's prepared statements off. The ORM's cursors bind
        # on the client and never prepare; the few statements written once that
        # go through members.rows.prepared_cursor (every purchase's writes) are
        # prepared after this many runs on a connection.
        config.setdefault("OPTIONS", {}).setdefault("prepare_threshold", 5)
    return config


def replica_config(config: dict, *, pgbouncer: bool, conn_max_age: int) -> dict:
    """The DATABASES entry of the read replica (loyalty_site/db_router.py):
    tuned as the primary is; the tests use the test database for it."""
    postgres_tune(config, pgbouncer=pgbouncer, conn_max_age=conn_max_age)
    config["ATOMIC_REQUESTS"] = False
    config["TEST"] = {"MIRROR": "default"}
    return config
