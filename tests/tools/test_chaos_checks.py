"""`make chaos` reports what the tills were told and the database disagrees on."""

import sys
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone

from campaigns.messaging.services import INTERRUPTED
from rewards.services import purchase_record, purchase_return_record

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent / "bench"))
import chaos  # noqa: E402

pytestmark = pytest.mark.django_db


def test_a_clean_run_has_no_violations(store, member):
    purchase, _ = purchase_record(
        store=store, member=member, receipt_id="A1", total="100"
    )
    purchase_return_record(purchase=purchase, receipt_id="B1", amount="50", store=store)
    book = chaos.Ledgerbook(purchases={"A1": 100}, returns={"B1": 50})
    assert chaos.checks(book, None) == []


def test_lost_or_misreported_writes_are_violations(store, member):
    purchase_record(store=store, member=member, receipt_id="A1", total="100")
    book = chaos.Ledgerbook(
        purchases={"A1": 99, "A2": 10}, returns={"B9": 5}, redemptions={"S1": 5}
    )
    assert chaos.checks(book, None) == [
        "purchase A1: till told 99, ledger says 100",
        "acknowledged purchase A2 is missing",
        "acknowledged return B9 stored 0 times",
        "acknowledged redemption S1 stored 0 times",
    ]


def _campaign_messages(statuses: list[tuple[str, str]]):
    """A sent campaign with one message per (status, error), each to its own
    member, as a chaos run leaves them."""
    from campaigns.models import Campaign, CampaignStatus, Message
    from campaigns.tests.factories import campaign_make, members_bulk

    campaign = campaign_make()
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENT)
    members = members_bulk(len(statuses))
    messages = [
        Message.objects.create(
            member=member,
            key=f"campaign:{campaign.pk}:1",
            kind="campaign",
            marketing=True,
            channel="email",
            to=member.email,
            language="en",
            subject="Offer",
            body="20% off",
            campaign=campaign,
            status=status,
            error=error,
            sent_at=timezone.now() if status != "queued" else None,
            claim="c" if status == "sending" else "",
            attempts=0 if status == "queued" else 1,
        )
        for member, (status, error) in zip(members, statuses, strict=True)
    ]
    return campaign, messages


def test_more_interrupted_messages_than_dead_workers_is_a_violation(db):
    campaign, _messages = _campaign_messages(
        [("sent", ""), ("failed", INTERRUPTED), ("failed", INTERRUPTED)]
    )
    book = chaos.Ledgerbook()

    assert chaos.checks(book, campaign.pk, interruptions_allowed=2) == []
    assert chaos.checks(book, campaign.pk, interruptions_allowed=1) == [
        "2 campaign messages interrupted, more than the 1 worker processes that died"
    ]


def test_messages_left_sending_are_a_violation(db):
    campaign, _messages = _campaign_messages([("sent", ""), ("sending", "")])

    assert chaos.campaign_check(campaign.pk, interruptions_allowed=1) == [
        "1 campaign messages left in 'sending'"
    ]


def test_recovery_after_the_run_fails_the_message_in_flight_and_sends_the_rest(db):
    campaign, messages = _campaign_messages(
        [("sent", ""), ("sending", ""), ("sending", ""), ("sending", "")]
    )

    assert chaos.campaign_recover() == (2, 1)

    assert chaos.campaign_interrupted(campaign.pk) == 1
    assert chaos.campaign_check(campaign.pk, interruptions_allowed=1) == []
    assert len(mail.outbox) == 2
    assert {m.to[0] for m in mail.outbox} == {messages[2].to, messages[3].to}
