"""Stated interests in the recommendations: they weigh in for a thin history
only, and on planted data they beat the history-alone method there."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from analytics.selectors.recommend import (
    MemberHistory,
    member_histories,
    member_history,
    rank_items,
    recommendations_for,
)
from analytics.selectors.recommend_eval import item_model_build, recommend_evaluate
from analytics.selectors.recommend_interests import (
    THIN_BASKETS,
    interest_weight,
    member_interest_categories,
)
from analytics.services.recommend import copurchase_refresh
from analytics.tests.recs_data import NOW, Line, members_make, purchases_make
from members.services import member_interests_set
from members.tests.factories import InterestFactory

pytestmark = pytest.mark.django_db

CATEGORIES = ["coffee", "tea", "bakery", "snacks"]
ITEMS = {cat: [f"{cat[:3].upper()}-{i}" for i in range(4)] for cat in CATEGORIES}
CUT = NOW - dt.timedelta(days=60)


def _line(rng, category):
    return Line(rng.choice(ITEMS[category]), category)


def planted(store, *, thin_baskets: int, members: int = 40, seed: int = 7):
    """Everybody buys from the category of their stated interest; `thin_baskets`
    baskets before the cut for the members under test, plus twenty regulars of
    every category who fill the item tables."""
    rng = random.Random(seed)
    interests = {
        cat: InterestFactory(code=f"likes-{cat}", purchase_categories=cat)
        for cat in CATEGORIES
    }
    specs = []
    regulars = members_make(20, store)
    for i, member in enumerate(regulars):
        cat = CATEGORIES[i % 4]
        for _ in range(8):
            at = CUT - dt.timedelta(days=rng.uniform(1, 300))
            specs.append(
                (member, at, None, [_line(rng, cat), _line(rng, "snacks")], None)
            )
    people = members_make(members, store)
    for i, member in enumerate(people):
        cat = CATEGORIES[i % 3]  # coffee, tea, bakery: not the bestselling snacks
        member_interests_set(member=member, interests=[interests[cat]])
        for _ in range(thin_baskets):
            other = rng.choice(CATEGORIES)  # a first visit says little
            at = CUT - dt.timedelta(days=rng.uniform(1, 100))
            specs.append((member, at, None, [_line(rng, other)], None))
        for _ in range(2):
            at = CUT + dt.timedelta(days=rng.uniform(0, 59))
            specs.append((member, at, None, [_line(rng, cat)], None))
    purchases_make(store, specs)
    return people, interests


def test_interests_weigh_only_while_the_history_is_thin():
    liked = frozenset({"coffee"})
    assert interest_weight(0, liked) == 1.0
    assert interest_weight(1, liked) == pytest.approx(2 / 3)
    assert interest_weight(THIN_BASKETS, liked) == 0.0
    assert interest_weight(0, frozenset()) == 0.0


def test_interest_categories_skip_inactive_interests(store):
    member = members_make(1, store)[0]
    coffee = InterestFactory(purchase_categories="coffee, beans")
    gone = InterestFactory(purchase_categories="tea", active=False)
    member_interests_set(member=member, interests=[coffee, gone])
    assert member_interest_categories([member.pk]) == {
        member.pk: frozenset({"coffee", "beans"})
    }


def test_a_member_with_no_history_gets_items_of_their_interests(store):
    _people, interests = planted(store, thin_baskets=0, members=3)
    copurchase_refresh(now=NOW)
    newcomer = members_make(1, store)[0]
    # Nothing to go on: the items most bought lately (test_popular_fill).
    before = recommendations_for(newcomer, n=3)
    assert {r.reason for r in before} == {"Popular right now"}
    member_interests_set(member=newcomer, interests=[interests["tea"]])
    assert member_history(member_id=newcomer.pk).interests == frozenset({"tea"})
    recs = recommendations_for(newcomer, n=3)
    assert len(recs) == 3 and {r.category for r in recs} == {"tea"}
    assert recs[0].reason == "Matches your interests"


def test_a_rich_history_ignores_the_interests(store):
    people, _interests = planted(store, thin_baskets=THIN_BASKETS, members=3)
    model = item_model_build(since=CUT - dt.timedelta(days=365), until=CUT)
    pk = people[0].pk
    history = member_histories(
        member_ids=[pk], since=CUT - dt.timedelta(days=365), until=CUT
    )[pk]
    assert history.baskets == THIN_BASKETS and history.interests == frozenset()
    stated = MemberHistory(
        baskets=history.baskets,
        items=history.items,
        categories=history.categories,
        info=history.info,
        interests=frozenset({"coffee"}),
    )
    assert rank_items(stated, model, n=5) == rank_items(history, model, n=5)


def test_interests_beat_the_history_alone_for_newcomers(store):
    planted(store, thin_baskets=0)
    result = recommend_evaluate(cut=CUT, ks=(1, 3), min_baskets=0)
    assert result.thin_members == 40 and result.members == 40
    for row in result.thin_rows:
        assert row.ours == 0.0  # no history: nothing to go on
        # They buy two of the four items of the category they said they like.
        assert row.with_interests > 0.25, row
    # The default evaluation leaves them out (fewer than two baskets).
    assert recommend_evaluate(cut=CUT, ks=(1,)).members == 0


def test_one_basket_keeps_its_item_first_and_interests_follow(store):
    planted(store, thin_baskets=1)
    result = recommend_evaluate(cut=CUT, ks=(1, 5), min_baskets=1)
    by_k = {row.k: row for row in result.thin_rows}
    assert by_k[1].with_interests >= by_k[1].ours  # W_OWN: their one item first
    assert by_k[5].with_interests > by_k[5].ours, by_k[5]
