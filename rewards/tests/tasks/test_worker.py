"""Nightly jobs run by a real Celery worker (in-process, in-memory broker)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from loyalty_site.celery import app
from members.models import OneTimeCode
from members.tasks import otp_purge_expired
from rewards.models import PointsAccount
from rewards.services import points_adjust, purchase_record
from rewards.tasks import ledger_verify
from tests.celery_worker import worker_running

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def celery_worker():
    with worker_running() as worker:
        yield worker


@pytest.fixture
def worker(celery_worker, db):
    return celery_worker


def test_ledger_verify_reports_nothing_on_a_clean_ledger(worker, store, member):
    purchase_record(store=store, member=member, receipt_id="R1", total="120.00")
    points_adjust(member=member, points=-20, reason="Fix", created_by=None)

    assert ledger_verify.delay().get(timeout=20) == 0


def test_ledger_verify_reports_a_corrupted_balance(worker, store, member):
    purchase_record(store=store, member=member, receipt_id="R1", total="120.00")
    # What a buggy raw write would do: the cache no longer matches the entries.
    PointsAccount.objects.filter(member=member).update(balance=999)

    # Two checks see it: the sum of the entries and the points lots.
    assert ledger_verify.delay().get(timeout=20) == 2


def _code(member, expired_ago: dt.timedelta) -> OneTimeCode:
    """A code that expired `expired_ago`; the member's earlier codes are voided
    (used up), as otp_send does: a member has one unused code at most."""
    OneTimeCode.objects.filter(member=member, used_at=None).update(
        used_at=timezone.now()
    )
    return OneTimeCode.objects.create(
        member=member,
        purpose=OneTimeCode.Purpose.CLAIM,
        channel="sms",
        destination=member.phone,
        code_hash="x",
        expires_at=timezone.now() - expired_ago,
    )


def test_otp_purge_expired_deletes_only_old_codes(worker, member):
    old = _code(member, dt.timedelta(days=2))
    recent = _code(member, dt.timedelta(hours=1))
    live = _code(member, -dt.timedelta(minutes=5))

    # By name, as a producer without the task's code sends it.
    purge = app.send_task("members.tasks.otp_purge_expired")
    assert purge.get(timeout=20) == 1

    assert set(OneTimeCode.objects.values_list("pk", flat=True)) == {
        recent.pk,
        live.pk,
    }
    assert not OneTimeCode.objects.filter(pk=old.pk).exists()
    # Running it again is harmless.
    assert app.send_task("members.tasks.otp_purge_expired").get(timeout=20) == 0


def test_otp_purge_expired_can_be_queued_like_beat_does(worker, member):
    _code(member, dt.timedelta(days=2))

    assert otp_purge_expired.delay().get(timeout=20) == 1
