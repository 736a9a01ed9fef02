"""The demo segments seed_demo adds."""

from __future__ import annotations

import random
from io import StringIO
from types import SimpleNamespace

import pytest
from django.utils import timezone

from campaigns.models import Segment, SegmentKind
from campaigns.segments.definition import segment_q
from campaigns.segments.selectors import segment_count
from campaigns.tests.segments.test_conditions import make_member
from demo.seed_segments import seed
from members.tests.factories import StoreFactory
from rewards.tests.factories import EarningRuleFactory, TierFactory

pytestmark = pytest.mark.django_db


def test_demo_seed_saves_useful_segments_and_one_uploaded_list(marketer):
    kyiv = StoreFactory(code="kyiv-center", name="Київ · Центр")
    TierFactory(name="Gold", rank=3)
    # The catalog knows the category "Bakery buyers" names (as the demo's
    # bakery earning rule does; the segment builder refuses unknown ones).
    EarningRuleFactory(category="bakery")
    members = [
        make_member(kyiv, email_consent=True, home_store=kyiv) for _ in range(15)
    ]
    command = SimpleNamespace(
        stdout=StringIO(),
        rng=random.Random(1),
        end=timezone.now(),
        stores=[kyiv],
        staff={"marketer": marketer},
    )
    seed(command)
    names = set(Segment.objects.values_list("name", flat=True))
    assert {
        "Gold members",
        "Lapsed 60+ days",
        "Points expiring in 30 days",
        "Bakery buyers",
        "Email subscribers in Київ · Центр",
        "Win-back by email",
        "Coffee tasting guests",
    } <= names
    for segment in Segment.objects.filter(kind=SegmentKind.RULES):
        segment_q(segment.definition)  # every stored definition still compiles
    assert (
        segment_count(Segment.objects.get(name="Email subscribers in Київ · Центр"))
        == 15
    )
    listing = Segment.objects.get(kind=SegmentKind.STATIC)
    assert segment_count(listing) == 12
    assert len(listing.import_summary["unmatched"]) == 2
    assert listing.created_by == marketer
    assert "Coffee tasting guests (12 of 14 rows matched)" in command.stdout.getvalue()
    assert len(members) == 15
