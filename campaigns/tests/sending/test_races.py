"""Two copies of the same chunk at the same time on PostgreSQL (threads): one
message per member, each sent once, the chunk counted once."""

from __future__ import annotations

import threading
from unittest import mock

import pytest
from django.core import mail
from django.db import connection

from campaigns.models import CampaignChunk, CampaignRun, Message, MessageStatus
from campaigns.sending.chunks import campaign_chunk_send
from campaigns.sending.services import campaign_send_now
from campaigns.tests.factories import campaign_make, members_bulk
from rewards.models import Voucher
from rewards.tests.factories import RewardFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _twice_at_once(chunk_id: int) -> list:
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(campaign_chunk_send(chunk_id=chunk_id))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return results


def test_same_chunk_twice_concurrently_sends_each_message_once(settings):
    settings.CAMPAIGN_CHUNK_SIZE = 1000
    members_bulk(60)
    campaign = campaign_make()
    with mock.patch("campaigns.sending.services._chunks_queue"):
        run = campaign_send_now(campaign=campaign)
    chunk = CampaignChunk.objects.get(run=run)

    results = _twice_at_once(chunk.pk)

    assert Message.objects.filter(campaign=campaign).count() == 60
    assert (
        Message.objects.filter(campaign=campaign, status=MessageStatus.SENT).count()
        == 60
    )
    assert len(mail.outbox) == 60
    assert len({m.to[0] for m in mail.outbox}) == 60
    delivered = sum(r.delivered for r in results if r is not None)
    assert delivered == 60
    run = CampaignRun.objects.get(pk=run.pk)
    assert (run.chunks_done, run.status) == (1, "sent")


def test_coupon_chunk_twice_concurrently_grants_one_voucher_each(settings):
    settings.CAMPAIGN_CHUNK_SIZE = 1000
    members = members_bulk(20)
    from rewards.services import points_account_create

    for m in members:
        points_account_create(member=m)
    reward = RewardFactory(name="Free coffee")
    campaign = campaign_make(
        promotion="coupon", coupon_reward=reward, body_a="Your code: {{ coupon_code }}"
    )
    with mock.patch("campaigns.sending.services._chunks_queue"):
        run = campaign_send_now(campaign=campaign)

    _twice_at_once(CampaignChunk.objects.get(run=run).pk)

    assert Voucher.objects.filter(reward=reward).count() == 20
    codes = {v.member_id: v.code for v in Voucher.objects.filter(reward=reward)}
    for message in Message.objects.filter(campaign=campaign):
        assert message.body == f"Your code: {codes[message.member_id]}"
    assert len(mail.outbox) == 20


def test_two_dispatchers_at_once_start_a_due_campaign_once():
    import datetime as dt

    from django.utils import timezone

    from campaigns.models import CampaignRun
    from campaigns.sending.services import campaign_schedule, campaigns_dispatch_due

    members_bulk(5)
    campaign = campaign_make()
    campaign_schedule(campaign=campaign, at=timezone.now() - dt.timedelta(seconds=1))
    barrier = threading.Barrier(2)
    started, errors = [], []

    def dispatch():
        try:
            barrier.wait(timeout=10)
            with mock.patch("campaigns.sending.services._chunks_queue"):
                started.append(campaigns_dispatch_due())
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatch) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert not errors, errors
    assert sorted(started) == [0, 1]
    assert CampaignRun.objects.filter(campaign=campaign).count() == 1
