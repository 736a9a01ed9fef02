"""RFM scores and segments: the SQL against a plain Python reference."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from analytics.models import MemberRFM, RFMSegment
from analytics.selectors.rfm import (
    GOOD_SEGMENTS,
    quintile,
    rfm_segment_q,
    rfm_segment_summary,
    segment_for,
)
from analytics.services.rfm import rfm_refresh, rfm_segment_to_campaign_segment
from analytics.tests.recs_data import NOW, Line, members_make, purchases_make
from campaigns.models import SegmentKind, SegmentStaticMember
from campaigns.segments.selectors import segment_members
from members.errors import InvalidInput
from members.models import Member

pytestmark = pytest.mark.django_db

WINDOW = 365
NEW_DAYS = 90


def _scores(values: dict[int, object]) -> dict[int, int]:
    """Quintile scores by rank, written out plainly: a value's score is
    1 + 5 × (how many values are smaller) // n, so equal values score equally."""
    ordered = sorted(values.values())
    n = len(ordered)
    return {
        key: 1 + 5 * sum(1 for other in ordered if other < value) // n
        for key, value in values.items()
    }


def _reference(history: dict[int, list[tuple[dt.datetime, Decimal, Decimal]]]):
    start = NOW - dt.timedelta(days=WINDOW)
    stats = {}
    for member_id, rows in history.items():
        if not rows:
            continue
        in_window = [(at, t, r) for at, t, r in rows if at >= start]
        stats[member_id] = {
            "first": min(at for at, _t, _r in rows),
            "last": max(at for at, _t, _r in rows),
            "freq": len(in_window),
            "money": sum((t - r for _at, t, r in in_window), Decimal("0")),
        }
    active = [m for m, s in stats.items() if s["freq"] > 0]
    r = _scores({m: stats[m]["last"] for m in active})
    f = _scores({m: stats[m]["freq"] for m in active})
    mo = _scores({m: stats[m]["money"] for m in active})
    scores = {m: (r[m], f[m], mo[m]) for m in active}
    for m, s in stats.items():
        if s["freq"] == 0:
            scores[m] = (1, 1, 1)
    return stats, scores


def test_scores_and_segments_match_a_python_reference(store):
    rng = random.Random(7)
    members = members_make(48, store)
    specs, history = [], {}
    for member in members:
        history[member.pk] = []
        for _ in range(rng.choice([0, 1, 1, 2, 3, 5, 8, 13])):
            at = NOW - dt.timedelta(days=rng.uniform(0, 540), minutes=rng.randrange(60))
            total = Decimal(rng.randrange(1000, 90000)) / 100
            returned = total / 2 if rng.random() < 0.1 else Decimal("0")
            returned = returned.quantize(Decimal("0.01"))
            specs.append((member, at, total, [Line("X", amount=total)], returned))
            history[member.pk].append((at, total, returned))
    purchases_make(store, specs)

    scored = rfm_refresh(now=NOW, window_days=WINDOW, chunk_size=7)

    stats, expected = _reference(history)
    rows = {row.member_id: row for row in MemberRFM.objects.all()}
    assert scored == len(expected) == len(rows)
    assert len(rows) < len(members)  # members who never bought get no row
    for member_id, (r, f, m) in expected.items():
        row = rows[member_id]
        assert (row.r_score, row.f_score, row.m_score) == (r, f, m), member_id
        new = stats[member_id]["first"] >= NOW - dt.timedelta(days=NEW_DAYS)
        assert row.segment == segment_for(r, f, m, new_member=new)
        assert row.frequency == stats[member_id]["freq"]
        assert row.monetary == stats[member_id]["money"]
    lapsed = [m for m, s in stats.items() if s["freq"] == 0]
    assert lapsed, "the data should hold members who last bought before the window"
    assert {rows[m].segment for m in lapsed} == {RFMSegment.LOST}


def test_refresh_twice_replaces_rows_and_drops_members_without_purchases(store):
    first, second = members_make(2, store)
    purchases_make(
        store,
        [
            (first, NOW - dt.timedelta(days=3), None, [Line("A")], None),
            (second, NOW - dt.timedelta(days=30), None, [Line("A")], None),
        ],
    )
    rfm_refresh(now=NOW - dt.timedelta(days=1))
    MemberRFM.objects.filter(member=second).update(
        computed_at=NOW - dt.timedelta(days=400)
    )
    from rewards.models import Purchase

    Purchase.objects.filter(member=second).delete()
    assert rfm_refresh(now=NOW) == 1
    assert list(MemberRFM.objects.values_list("member_id", "computed_at")) == [
        (first.pk, NOW)
    ]


