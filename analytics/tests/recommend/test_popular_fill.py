"""The popular fill: a newcomer with neither history nor interests, or a list
shorter than asked, gets the items most bought lately, never an item no
longer sold, nothing twice and nothing they buy anyway.

Items (NOW = the nightly rebuild):

    OLD    60 baskets, all 40–300 days before NOW    (no longer sold)
    HOT    12 baskets in the last 30 days
    WARM    8 baskets in the last 30 days (and 20 before: popular over the
           year too, but lately behind HOT)
    COLD    4 baskets in the last 30 days
    TEA-1   3 baskets in the last 30 days, category tea
"""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.models import ItemStat
from analytics.selectors.recommend import (
    ItemInfo,
    ItemModel,
    MemberHistory,
    rank_items,
    recommendations_for,
)
from analytics.selectors.recommend_eval import recommend_evaluate
from analytics.selectors.recommend_popular import popular_fill, popular_items_recent
from analytics.services.recommend import copurchase_refresh
from analytics.tests.recs_data import NOW, Line, members_make, purchases_make
from members.services import member_interests_set
from members.tests.factories import InterestFactory

pytestmark = pytest.mark.django_db

POPULAR = "Popular right now"


def _days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


@pytest.fixture
def sold(store):
    buyers = members_make(6, store)
    specs = []
    for i in range(60):
        specs.append((buyers[i % 6], _days_ago(40 + i * 4), None, [Line("OLD")], None))
    for i in range(20):
        specs.append((buyers[i % 6], _days_ago(45 + i * 5), None, [Line("WARM")], None))
    for sku, n in (("HOT", 12), ("WARM", 8), ("COLD", 4)):
        for i in range(n):
            specs.append((buyers[i % 6], _days_ago(1 + i * 2), None, [Line(sku)], None))
    for i in range(3):
        specs.append((buyers[i], _days_ago(3 + i), None, [Line("TEA-1", "tea")], None))
    purchases_make(store, specs)
    copurchase_refresh(now=NOW)
    return buyers


def test_the_nightly_rebuild_counts_the_recent_baskets(sold):
    recent = dict(ItemStat.objects.values_list("sku", "recent_baskets"))
    assert recent == {"OLD": 0, "WARM": 8, "HOT": 12, "COLD": 4, "TEA-1": 3}
    assert ItemStat.objects.get(sku="WARM").baskets == 28
    assert [row[0] for row in popular_items_recent()] == [
        "HOT",
        "WARM",
        "COLD",
        "TEA-1",
    ]


def test_a_newcomer_with_nothing_to_go_on_gets_the_popular_items(sold, store):
    newcomer = members_make(1, store)[0]
    recs = recommendations_for(newcomer, n=3)
    assert [r.sku for r in recs] == ["HOT", "WARM", "COLD"]
    assert {r.reason for r in recs} == {POPULAR}
    assert recs[0].name == "Item HOT"


def test_an_item_no_longer_sold_is_never_offered(sold, store):
    newcomer = members_make(1, store)[0]
    recs = recommendations_for(newcomer, n=10)
    assert [r.sku for r in recs] == ["HOT", "WARM", "COLD", "TEA-1"]
    assert "OLD" not in {r.sku for r in recs}  # the most bought of the year


def test_stated_interests_come_first_then_the_fill_without_repeats(sold, store):
    newcomer = members_make(1, store)[0]
    tea = InterestFactory(code="tea-lover", purchase_categories="tea")
    member_interests_set(member=newcomer, interests=[tea])
    recs = recommendations_for(newcomer, n=3)
    assert [(r.sku, r.reason) for r in recs] == [
        ("TEA-1", "Matches your interests"),
        ("HOT", POPULAR),
        ("WARM", POPULAR),
    ]


def test_the_fill_leaves_out_what_the_member_buys_anyway():
    info = {s: ItemInfo(s, s, "", 10) for s in ("HOT", "WARM", "COLD")}
    model = ItemModel(
        pairs={}, stats=info, by_category={}, popular=["HOT", "WARM", "COLD"]
    )
    history = MemberHistory(baskets=4, items={"HOT": 4}, categories={"": 4}, info=info)
    assert history.always_bought() == {"HOT"}
    assert [r.sku for r in rank_items(history, model, n=2, fill=True)] == [
        "WARM",
        "COLD",
    ]
    # Without the fill, the method as it was: HOT is left out, nothing else.
    assert rank_items(history, model, n=2) == []


def test_popular_fill_adds_only_what_is_missing():
    popular = ["A", "B", "C", "D"]
    assert popular_fill(popular, taken=["B"], leave_out=["A"], n=3) == ["C", "D"]
    assert popular_fill(popular, taken=["A", "B", "C"], leave_out=[], n=3) == []
    assert popular_fill(["A", "A", "B"], taken=[], leave_out=[], n=3) == ["A", "B"]


def test_a_full_list_reads_no_popular_items(sold, django_assert_max_num_queries):
    regular = sold[0]
    with django_assert_max_num_queries(3 + 4) as ran:  # history, tables
        recs = recommendations_for(regular, n=1)
    assert len(recs) == 1 and recs[0].reason != POPULAR
    fill_reads = [q for q in ran.captured_queries if '"recent_baskets" >' in q["sql"]]
    assert not fill_reads


def test_the_evaluation_scores_the_fill_for_newcomers(sold, store):
    """Newcomers who buy the popular items after the cut: the history and the
    interests have nothing for them, the fill does."""
    cut = NOW - dt.timedelta(days=1)
    for member in members_make(5, store):
        purchases_make(store, [(member, NOW, None, [Line("HOT")], None)])
    result = recommend_evaluate(cut=cut, ks=(1, 3), horizon_days=2, min_baskets=0)
    newcomers = {row.k: row for row in result.thin_rows}
    assert result.thin_members == 5
    assert newcomers[1].ours == newcomers[1].with_interests == 0.0
    assert newcomers[1].with_fill == 1.0
    for row in result.rows:
        assert row.with_fill >= row.with_interests
