"""Segment conditions on age bands and picked interests."""

from __future__ import annotations

import datetime as dt

import pytest

from campaigns.segments.conditions import SegmentError, builder_schema
from campaigns.segments.definition import segment_validate
from campaigns.tests.segments.test_conditions import NOW, ids, make_member, one
from members.services import member_interests_set
from members.tests.factories import InterestFactory, StoreFactory

pytestmark = pytest.mark.django_db

TODAY = NOW.date()  # 2026-06-15, noon UTC: the same day in Kyiv


@pytest.fixture
def store(db):
    return StoreFactory()


def test_age_band_is_and_is_not(store):
    young = make_member(store, birthday=dt.date(2008, 6, 15))  # 18 today
    minor = make_member(store, birthday=dt.date(2008, 6, 16))  # 18 tomorrow
    senior = make_member(store, birthday=dt.date(1950, 1, 1))
    unknown = make_member(store, birthday=None)
    assert ids(one("age_band", "is", ["18-24"])) == {young.pk}
    assert ids(one("age_band", "is", ["0-17", "65+"])) == {minor.pk, senior.pk}
    assert ids(one("age_band", "is", ["unknown"])) == {unknown.pk}
    assert ids(one("age_band", "is_not", ["18-24", "unknown"])) == {
        minor.pk,
        senior.pk,
    }


def test_age_band_refuses_an_unknown_band():
    with pytest.raises(SegmentError, match="not one of the choices"):
        segment_validate(one("age_band", "is", ["18-99"]))


def test_interest_any_all_none(store):
    coffee = InterestFactory(code="c-coffee")
    tea = InterestFactory(code="c-tea")
    both = make_member(store)
    member_interests_set(member=both, interests=[coffee, tea])
    only_coffee = make_member(store)
    member_interests_set(member=only_coffee, interests=[coffee])
    nothing = make_member(store)
    everyone = {both.pk, only_coffee.pk, nothing.pk}
    assert ids(one("interest", "any", ["c-coffee"])) & everyone == {
        both.pk,
        only_coffee.pk,
    }
    assert ids(one("interest", "all", ["c-coffee", "c-tea"])) & everyone == {both.pk}
    assert ids(one("interest", "none", ["c-tea"])) & everyone == {
        only_coffee.pk,
        nothing.pk,
    }


def test_builder_lists_bands_and_interests_with_inactive_marked():
    InterestFactory(code="c-gone", name="Gone", name_en="Gone", active=False)
    schema = {entry["name"]: entry for entry in builder_schema()}
    bands = [c["value"] for c in schema["age_band"]["choices"]]
    assert bands[:2] == ["0-17", "18-24"] and bands[-1] == "unknown"
    gone = next(c for c in schema["interest"]["choices"] if c["value"] == "c-gone")
    assert "inactive" in gone["label"]
