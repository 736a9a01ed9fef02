"""Taps racing on one leaving occasion (a double tap, a retried POST, two
tabs) leave one answer, the last one written; other occasions are untouched.
PostgreSQL only: SQLite serializes all writers."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from members.models import LeaveAnswer, LeaveReason, LeaveTrigger
from members.services import leave_reason_record
from members.tests.factories import MemberFactory, StoreFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def _together(n: int, work) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def target(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - the test reads what each got
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(t.is_alive() for t in threads), "a thread is stuck (deadlock?)"
    return results


def test_racing_taps_on_one_occasion_leave_one_answer():
    for code in ("price", "service"):
        LeaveReason.objects.get_or_create(code=code, defaults={"name": code})
    member = MemberFactory(store=StoreFactory(code="race", name="Race Street"))

    results = _together(
        THREADS,
        lambda i: leave_reason_record(
            member=member,
            trigger=LeaveTrigger.WIN_BACK,
            reason="price" if i % 2 else "service",
            key="journey:winback:1" if i < THREADS - 1 else "journey:winback:2",
        ),
    )

    assert not [r for r in results if isinstance(r, Exception)]
    rows = LeaveAnswer.objects.filter(member=member).order_by("key")
    assert [r.key for r in rows] == ["journey:winback:1", "journey:winback:2"]
    assert {r.pk for r in results[: THREADS - 1]} == {rows[0].pk}