@pytest.mark.parametrize(
    ("scores", "segment"),
    [
        ((5, 5, 5), RFMSegment.CHAMPIONS),
        ((5, 1, 1), RFMSegment.PROMISING),
        ((4, 1, 1), RFMSegment.PROMISING),
        ((4, 5, 4), RFMSegment.LOYAL),
        ((5, 2, 3), RFMSegment.POTENTIAL_LOYALISTS),
        ((3, 3, 3), RFMSegment.NEED_ATTENTION),
        ((3, 1, 2), RFMSegment.ABOUT_TO_SLEEP),
        ((2, 4, 3), RFMSegment.AT_RISK),
        ((1, 5, 5), RFMSegment.CANT_LOSE),
        ((2, 1, 2), RFMSegment.HIBERNATING),
        ((1, 1, 1), RFMSegment.LOST),
    ],
)
def test_segment_grid_names_the_standard_segments(scores, segment):
    assert segment_for(*scores) == segment


def test_every_segment_is_reached_and_new_only_by_a_new_member():
    triples = [(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)]
    old = {segment_for(*t) for t in triples}
    new = {segment_for(*t, new_member=True) for t in triples}
    assert old | new == set(RFMSegment.values)
    assert RFMSegment.NEW not in old
    # A newcomer is New unless they already buy often and well.
    assert new == GOOD_SEGMENTS | {RFMSegment.NEW}
    for r, f, m in triples:
        grid = segment_for(r, f, m)
        expected = grid if grid in GOOD_SEGMENTS and f > 1 else RFMSegment.NEW
        assert segment_for(r, f, m, new_member=True) == expected


@pytest.mark.parametrize(
    ("rank", "count", "score"),
    [(1, 10, 1), (2, 10, 1), (3, 10, 2), (10, 10, 5), (1, 1, 1), (7, 5, 5)],
)
def test_quintile_of_a_rank(rank, count, score):
    assert quintile(rank, count) == score


def test_members_who_joined_this_quarter_are_new_unless_they_already_buy_well(
    store, settings
):
    """36 members joined in the quarter and the page said New 0: their one
    purchase tied with many others' and NTILE gave the newest ids F = 2, and
    New needed F = M = 1. Now equal counts score equally and New is a matter of
    when the first purchase was."""
    settings.ANALYTICS_RFM_NEW_DAYS = NEW_DAYS
    old_timers = members_make(20, store)
    newcomers = members_make(12, store)
    keen = members_make(2, store)  # joined this quarter, buy every few days
    specs = []
    for i, member in enumerate(old_timers):
        # Members for most of a year: the first purchase 300 days ago, then
        # 1 to 20 more, the last 1 to 40 days ago.
        specs.append((member, NOW - dt.timedelta(days=300), None, [Line("A")], None))
        for k in range(i + 1):
            at = NOW - dt.timedelta(days=1 + i * 2 + k * 15)
            specs.append((member, at, Decimal(50 + 10 * i), [Line("A")], None))
    for i, member in enumerate(newcomers):
        # One purchase some days into the quarter; some spend a lot, which
        # alone made them Potential loyalists.
        at = NOW - dt.timedelta(days=2 + 6 * i)
        specs.append(
            (member, at, Decimal(900 if i % 3 == 0 else 80), [Line("A")], None)
        )
    for member in keen:
        for k in range(20):
            at = NOW - dt.timedelta(days=1 + 3 * k)
            specs.append((member, at, Decimal("300"), [Line("A")], None))
    purchases_make(store, specs)

    rfm_refresh(now=NOW, window_days=WINDOW)

    rows = {row.member_id: row for row in MemberRFM.objects.all()}
    assert {rows[m.pk].segment for m in newcomers} == {RFMSegment.NEW}
    assert {rows[m.pk].f_score for m in newcomers} == {1}  # ties score equally
    assert {rows[m.pk].segment for m in keen} <= GOOD_SEGMENTS
    assert RFMSegment.NEW not in {rows[m.pk].segment for m in old_timers}
    summary = {row.segment: row.members for row in rfm_segment_summary()}
    assert summary[RFMSegment.NEW] == len(newcomers)


