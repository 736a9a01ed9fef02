"""Ledger services rerun a transaction that PostgreSQL aborted as a deadlock or a
serialization failure, a bounded number of times; other errors pass straight up."""

from __future__ import annotations

import threading

import psycopg.errors
import pytest
from django.db import OperationalError, connection
from django.db.models import Sum

from members.tests.factories import MemberFactory, StoreFactory
from rewards.locks import account_lock
from rewards.models import LedgerEntry, LedgerKind, PointsAccount
from rewards.services import idempotency
from rewards.services.ledger import entry_post


def _never_replayed():
    return None


def _wrapped(cause: Exception) -> OperationalError:
    """What Django's error wrapper raises: OperationalError from the driver's error."""
    try:
        raise OperationalError(str(cause)) from cause
    except OperationalError as exc:
        return exc


@pytest.fixture
def no_sleep(monkeypatch):
    monkeypatch.setattr(idempotency.time, "sleep", lambda seconds: None)


@pytest.mark.django_db
def test_a_non_retryable_operational_error_is_not_retried(no_sleep):
    calls = []

    def work():
        calls.append(1)
        raise _wrapped(psycopg.errors.QueryCanceled("canceling statement"))

    with pytest.raises(OperationalError, match="canceling statement"):
        idempotency.idempotent_write(work, _never_replayed, None)

    assert len(calls) == 1


@pytest.mark.django_db
def test_an_operational_error_without_a_driver_cause_is_not_retried(no_sleep):
    calls = []

    def work():
        calls.append(1)
        raise OperationalError("database is locked")

    with pytest.raises(OperationalError, match="database is locked"):
        idempotency.idempotent_write(work, _never_replayed, None)

    assert len(calls) == 1


@pytest.mark.django_db
def test_a_persistent_serialization_failure_is_retried_three_times_then_raised(
    no_sleep,
):
    calls = []

    def work():
        calls.append(1)
        raise _wrapped(psycopg.errors.SerializationFailure("could not serialize"))

    with pytest.raises(OperationalError, match="could not serialize"):
        idempotency.idempotent_write(work, _never_replayed, None)

    assert len(calls) == 1 + idempotency.MAX_RETRIES


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_deadlock_is_retried_and_both_writers_succeed():
    """Two transactions lock two accounts in opposite orders (what rewards.locks
    exists to prevent), so PostgreSQL really detects a deadlock and aborts one;
    idempotent_write must rerun that one, and both entries must land exactly once."""
    store = StoreFactory(code="dl", name="Deadlock Street")
    accounts = [
        PointsAccount.objects.get(member=MemberFactory(store=store)) for _ in range(2)
    ]
    barrier = threading.Barrier(2)
    attempts = [0, 0]
    results: list[object] = [None, None]

    def writer(i: int) -> None:
        first, second = accounts[i], accounts[1 - i]

        def work():
            attempts[i] += 1
            mine = account_lock(member_id=first.member_id)
            if attempts[i] == 1:
                barrier.wait(timeout=10)  # both hold their first lock now
            account_lock(member_id=second.member_id)
            entry = entry_post(
                account=mine, kind=LedgerKind.ADJUST, points=10, reason=f"w{i}"
            )
            return entry, False

        try:
            results[i] = idempotency.idempotent_write(work, _never_replayed, None)
        except Exception as exc:  # noqa: BLE001 - inspected below
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert not any(t.is_alive() for t in threads)
    assert not any(isinstance(r, Exception) for r in results), results
    assert sorted(attempts) == [1, 2]  # exactly one side was the deadlock victim
    for account in accounts:
        account.refresh_from_db()
        total = LedgerEntry.objects.filter(account=account).aggregate(s=Sum("points"))
        assert account.balance == total["s"] == 10
