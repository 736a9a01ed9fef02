"""Saying "this read may come from the replica": the lowest app holds the
flags so every app can mark its own reads; loyalty_site/db_router.py reads
them to route (docs/operations.md, "Read replica").

`replica_reads()` (a context manager and a decorator) marks reads that may be
a few seconds behind: the analytics dashboards and their CSV exports, Member
360, the nightly analytics jobs. `primary_pinned()` overrides it (the
read-your-writes middleware pins a browser that has just written). Without
REPLICA_DATABASE_URL the flags are set and read by nobody."""

from __future__ import annotations

import contextvars
from contextlib import ContextDecorator

# 0: the primary; OUTSIDE: the replica for reads outside transactions;
# INSIDE: the replica even inside one (reads of rows the transaction never
# writes, e.g. the source rows of an analytics snapshot).
OUTSIDE, INSIDE = 1, 2
_replica_ok: contextvars.ContextVar[int] = contextvars.ContextVar(
    "replica_ok", default=0
)
_pinned: contextvars.ContextVar[int] = contextvars.ContextVar(
    "primary_pinned", default=0
)


class _Flag(ContextDecorator):
    def __init__(self, var: contextvars.ContextVar[int], value: int = 1) -> None:
        self.var = var
        self.value = value
        self.tokens: list[contextvars.Token] = []

    def _recreate_cm(self) -> _Flag:
        # A decorated function gets a fresh one per call: threads and nested
        # calls never share the tokens.
        return type(self)(self.var, self.value)

    def __enter__(self):
        self.tokens.append(self.var.set(self.value))
        return self

    def __exit__(self, *exc) -> None:
        self.var.reset(self.tokens.pop())


def replica_reads(*, in_transactions: bool = False) -> _Flag:
    """Reads inside may be served by the replica (seconds behind the primary):
    `with replica_reads(): ...` or `@replica_reads()` on a view or a task.
    Only for reads that decide nothing: never a balance a write relies on.

    Reads inside `transaction.atomic()` stay on the primary (they may read
    what the transaction wrote) unless `in_transactions=True`: for reads of
    rows the transaction does not write, made inside it only to hold its lock
    (the snapshot refresh's source rows)."""
    return _Flag(_replica_ok, INSIDE if in_transactions else OUTSIDE)


def primary_pinned() -> _Flag:
    """Reads inside go to the primary even within `replica_reads()`."""
    return _Flag(_pinned)


def replica_allowed(*, in_transaction: bool = False) -> bool:
    """Whether a read here may go to the replica: inside `replica_reads()`
    (`in_transactions=True` when `in_transaction`), not pinned."""
    wanted = INSIDE if in_transaction else OUTSIDE
    return _replica_ok.get() >= wanted and not _pinned.get()
