"""Segments: each condition type on its own, the tree, validation, query counts.

Test data is written straight into the tables (members through member_enroll)
because these tests read it only; the points services are not under test here.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from decimal import Decimal

import pytest
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from campaigns.models import Segment, SegmentKind, SegmentStaticMember
from campaigns.segments.conditions import (
    ConditionInvalid,
    Op,
    SegmentError,
    builder_schema,
    register_condition,
    unregister_condition,
)
from campaigns.segments.definition import segment_q, segment_validate
from campaigns.segments.selectors import segment_count, segment_members, segment_sample
from members.models import Member
from members.tests.factories import MemberFactory, StoreFactory
from rewards.models import PointsAccount, PointsLot, Purchase, PurchaseLine
from rewards.tests.factories import TierFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
_receipts = itertools.count(1)


# --- data helpers (also used by test_segments_property) -------------------------


def make_member(store, **fields) -> Member:
    member = MemberFactory(store=store)
    if fields:
        Member.objects.filter(pk=member.pk).update(**fields)
        member.refresh_from_db()
    return member


def set_account(member, *, tier=None, balance=None) -> None:
    changes = {}
    if tier is not None:
        changes["tier"] = tier
    if balance is not None:
        changes["balance"] = balance
    PointsAccount.objects.filter(member=member).update(**changes)


def buy(member, store, total, at, *, returned="0", lines=()) -> Purchase:
    """A receipt; `lines` are (sku, category, quantity, quantity_returned)."""
    purchase = Purchase.objects.create(
        store=store,
        receipt_id=f"r{next(_receipts)}",
        member=member,
        total=Decimal(total),
        returned_total=Decimal(returned),
        occurred_at=at,
        points_per_unit=Decimal("1"),
        min_purchase=Decimal("0"),
        balance_after=0,
        source=Purchase.Source.API,
        fingerprint="test",
    )
    PurchaseLine.objects.bulk_create(
        PurchaseLine(
            purchase=purchase,
            sku=sku,
            category=category,
            quantity=Decimal(quantity),
            quantity_returned=Decimal(quantity_returned),
            unit_price=Decimal("1"),
            amount=Decimal(quantity),
        )
        for sku, category, quantity, quantity_returned in lines
    )
    return purchase


def lot(member, remaining, expires_at, *, points=None) -> PointsLot:
    return PointsLot.objects.create(
        account=member.account,
        points=points if points is not None else max(remaining, 1),
        remaining=remaining,
        earned_at=NOW - dt.timedelta(days=400),
        available_at=NOW - dt.timedelta(days=400),
        expires_at=expires_at,
    )


def ids(definition, now=NOW) -> set[int]:
    return set(
        Member.objects.filter(segment_q(definition, now=now)).values_list(
            "pk", flat=True
        )
    )


def one(field, op, value=None, **extra) -> dict:
    cond = {"field": field, "op": op, **extra}
    if value is not None:
        cond["value"] = value
    return {"op": "and", "conditions": [cond]}


@pytest.fixture
def kyiv(db):
    return StoreFactory(code="kyiv", name="Kyiv")


@pytest.fixture
def lviv(db):
    return StoreFactory(code="lviv", name="Lviv")


# --- each condition type ---------------------------------------------------------


def test_empty_definition_matches_everyone(kyiv):
    a, b = make_member(kyiv), make_member(kyiv)
    assert ids({}) == {a.pk, b.pk}
    assert ids({"op": "and", "conditions": []}) == {a.pk, b.pk}


def test_tier_is_is_not_at_least_and_none(kyiv):
    silver, gold = TierFactory(name="Silver", rank=2), TierFactory(name="Gold", rank=3)
    bronze = TierFactory(name="Bronze", rank=1)
    g, s, b, none = (make_member(kyiv) for _ in range(4))
    set_account(g, tier=gold)
    set_account(s, tier=silver)
    set_account(b, tier=bronze)
    assert ids(one("tier", "is", [gold.pk])) == {g.pk}
    assert ids(one("tier", "is", gold.pk)) == {g.pk}
    assert ids(one("tier", "is", [gold.pk, silver.pk])) == {g.pk, s.pk}
    assert ids(one("tier", "is_not", [gold.pk])) == {s.pk, b.pk, none.pk}
    assert ids(one("tier", "at_least", silver.pk)) == {g.pk, s.pk}
    assert ids(one("tier", "none")) == {none.pk}


def test_days_since_last_purchase_and_never_bought(kyiv):
    recent, lapsed, never = (make_member(kyiv) for _ in range(3))
    returned_only = make_member(kyiv)
    buy(recent, kyiv, "10", NOW - dt.timedelta(days=5))
    buy(recent, kyiv, "10", NOW - dt.timedelta(days=90))
    buy(lapsed, kyiv, "10", NOW - dt.timedelta(days=61))
    # A fully returned receipt is not a purchase.
    buy(returned_only, kyiv, "10", NOW - dt.timedelta(days=1), returned="10")
    assert ids(one("last_purchase", "gte", 60)) == {lapsed.pk}
    assert ids(one("last_purchase", "gt", 61)) == set()  # exactly 61 days ago
    assert ids(one("last_purchase", "gte", 61)) == {lapsed.pk}
    assert ids(one("last_purchase", "lt", 30)) == {recent.pk}
    assert ids(one("last_purchase", "lte", 61)) == {recent.pk, lapsed.pk}
    assert ids(one("last_purchase", "never")) == {never.pk, returned_only.pk}
    assert ids(one("last_purchase", "ever")) == {recent.pk, lapsed.pk}


def test_purchase_count_in_last_days_and_between_dates(kyiv):
    busy, quiet, none = (make_member(kyiv) for _ in range(3))
    for days in (1, 2, 3, 40):
        buy(busy, kyiv, "5", NOW - dt.timedelta(days=days))
    buy(quiet, kyiv, "5", NOW - dt.timedelta(days=2))
    buy(quiet, kyiv, "5", NOW - dt.timedelta(days=3), returned="5")
    assert ids(one("purchase_count", "gte", 3, days=30)) == {busy.pk}
    assert ids(one("purchase_count", "eq", 1, days=30)) == {quiet.pk}
    assert ids(one("purchase_count", "lt", 1, days=30)) == {none.pk}
    assert ids(one("purchase_count", "gte", 4)) == {busy.pk}
    # 2026-05-06 is 40 days before NOW; local days, both ends included.
    between = one(
        "purchase_count", "eq", 1, **{"from": "2026-05-06", "to": "2026-05-06"}
    )
    assert ids(between) == {busy.pk}


def test_spend_is_net_of_returns_in_the_period(kyiv):
    big, returned, old = (make_member(kyiv) for _ in range(3))
    buy(big, kyiv, "300", NOW - dt.timedelta(days=3))
    buy(big, kyiv, "250", NOW - dt.timedelta(days=10))
    buy(returned, kyiv, "600", NOW - dt.timedelta(days=3), returned="200")
    buy(old, kyiv, "900", NOW - dt.timedelta(days=200))
    assert ids(one("spend", "gte", "500", days=30)) == {big.pk}
    assert ids(one("spend", "eq", "400.00", days=30)) == {returned.pk}
    assert ids(one("spend", "lt", "100", days=30)) == {old.pk}
    assert ids(one("spend", "gt", "899.99")) == {old.pk}


def test_points_balance(kyiv):
    rich, poor = make_member(kyiv), make_member(kyiv)
    set_account(rich, balance=500)
    set_account(poor, balance=20)
    assert ids(one("points_balance", "gte", 500)) == {rich.pk}
    assert ids(one("points_balance", "lt", 100)) == {poor.pk}
    assert ids(one("points_balance", "eq", 20)) == {poor.pk}


def test_points_expiring_within_days_sums_open_lots(kyiv):
    soon, later, spent, expired = (make_member(kyiv) for _ in range(4))
    lot(soon, 60, NOW + dt.timedelta(days=10))
    lot(soon, 50, NOW + dt.timedelta(days=20))
    lot(later, 500, NOW + dt.timedelta(days=45))
    lot(spent, 0, NOW + dt.timedelta(days=5), points=300)
    lot(expired, 300, NOW - dt.timedelta(days=1))
    assert ids(one("points_expiring", "gte", 100, days=30)) == {soon.pk}
    assert ids(one("points_expiring", "gte", 111, days=30)) == set()
    assert ids(one("points_expiring", "gte", 100, days=60)) == {soon.pk, later.pk}


def test_birthday_month(kyiv):
    may = make_member(kyiv, birthday=dt.date(1990, 5, 3))
    june = make_member(kyiv, birthday=dt.date(1985, 6, 30))
    unknown = make_member(kyiv)
    assert ids(one("birthday_month", "is", [5])) == {may.pk}
    assert ids(one("birthday_month", "is", [5, 6])) == {may.pk, june.pk}
    assert ids(one("birthday_month", "is_not", [5])) == {june.pk, unknown.pk}


def test_home_store_and_bought_at_store(kyiv, lviv):
    home_kyiv = make_member(kyiv, home_store=kyiv)
    home_lviv = make_member(lviv, home_store=lviv)
    buy(home_kyiv, lviv, "10", NOW - dt.timedelta(days=3))
    buy(home_lviv, lviv, "10", NOW - dt.timedelta(days=100))
    assert ids(one("home_store", "is", [kyiv.pk])) == {home_kyiv.pk}
    assert ids(one("home_store", "is_not", [kyiv.pk])) == {home_lviv.pk}
    assert ids(one("bought_at_store", "is", [lviv.pk])) == {home_kyiv.pk, home_lviv.pk}
    assert ids(one("bought_at_store", "is", [lviv.pk], days=30)) == {home_kyiv.pk}
    assert ids(one("bought_at_store", "is_not", [lviv.pk], days=30)) == {home_lviv.pk}
    assert ids(one("bought_at_store", "is", [kyiv.pk])) == set()


def test_category_and_sku_bought_ignore_fully_returned_lines(kyiv):
    baker, returner, other = (make_member(kyiv) for _ in range(3))
    buy(
        baker,
        kyiv,
        "10",
        NOW - dt.timedelta(days=3),
        lines=[("BRD-1", "bakery", "2", "1")],
    )
    buy(
        returner,
        kyiv,
        "10",
        NOW - dt.timedelta(days=3),
        lines=[("BRD-1", "bakery", "1", "1"), ("TEA-9", "tea", "1", "0")],
    )
    buy(
        other,
        kyiv,
        "10",
        NOW - dt.timedelta(days=90),
        lines=[("CF-2", "coffee", "1", "0")],
    )
    assert ids(one("bought_category", "any", ["bakery"])) == {baker.pk}
    assert ids(one("bought_category", "any", ["bakery", "tea"])) == {
        baker.pk,
        returner.pk,
    }
    assert ids(one("bought_category", "none", ["bakery"])) == {returner.pk, other.pk}
    assert ids(one("bought_sku", "any", ["BRD-1"])) == {baker.pk}
    assert ids(one("bought_sku", "any", ["CF-2"], days=30)) == set()


def test_gender_language_and_consent(kyiv):
    f = make_member(kyiv, gender="f", language="en", email_consent=True)
    m = make_member(kyiv, gender="m", language="uk", sms_consent=True)
    u = make_member(kyiv, gender="", language="uk")
    assert ids(one("gender", "is", ["f"])) == {f.pk}
    assert ids(one("gender", "is", [""])) == {u.pk}
    assert ids(one("gender", "is_not", ["f"])) == {m.pk, u.pk}
    assert ids(one("language", "is", "uk")) == {m.pk, u.pk}
    assert ids(one("consent", "given", "email")) == {f.pk}
    assert ids(one("consent", "given", "sms")) == {m.pk}
    assert ids(one("consent", "withheld", "email")) == {m.pk, u.pk}


def test_interests_any_and_all(kyiv):
    both = make_member(kyiv, interests=["coffee", "tea"])
    coffee = make_member(kyiv, interests=["coffee"])
    make_member(kyiv, interests=[])
    make_member(kyiv, interests=["coffee beans"])  # not a word match
    assert ids(one("interests", "any", ["coffee"])) == {both.pk, coffee.pk}
    assert ids(one("interests", "any", ["tea", "bread"])) == {both.pk}
    assert ids(one("interests", "all", ["coffee", "tea"])) == {both.pk}


def test_enrolled_before_after_between_local_days(kyiv):
    tz = timezone.get_default_timezone()
    jan = make_member(kyiv, enrolled_at=dt.datetime(2026, 1, 10, 23, 30, tzinfo=tz))
    feb = make_member(kyiv, enrolled_at=dt.datetime(2026, 2, 1, 0, 10, tzinfo=tz))
    assert ids(one("enrolled", "before", "2026-01-11")) == {jan.pk}
    assert ids(one("enrolled", "after", "2026-01-31")) == {feb.pk}
    assert ids(one("enrolled", "after", "2026-01-10")) == {feb.pk}
    assert ids(one("enrolled", "between", ["2026-01-10", "2026-01-31"])) == {jan.pk}


def test_and_or_and_nested_groups(kyiv):
    gold = TierFactory(name="Gold", rank=3)
    a = make_member(kyiv, email_consent=True)
    b = make_member(kyiv, email_consent=True)
    c = make_member(kyiv)
    set_account(a, tier=gold)
    buy(b, kyiv, "10", NOW - dt.timedelta(days=100))
    tier_gold = {"field": "tier", "op": "is", "value": [gold.pk]}
    lapsed = {"field": "last_purchase", "op": "gte", "value": 60}
    email = {"field": "consent", "op": "given", "value": "email"}
    assert ids({"op": "or", "conditions": [tier_gold, lapsed]}) == {a.pk, b.pk}
    assert ids({"op": "and", "conditions": [tier_gold, lapsed]}) == set()
    nested = {
        "op": "and",
        "conditions": [
            email,
            {"op": "or", "conditions": [tier_gold, {"field": "tier", "op": "none"}]},
        ],
    }
    assert ids(nested) == {a.pk, b.pk}
    assert c.pk not in ids(nested)


def test_static_segment_members_come_from_the_list(kyiv):
    a, _b = make_member(kyiv), make_member(kyiv)
    segment = Segment.objects.create(name="List", kind=SegmentKind.STATIC)
    SegmentStaticMember.objects.create(segment=segment, member=a)
    assert list(segment_members(segment)) == [a]
    assert segment_count(segment) == 1


# --- validation ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("definition", "path", "field", "message"),
    [
        ([1], (), "", "must be a JSON object"),
        ("{oops", (), "", "not valid JSON"),
        ({"op": "xor", "conditions": []}, (), "", "not “xor”"),
        (
            {"conditions": [{"field": "shoe_size", "op": "is"}]},
            (0,),
            "shoe_size",
            "Condition 1: unknown field “shoe_size”",
        ),
        (
            {"conditions": [{"field": "tier", "op": "gte", "value": 1}]},
            (0,),
            "tier",
            "Condition 1 (Tier): “gte” is not an operator",
        ),
        (
            {"conditions": [{"field": "points_balance", "op": "gte", "value": "lots"}]},
            (0,),
            "points_balance",
            "Condition 1 (Points balance): enter a whole number",
        ),
        (
            {"conditions": [{"field": "points_balance", "op": "gte", "value": -5}]},
            (0,),
            "points_balance",
            "cannot be negative",
        ),
        (
            {"conditions": [{"field": "spend", "op": "gte"}]},
            (0,),
            "spend",
            "enter a value",
        ),
        (
            {
                "conditions": [
                    {
                        "field": "spend",
                        "op": "gte",
                        "value": 5,
                        "days": 3,
                        "from": "2026-01-01",
                    }
                ]
            },
            (0,),
            "spend",
            "not both",
        ),
        (
            {"conditions": [{"field": "points_expiring", "op": "gte", "value": 5}]},
            (0,),
            "points_expiring",
            "enter “within N days”",
        ),
        (
            {
                "conditions": [
                    {
                        "field": "enrolled",
                        "op": "between",
                        "value": ["2026-02-01", "2026-01-01"],
                    }
                ]
            },
            (0,),
            "enrolled",
            "first date is after the second",
        ),
        (
            {
                "conditions": [
                    {"field": "enrolled", "op": "before", "value": "01/02/2026"}
                ]
            },
            (0,),
            "enrolled",
            "YYYY-MM-DD",
        ),
        (
            {"conditions": [{"field": "last_purchase", "op": "never", "value": 3}]},
            (0,),
            "last_purchase",
            "takes no value",
        ),
        (
            {"conditions": [{"field": "gender", "op": "is", "value": ["x"]}]},
            (0,),
            "gender",
            "“x” is not one of the choices",
        ),
        (
            {"conditions": [{"field": "tier", "op": "is", "value": [1], "colour": 2}]},
            (0,),
            "tier",
            "unknown key “colour”",
        ),
        (
            {
                "op": "or",
                "conditions": [
                    {"field": "consent", "op": "given", "value": "email"},
                    {
                        "op": "and",
                        "conditions": [
                            {"field": "language", "op": "is", "value": ["klingon"]}
                        ],
                    },
                ],
            },
            (1, 0),
            "language",
            "Condition 2.1 (Language)",
        ),
        (
            {"conditions": [{"op": "and", "conditions": []}]},
            (0,),
            "",
            "this group has no conditions",
        ),
    ],
)
def test_bad_definitions_name_the_condition(definition, path, field, message):
    with pytest.raises(SegmentError, match=re.escape(message)) as caught:
        segment_validate(definition)
    assert caught.value.path == path
    assert caught.value.field == field


def test_unknown_tier_id_is_refused_on_save_but_matches_nobody_in_a_query(kyiv):
    make_member(kyiv)
    with pytest.raises(SegmentError, match="“999” is not one of the choices"):
        segment_validate(one("tier", "is", [999]))
    assert ids(one("tier", "is", [999])) == set()


def test_too_deep_and_too_many_are_refused():
    deep = {"field": "tier", "op": "none"}
    for _ in range(5):
        deep = {"op": "and", "conditions": [deep]}
    with pytest.raises(SegmentError, match="at most 4 levels"):
        segment_q(deep)
    many = {"conditions": [{"field": "tier", "op": "none"}] * 51}
    with pytest.raises(SegmentError, match="at most 50 conditions") as caught:
        segment_q(many)
    assert caught.value.path == (50,)


def test_validate_normalises_values_for_storing(kyiv):
    tier = TierFactory(name="Gold", rank=3)
    clean = segment_validate(
        {
            "conditions": [
                {"field": "tier", "op": "is", "value": str(tier.pk)},
                {"field": "spend", "op": "gte", "value": "1 000".replace(" ", "")},
                {"field": "bought_sku", "op": "any", "value": " BRD-1 ,TEA-9,"},
                {"field": "enrolled", "op": "after", "value": "2026-01-05"},
            ]
        }
    )
    assert clean == {
        "op": "and",
        "conditions": [
            {"field": "tier", "op": "is", "value": [tier.pk]},
            {"field": "spend", "op": "gte", "value": "1000.00"},
            {"field": "bought_sku", "op": "any", "value": ["BRD-1", "TEA-9"]},
            {"field": "enrolled", "op": "after", "value": "2026-01-05"},
        ],
    }


def test_validation_messages_are_translated(kyiv):
    from django.utils import translation

    with translation.override("uk"), pytest.raises(SegmentError) as caught:
        segment_validate({"conditions": [{"field": "nope", "op": "is"}]})
    assert caught.value.path == (0,)  # the text itself comes from the catalog


# --- registry ---------------------------------------------------------------------


def test_another_app_can_register_a_condition(kyiv):
    a, b = make_member(kyiv, first_name="Ada"), make_member(kyiv, first_name="Bo")

    def validate(cond):
        if cond["value"][0].islower():
            raise ConditionInvalid("start with a capital letter.")
        return cond

    register_condition(
        "first_name_any",
        "First name",
        lambda cond, ctx: Q(first_name__in=cond["value"]),
        validate,
        ops=[Op("is", "is", "texts")],
    )
    try:
        assert ids(one("first_name_any", "is", ["Ada"])) == {a.pk}
        assert b.pk in ids(
            {
                "op": "or",
                "conditions": [
                    {"field": "first_name_any", "op": "is", "value": ["Bo"]},
                    {"field": "tier", "op": "none"},
                ],
            }
        )
        with pytest.raises(SegmentError, match=r"Condition 1 \(First name\): start"):
            segment_q(one("first_name_any", "is", ["ada"]))
        assert "first_name_any" in {kind["name"] for kind in builder_schema()}
        with pytest.raises(ValueError, match="registered already"):
            register_condition(
                "first_name_any", "x", lambda c, x: Q(), ops=[Op("is", "is")]
            )
    finally:
        unregister_condition("first_name_any")


def test_builder_schema_lists_tiers_with_ops_and_extras(kyiv):
    TierFactory(name="Gold", rank=3)
    schema = {kind["name"]: kind for kind in builder_schema()}
    assert {"value": schema["tier"]["choices"][0]["value"], "label": "Gold"} in schema[
        "tier"
    ]["choices"]
    assert [op["name"] for op in schema["tier"]["ops"]] == [
        "is",
        "is_not",
        "at_least",
        "none",
    ]
    assert [e["key"] for e in schema["spend"]["extras"]] == ["days", "from", "to"]


# --- query counts -------------------------------------------------------------------


def test_count_and_sample_are_one_query_each(kyiv, lviv, django_assert_num_queries):
    gold = TierFactory(name="Gold", rank=3)
    for index in range(15):
        member = make_member(kyiv, email_consent=True, interests=["coffee"])
        set_account(member, tier=gold, balance=index)
        buy(
            member,
            lviv,
            "50",
            NOW - dt.timedelta(days=index),
            lines=[("B", "bakery", "1", "0")],
        )
        lot(member, 10, NOW + dt.timedelta(days=5))
    definition = {
        "op": "or",
        "conditions": [
            {"field": "tier", "op": "at_least", "value": gold.pk},
            {
                "op": "and",
                "conditions": [
                    {"field": "spend", "op": "gte", "value": "10", "days": 30},
                    {"field": "purchase_count", "op": "gte", "value": 1},
                    {"field": "bought_category", "op": "any", "value": ["bakery"]},
                    {"field": "points_expiring", "op": "gte", "value": 5, "days": 30},
                    {"field": "interests", "op": "any", "value": ["coffee"]},
                    {"field": "last_purchase", "op": "lt", "value": 30},
                ],
            },
        ],
    }
    segment = Segment.objects.create(name="Big", definition=definition)
    with django_assert_num_queries(1):
        assert segment_count(segment, now=NOW) == 15
    with django_assert_num_queries(1):
        sample = segment_sample(definition, n=10, now=NOW)
    assert len(sample) == 10
    with django_assert_num_queries(0):
        assert {m.account.tier.name for m in sample} == {"Gold"}


def test_segment_q_can_sit_inside_a_subquery(kyiv):
    """A campaign may ask 'is this member in the segment' from another query."""
    a = make_member(kyiv, interests=["tea"])
    make_member(kyiv, interests=["coffee"])
    definition = one("interests", "any", ["tea"])
    inner = Member.objects.filter(segment_q(definition), pk=OuterRef("pk"))
    assert list(Member.objects.filter(Exists(inner)).values_list("pk", flat=True)) == [
        a.pk
    ]
