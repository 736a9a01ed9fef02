"""The segment SQL agrees with a plain Python recount.

Seeded random members, purchases (with returns), lines, lots, tiers; then many
random definitions (hypothesis), AND/OR and nested, each evaluated both ways.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.segments.definition import segment_q
from campaigns.tests.segments.test_conditions import (
    NOW,
    buy,
    lot,
    make_member,
    set_account,
)
from members.models import Member
from members.tests.factories import StoreFactory
from rewards.tests.factories import TierFactory

pytestmark = pytest.mark.django_db

CATEGORIES = ["bakery", "coffee", "tea", "dairy"]
SKUS = ["B1", "B2", "C1", "T1", "D1"]
INTERESTS = ["coffee", "tea", "pastry", "bread"]
LANGUAGES = ["uk", "ru", "ro", "en"]
GENDERS = ["f", "m", "o", ""]
AMOUNTS = ["0", "25", "99.99", "100", "250.50", "500", "1000"]


def _local_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(
        dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone()
    )


def _when(rng: random.Random, days_back: int, days_ahead: int = 0) -> dt.datetime:
    seconds = rng.randint(-days_ahead * 86400, days_back * 86400)
    return NOW - dt.timedelta(seconds=seconds)


@pytest.fixture
def dataset(db):
    rng = random.Random(20261123)
    tiers = [
        TierFactory(name="Bronze", rank=1),
        TierFactory(name="Silver", rank=2),
        TierFactory(name="Gold", rank=3),
    ]
    stores = [StoreFactory(code=f"st{i}", name=f"Store {i}") for i in range(3)]
    people = []
    for _ in range(45):
        home = rng.choice([*stores, None])
        member = make_member(
            stores[0],
            home_store=home,
            gender=rng.choice(GENDERS),
            language=rng.choice(LANGUAGES),
            interests=rng.sample(INTERESTS, rng.randint(0, 3)),
            email_consent=rng.random() < 0.5,
            sms_consent=rng.random() < 0.4,
            birthday=(
                dt.date(
                    1970 + rng.randint(0, 30), rng.randint(1, 12), rng.randint(1, 28)
                )
                if rng.random() < 0.8
                else None
            ),
            enrolled_at=_when(rng, 500),
        )
        tier = rng.choice([*tiers, None])
        balance = rng.choice([0, 5, 50, 100, 300, 1000, rng.randint(0, 2000)])
        if tier is not None:
            set_account(member, tier=tier)
        set_account(member, balance=balance)
        purchases = []
        for _p in range(rng.choice([0, 0, 1, 2, 3, 5])):
            total = Decimal(rng.choice(["10", "49.90", "100", "250", "600"]))
            returned = rng.choice(
                [Decimal("0"), Decimal("0"), total / 2, total]
            ).quantize(Decimal("0.01"))
            lines = []
            for _line in range(rng.randint(0, 3)):
                quantity = rng.choice([1, 2])
                lines.append(
                    (
                        rng.choice(SKUS),
                        rng.choice(CATEGORIES),
                        str(quantity),
                        str(rng.choice([0, 0, quantity, 1 if quantity == 2 else 0])),
                    )
                )
            at = _when(rng, 200)
            store = rng.choice(stores)
            buy(member, store, str(total), at, returned=str(returned), lines=lines)
            purchases.append(
                {
                    "at": at,
                    "store": store.pk,
                    "total": total,
                    "returned": returned,
                    "lines": lines,
                }
            )
        lots = []
        for _l in range(rng.choice([0, 1, 2, 3])):
            remaining = rng.choice([0, 10, 50, 100, 250])
            expires = _when(rng, 10, days_ahead=90)
            lot(member, remaining, expires, points=max(remaining, 300))
            lots.append((remaining, expires))
        member.refresh_from_db()
        people.append(
            {
                "pk": member.pk,
                "member": member,
                "tier": tier.pk if tier else None,
                "rank": tier.rank if tier else None,
                "balance": balance,
                "purchases": purchases,
                "lots": lots,
            }
        )
    return {"tiers": tiers, "stores": stores, "people": people}


# --- the Python recount ------------------------------------------------------------


def _in_period(at: dt.datetime, cond: dict) -> bool:
    if "days" in cond and at < NOW - dt.timedelta(days=cond["days"]):
        return False
    if "from" in cond and at < _local_start(dt.date.fromisoformat(cond["from"])):
        return False
    to = cond.get("to")
    return not (to and at >= _local_start(dt.date.fromisoformat(to) + dt.timedelta(1)))


def _compare(left, op, right) -> bool:
    return {
        "gt": left > right,
        "gte": left >= right,
        "lt": left < right,
        "lte": left <= right,
        "eq": left == right,
    }[op]


def _listify(value):
    return value if isinstance(value, list) else [value]


def _python(cond: dict, person: dict, ranks: dict) -> bool:
    m = person["member"]
    kept = [p for p in person["purchases"] if p["returned"] < p["total"]]
    field, op, value = cond["field"], cond["op"], cond.get("value")
    positive = op in ("is", "any", "given")
    if field == "tier":
        if op == "none":
            return person["tier"] is None
        if op == "at_least":
            return person["rank"] is not None and person["rank"] >= ranks[value]
        return (person["tier"] in _listify(value)) == positive
    if field == "last_purchase":
        if op == "never":
            return not kept
        if op == "ever":
            return bool(kept)
        if not kept:
            return False
        since = NOW - max(p["at"] for p in kept)
        return _compare(since, op, dt.timedelta(days=value))
    if field == "purchase_count":
        n = sum(1 for p in kept if _in_period(p["at"], cond))
        return _compare(n, op, value)
    if field == "spend":
        net = sum(
            (
                p["total"] - p["returned"]
                for p in person["purchases"]
                if _in_period(p["at"], cond)
            ),
            Decimal("0"),
        )
        return _compare(net, op, Decimal(value))
    if field == "points_balance":
        return _compare(person["balance"], op, value)
    if field == "points_expiring":
        soon = sum(
            remaining
            for remaining, expires in person["lots"]
            if remaining > 0 and NOW <= expires < NOW + dt.timedelta(days=cond["days"])
        )
        return soon >= value
    if field == "birthday_month":
        inside = m.birthday is not None and m.birthday.month in _listify(value)
        return inside == positive
    if field == "home_store":
        return (m.home_store_id in _listify(value)) == positive
    if field == "bought_at_store":
        bought = any(
            p["store"] in _listify(value) and _in_period(p["at"], cond) for p in kept
        )
        return bought == positive
    if field in ("bought_category", "bought_sku"):
        index = 1 if field == "bought_category" else 0
        wanted = set(_listify(value))
        bought = any(
            line[index] in wanted and Decimal(line[3]) < Decimal(line[2])
            for p in kept
            if _in_period(p["at"], cond)
            for line in p["lines"]
        )
        return bought == positive
    if field == "gender":
        return (m.gender in _listify(value)) == positive
    if field == "language":
        return (m.language in _listify(value)) == positive
    if field == "interests":
        has = [word in m.interests for word in value]
        return any(has) if op == "any" else all(has)
    if field == "consent":
        given = m.email_consent if value == "email" else m.sms_consent
        return given == (op == "given")
    if field == "enrolled":
        at = m.enrolled_at
        if op == "before":
            return at < _local_start(dt.date.fromisoformat(value))
        if op == "after":
            return at >= _local_start(dt.date.fromisoformat(value) + dt.timedelta(1))
        start, end = (dt.date.fromisoformat(day) for day in value)
        return _local_start(start) <= at < _local_start(end + dt.timedelta(1))
    raise AssertionError(field)


def _python_group(group: dict, person: dict, ranks: dict) -> bool:
    if not group["conditions"]:
        return True  # only the top group may be empty: every member
    results = (
        _python_group(item, person, ranks)
        if "conditions" in item
        else _python(item, person, ranks)
        for item in group["conditions"]
    )
    return all(results) if group["op"] == "and" else any(results)


# --- random definitions ---------------------------------------------------------


def _conditions(tier_ids: list[int], store_ids: list[int]):
    days = st.integers(0, 250)
    period = st.one_of(
        st.just({}),
        st.builds(lambda n: {"days": n}, days),
        st.builds(
            lambda a, b: {"from": str(min(a, b)), "to": str(max(a, b))},
            st.dates(dt.date(2025, 12, 1), dt.date(2026, 6, 20)),
            st.dates(dt.date(2025, 12, 1), dt.date(2026, 6, 20)),
        ),
    )
    number_op = st.sampled_from(["gt", "gte", "lt", "lte", "eq"])

    def cond(field, op, value=None, extra=None):
        out = {"field": field, "op": op}
        if value is not None:
            out["value"] = value
        out.update(extra or {})
        return out

    def some(items):
        return st.lists(st.sampled_from(items), min_size=1, max_size=3, unique=True)

    return st.one_of(
        st.builds(
            cond, st.just("tier"), st.sampled_from(["is", "is_not"]), some(tier_ids)
        ),
        st.builds(
            cond, st.just("tier"), st.just("at_least"), st.sampled_from(tier_ids)
        ),
        st.builds(cond, st.just("tier"), st.just("none")),
        st.builds(
            cond,
            st.just("last_purchase"),
            st.sampled_from(["gt", "gte", "lt", "lte"]),
            days,
        ),
        st.builds(cond, st.just("last_purchase"), st.sampled_from(["never", "ever"])),
        st.builds(
            cond, st.just("purchase_count"), number_op, st.integers(0, 4), period
        ),
        st.builds(cond, st.just("spend"), number_op, st.sampled_from(AMOUNTS), period),
        st.builds(
            cond,
            st.just("points_balance"),
            number_op,
            st.sampled_from([0, 5, 50, 100, 301, 1000]),
        ),
        st.builds(
            cond,
            st.just("points_expiring"),
            st.just("gte"),
            st.sampled_from([1, 10, 60, 100, 300]),
            st.builds(lambda n: {"days": n}, st.integers(1, 90)),
        ),
        st.builds(
            cond,
            st.just("birthday_month"),
            st.sampled_from(["is", "is_not"]),
            some(list(range(1, 13))),
        ),
        st.builds(
            cond,
            st.just("home_store"),
            st.sampled_from(["is", "is_not"]),
            some(store_ids),
        ),
        st.builds(
            cond,
            st.just("bought_at_store"),
            st.sampled_from(["is", "is_not"]),
            some(store_ids),
            period,
        ),
        st.builds(
            cond,
            st.just("bought_category"),
            st.sampled_from(["any", "none"]),
            some(CATEGORIES),
            period,
        ),
        st.builds(
            cond,
            st.just("bought_sku"),
            st.sampled_from(["any", "none"]),
            some(SKUS),
            period,
        ),
        st.builds(
            cond, st.just("gender"), st.sampled_from(["is", "is_not"]), some(GENDERS)
        ),
        st.builds(
            cond,
            st.just("language"),
            st.sampled_from(["is", "is_not"]),
            some(LANGUAGES),
        ),
        st.builds(
            cond, st.just("interests"), st.sampled_from(["any", "all"]), some(INTERESTS)
        ),
        st.builds(
            cond,
            st.just("consent"),
            st.sampled_from(["given", "withheld"]),
            st.sampled_from(["email", "sms"]),
        ),
        st.builds(
            cond,
            st.just("enrolled"),
            st.sampled_from(["before", "after"]),
            st.dates(dt.date(2025, 1, 1), dt.date(2026, 6, 20)).map(str),
        ),
        st.builds(
            cond,
            st.just("enrolled"),
            st.just("between"),
            st.lists(
                st.dates(dt.date(2025, 1, 1), dt.date(2026, 6, 20)),
                min_size=2,
                max_size=2,
            ).map(lambda pair: [str(min(pair)), str(max(pair))]),
        ),
    )


def _definitions(tier_ids, store_ids):
    """A top group holding conditions and groups nested two levels more."""
    leaf = _conditions(tier_ids, store_ids)

    def group(children, min_size=1):
        return st.builds(
            lambda op, items: {"op": op, "conditions": items},
            st.sampled_from(["and", "or"]),
            st.lists(children, min_size=min_size, max_size=4),
        )

    inner = group(leaf)
    middle = group(st.one_of(leaf, leaf, inner))
    return group(st.one_of(leaf, leaf, middle), min_size=0)


def test_segment_sql_agrees_with_python_recount(dataset):
    people = dataset["people"]
    ranks = {tier.pk: tier.rank for tier in dataset["tiers"]}
    tier_ids = list(ranks)
    store_ids = [store.pk for store in dataset["stores"]]
    seen_sizes = set()

    @settings(max_examples=250, deadline=None, derandomize=True, database=None)
    @given(definition=_definitions(tier_ids, store_ids))
    def check(definition):
        sql = set(
            Member.objects.filter(segment_q(definition, now=NOW)).values_list(
                "pk", flat=True
            )
        )
        python = {p["pk"] for p in people if _python_group(definition, p, ranks)}
        assert sql == python, definition
        seen_sizes.add(len(sql))

    check()
    # The definitions were not all trivially empty or everyone.
    assert len(seen_sizes) > 10


def test_each_condition_type_selects_someone_and_not_everyone(dataset):
    """Guards the recount test: the data lets every field split the members."""
    people = dataset["people"]
    ranks = {tier.pk: tier.rank for tier in dataset["tiers"]}
    examples = [
        {"field": "tier", "op": "at_least", "value": dataset["tiers"][1].pk},
        {"field": "last_purchase", "op": "gte", "value": 60},
        {"field": "purchase_count", "op": "gte", "value": 2, "days": 120},
        {"field": "spend", "op": "gte", "value": "200"},
        {"field": "points_expiring", "op": "gte", "value": 50, "days": 45},
        {"field": "birthday_month", "op": "is", "value": [1, 2, 3, 4, 5, 6]},
        {"field": "bought_at_store", "op": "is", "value": [dataset["stores"][0].pk]},
        {"field": "bought_category", "op": "any", "value": ["bakery"]},
        {"field": "interests", "op": "any", "value": ["tea"]},
        {"field": "enrolled", "op": "before", "value": "2025-10-01"},
    ]
    for cond in examples:
        definition = {"op": "and", "conditions": [cond]}
        sql = set(
            Member.objects.filter(segment_q(definition, now=NOW)).values_list(
                "pk", flat=True
            )
        )
        python = {p["pk"] for p in people if _python_group(definition, p, ranks)}
        assert sql == python, cond
        assert 0 < len(sql) < len(people), cond
