"""The customer-value demo seed_demo adds: the refit over the demo history and
a "P(alive) below 0.3" segment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO
from types import SimpleNamespace

import pytest
from django.utils import timezone

from analytics.models import CLVModelFit, MemberCLV
from analytics.tests.recs_data import Line, members_make, purchases_make
from campaigns.models import Segment
from demo.seed_clv import seed

pytestmark = pytest.mark.django_db


def test_demo_seed_refits_and_saves_the_fading_segment(store, marketer):
    now = timezone.now()
    members = members_make(3, store)
    purchases_make(
        store,
        [
            (m, now - dt.timedelta(days=40 + 10 * i), Decimal("20"), [Line("A")], None)
            for i, m in enumerate(members)
        ],
    )
    out = StringIO()
    seed(command=SimpleNamespace(end=now, staff={"marketer": marketer}, stdout=out))

    assert CLVModelFit.objects.count() == 1
    assert MemberCLV.objects.count() == 3
    segment = Segment.objects.get(name="Fading: P(alive) below 0.3")
    assert segment.definition["conditions"][0]["field"] == "p_alive"
    assert "3 by the heuristic" in out.getvalue()