def _scored_population(store, n=10):
    members = members_make(n, store)
    specs = []
    for i, member in enumerate(members):
        for k in range(i + 1):
            specs.append(
                (
                    member,
                    NOW - dt.timedelta(days=(n - i) * 20 + k),
                    Decimal(10 * (i + 1)),
                    [Line("A", amount=Decimal(10 * (i + 1)))],
                    None,
                )
            )
    purchases_make(store, specs)
    rfm_refresh(now=NOW)
    return members


def test_segment_summary_counts_members_and_revenue(store):
    _scored_population(store)
    summary = {row.segment: row for row in rfm_segment_summary()}
    assert set(summary) == set(RFMSegment.values)
    assert sum(row.members for row in summary.values()) == 10
    assert sum(row.revenue for row in summary.values()) == sum(
        Decimal(10 * (i + 1)) * (i + 1) for i in range(10)
    )
    for value in RFMSegment.values:
        assert summary[value].members == MemberRFM.objects.filter(segment=value).count()


def test_rfm_segment_q_selects_members_of_the_named_segments(store):
    _scored_population(store)
    names = [RFMSegment.CHAMPIONS, RFMSegment.LOST]
    expected = set(
        MemberRFM.objects.filter(segment__in=names).values_list("member_id", flat=True)
    )
    assert expected
    assert (
        set(Member.objects.filter(rfm_segment_q(names)).values_list("pk", flat=True))
        == expected
    )


def test_rfm_segment_q_refuses_unknown_names():
    with pytest.raises(InvalidInput, match="Unknown RFM segment: nobody"):
        rfm_segment_q(["champions", "nobody"])


def test_segment_to_campaign_segment_holds_exactly_the_members(
    store, marketer, django_assert_max_num_queries
):
    _scored_population(store)
    wanted = set(
        MemberRFM.objects.filter(segment=RFMSegment.CHAMPIONS).values_list(
            "member_id", flat=True
        )
    )
    assert wanted
    with django_assert_max_num_queries(8):
        segment = rfm_segment_to_campaign_segment(
            segment=RFMSegment.CHAMPIONS, created_by=marketer
        )
    assert segment.kind == SegmentKind.STATIC
    assert segment.created_by == marketer
    assert "Champions" in segment.name
    assert set(segment_members(segment).values_list("pk", flat=True)) == wanted
    assert SegmentStaticMember.objects.filter(segment=segment).count() == len(wanted)


def test_nightly_tasks_fill_both_tables(store):
    from django.utils import timezone

    from analytics.models import CoPurchase
    from analytics.tasks import copurchase_refresh, rfm_refresh

    (member,) = members_make(1, store)
    purchases_make(
        store,
        [
            (
                member,
                timezone.now() - dt.timedelta(days=2),
                None,
                [Line("A"), Line("B")],
                None,
            )
        ],
    )
    assert rfm_refresh.delay().get() == 1
    assert copurchase_refresh.delay().get() == 2
    assert MemberRFM.objects.get().segment
    assert CoPurchase.objects.count() == 2


def test_segment_to_campaign_segment_refuses_an_unknown_name():
    with pytest.raises(InvalidInput, match="Unknown RFM segment: vip"):
        rfm_segment_to_campaign_segment(segment="vip")


def test_campaign_segments_select_members_by_rfm_segment(db):
    """The "rfm" condition registered by analytics: one query, exact complement."""
    from campaigns.segments.definition import segment_q
    from campaigns.segments.selectors import segment_count
    from members.models import Member
    from members.tests.factories import MemberFactory

    champion, lost, unscored = MemberFactory(), MemberFactory(), MemberFactory()
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for member, name in ((champion, "champions"), (lost, "lost")):
        MemberRFM.objects.create(
            member=member, window_days=365, recency_days=1, frequency=1,
            monetary=Decimal(1), r_score=5, f_score=5, m_score=5, segment=name,
            purchases_total=1, first_purchase_at=now, last_purchase_at=now,
            historic_value=Decimal(1), usual_gap_days=Decimal(1),
            expected_purchases=Decimal(1), predicted_value=Decimal(1),
            churn_risk="low", computed_at=now,
        )  # fmt: skip
    is_champion = {
        "op": "and",
        "conditions": [{"field": "rfm", "op": "is", "value": ["champions"]}],
    }
    not_champion = {
        "op": "and",
        "conditions": [{"field": "rfm", "op": "is_not", "value": ["champions"]}],
    }
    assert list(Member.objects.filter(segment_q(is_champion))) == [champion]
    assert set(Member.objects.filter(segment_q(not_champion))) == {lost, unscored}
    assert segment_count(is_champion) == 1
