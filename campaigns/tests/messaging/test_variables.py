"""`recommended` and `reward_suggestion` in campaign and journey texts: the
values analytics.selectors.recommend gives, computed only when a text uses them, with a
bounded cost per chunk."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics.campaign_hooks import Suggestions
from analytics.selectors.recommend import recommendations_for
from analytics.selectors.recommend_reward import reward_suggestion_for
from analytics.tests.member360.test_member360 import purchase_history_make
from campaigns.journeys.render import render, variables_unknown
from campaigns.messaging.templating import LazyValue, template_check
from campaigns.models import CampaignChunk, CampaignVariant
from campaigns.sending.chunks import campaign_chunk_send
from campaigns.sending.rendering import campaign_render
from campaigns.sending.services import campaign_send_now
from campaigns.tests.factories import campaign_make, segment_of
from members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

TEXT = "Try {{ recommended }}. Aim for {{ reward_suggestion }}."


@pytest.fixture
def shopper(member, store, manager):
    purchase_history_make(member, store, manager, 4)
    return member


def test_campaign_text_renders_the_members_recommendations_and_reward(shopper):
    expected_items = ", ".join(r.name for r in recommendations_for(shopper, n=3))
    suggestion = reward_suggestion_for(shopper)
    assert expected_items and suggestion is not None
    campaign = campaign_make(segment=segment_of([shopper]), body_a=TEXT)
    variant = CampaignVariant.objects.get(campaign=campaign, label="A")
    _language, _subject, body = campaign_render(
        campaign=campaign, variant=variant, member=shopper
    )
    assert body == f"Try {expected_items}. Aim for {suggestion.reward.name}."


def test_the_variables_are_known_to_campaigns_and_journeys():
    assert template_check(TEXT).unknown == []
    assert variables_unknown(TEXT, kind="win_back") == []


def test_a_member_without_purchases_gets_empty_values(member):
    suggestions = Suggestions([member.pk])
    assert suggestions.recommended(member) == ""
    context = suggestions.context(member)
    assert str(context["recommended"]) == ""


def test_lazy_value_is_computed_once_and_only_when_used():
    compute = mock.Mock(return_value="Cake, Tea")
    value = LazyValue(compute)
    assert render("Hello {{ first_name }}", {"recommended": value}) == "Hello "
    compute.assert_not_called()
    assert render("{{ recommended }} / {{ recommended }}", {"recommended": value}) == (
        "Cake, Tea / Cake, Tea"
    )
    compute.assert_called_once()


def _chunk_queries(members, body: str) -> tuple[int, str]:
    campaign = campaign_make(segment=segment_of(members), body_a=body)
    with mock.patch("campaigns.sending.services._chunks_queue"):
        run = campaign_send_now(campaign=campaign)
    chunk = CampaignChunk.objects.get(run=run)
    with (
        mock.patch("campaigns.messaging.delivery.message_deliver", return_value=None),
        CaptureQueriesContext(connection) as ctx,
    ):
        campaign_chunk_send(chunk_id=chunk.pk)
    sql = " ".join(q["sql"] for q in ctx.captured_queries).lower()
    return len(ctx.captured_queries), sql


def test_a_text_without_the_variables_reads_no_history(shopper, store):
    members = [shopper, *(MemberFactory(store=store) for _ in range(3))]
    _n, sql = _chunk_queries(members, "Hi {{ first_name }}")
    assert "purchaseline" not in sql
    assert "copurchase" not in sql


def test_chunk_cost_with_the_variables_is_bounded_per_member(shopper, store):
    """Per chunk: three queries for the histories of all its members, then per
    member at most four for `recommended` and three for `reward_suggestion`."""
    members = [shopper, *(MemberFactory(store=store) for _ in range(3))]
    plain, _sql = _chunk_queries(members, "Hi {{ first_name }}")
    with_vars, sql = _chunk_queries(members, TEXT)
    assert "purchaseline" in sql
    assert 0 < with_vars - plain <= 3 + 7 * len(members)
