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

_replica_ok: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "replica_ok", default=False
)
_pinned: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "primary_pinned", default=False
)


class _Flag(ContextDecorator):
    def __init__(self, var: contextvars.ContextVar[bool]) -> None:
        self.var = var
        self.tokens: list[contextvars.Token] = []

    def _recreate_cm(self) -> _Flag:
        # A decorated function gets a fresh one per call: threads and nested
        # calls never share the tokens.
        return type(self)(self.var)

    def __enter__(self):
        self.tokens.append(self.var.set(True))
        return self

    def __exit__(self, *exc) -> None:
        self.var.reset(self.tokens.pop())


def replica_reads() -> _Flag:
    """Reads inside may be served by the replica (seconds behind the primary):
    `with replica_reads(): ...` or `@replica_reads()` on a view or a task.
    Only for reads that decide nothing: never a balance a write relies on."""
    return _Flag(_replica_ok)


def primary_pinned() -> _Flag:
    """Reads inside go to the primary even within `replica_reads()`."""
    return _Flag(_pinned)


def replica_allowed() -> bool:
    """Inside `replica_reads()` and not pinned to the primary."""
    return _replica_ok.get() and not _pinned.get()
