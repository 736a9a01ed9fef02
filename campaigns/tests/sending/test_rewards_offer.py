"""`{{ reward }}` in a campaign names a reward the member may take: one for their
tier (or for every tier), active and in stock."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from campaigns.models import CampaignChunk, Message
from campaigns.sending.chunks import campaign_chunk_send
from campaigns.sending.rendering import campaign_render, rewards_by_cost
from campaigns.sending.services import campaign_send_now
from campaigns.tests.factories import campaign_make, members_bulk
from rewards.models import PointsAccount
from rewards.services import points_account_create
from rewards.tests.factories import RewardFactory, TierFactory

pytestmark = pytest.mark.django_db

TEXT = "{{ reward }} for {{ reward_points }}"


@pytest.fixture
def catalog():
    gold, silver = TierFactory(name="Gold"), TierFactory(name="Silver")
    lounge = RewardFactory(name="Gold lounge", points_cost=50)
    lounge.tiers.set([gold])
    RewardFactory(name="Retired", points_cost=20, is_active=False)
    RewardFactory(name="Sold out", points_cost=30, stock=0)
    RewardFactory(
        name="Not yet",
        points_cost=40,
        active_from=timezone.now() + dt.timedelta(days=1),
    )
    RewardFactory(name="Coffee", points_cost=100)
    return gold, silver


def _members_in(tiers):
    members = members_bulk(len(tiers))
    for member, tier in zip(members, tiers, strict=True):
        points_account_create(member=member)
        PointsAccount.objects.filter(member=member).update(tier=tier)
    return members


def test_rewards_by_cost_lists_available_rewards_with_their_tiers(
    catalog, django_assert_num_queries
):
    gold, _silver = catalog
    with django_assert_num_queries(1):
        offers = rewards_by_cost()
    assert offers == [
        ("Gold lounge", 50, frozenset({gold.pk})),
        ("Coffee", 100, frozenset()),
    ]


def test_preview_offers_each_member_a_reward_of_their_tier(catalog):
    gold, silver = catalog
    in_gold, in_silver, untiered = _members_in([gold, silver, None])
    campaign = campaign_make(body_a=TEXT)
    variant = campaign.variants.get()

    def body(member):
        return campaign_render(campaign=campaign, variant=variant, member=member)[2]

    assert body(in_gold) == "Gold lounge for 50"
    assert body(in_silver) == "Coffee for 100"
    assert body(untiered) == "Coffee for 100"


def test_sent_campaign_offers_each_member_a_reward_of_their_tier(catalog):
    gold, silver = catalog
    in_gold, in_silver, untiered = _members_in([gold, silver, None])
    campaign = campaign_make(body_a=TEXT, holdout_percent=0)
    with mock.patch("campaigns.sending.services._chunks_queue"):
        run = campaign_send_now(campaign=campaign)
    for chunk in CampaignChunk.objects.filter(run=run):
        campaign_chunk_send(chunk_id=chunk.pk)

    bodies = dict(
        Message.objects.filter(campaign=campaign).values_list("member_id", "body")
    )
    assert bodies == {
        in_gold.pk: "Gold lounge for 50",
        in_silver.pk: "Coffee for 100",
        untiered.pk: "Coffee for 100",
    }
