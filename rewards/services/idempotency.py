"""Idempotent durable transactions: a write a client can retry runs in one
durable transaction, rerun after a deadlock or serialization failure, and a
concurrent writer of the same idempotency key is answered from its row."""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, OperationalError, transaction

T = TypeVar("T")

# PostgreSQL's serialization_failure and deadlock_detected: the transaction was
# rolled back as a whole and may simply run again.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
MAX_RETRIES = 3


def body_fingerprint(data: dict) -> str:
    """What identifies a request's body: the same body, the same fingerprint."""
    return hashlib.sha256(
        json.dumps(data, sort_keys=True, default=str).encode()
    ).hexdigest()


def idempotent_write(
    work: Callable[[], tuple[T, bool]], lookup: Callable[[], T | None], on_mismatch
) -> tuple[T, bool]:
    """Run `work` in a durable transaction; if a concurrent writer took the same
    idempotency key first (unique violation), answer from the row it wrote.

    A serialization failure or deadlock reruns the whole transaction up to
    MAX_RETRIES times after a short random pause, then re-raises. Rerunning is
    safe because durable=True means nothing outside it was part of the attempt."""
    attempt = 0
    while True:
        try:
            with transaction.atomic(durable=True):
                return work()
        except IntegrityError:
            existing = lookup()
            if existing is None:
                raise
            return on_mismatch(existing)
        except OperationalError as exc:
            sqlstate = getattr(exc.__cause__, "sqlstate", None)
            if sqlstate not in RETRYABLE_SQLSTATES or attempt >= MAX_RETRIES:
                raise
            attempt += 1
            # Jitter so that the two sides of a deadlock don't collide again.
            time.sleep(random.uniform(0.005, 0.02) * 2**attempt)  # noqa: S311
