"""The large seed at a tiny size: it runs, leaves a whole ledger, and its
cohorts and daily figures equal plain Python over the raw rows."""

from collections import defaultdict

import pytest
from django.core.management import call_command
from django.utils import timezone

from analytics.models import DailyStoreSnapshot, MonthlyCohortSnapshot, StoreSales
from analytics.selectors.periods import month_start
from members.models import Member
from rewards.models import LotDraw, Purchase, PurchaseLine, Redemption
from rewards.selectors.invariants import ledger_invariant_violations

# seed_demo needs the staff groups, which a transactional test may have emptied.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_groups")]


@pytest.fixture
def seeded(db):
    call_command("seed_demo", members=200, purchases=2000, seed=3)


def test_bulk_seed_writes_a_clean_ledger(seeded):
    assert Member.objects.count() == 200
    assert 1900 <= Purchase.objects.count() <= 2000
    assert PurchaseLine.objects.count() >= Purchase.objects.count()
    assert Redemption.objects.exists() and LotDraw.objects.exists()
    assert ledger_invariant_violations() == []
    assert StoreSales.objects.exists()


def test_bulk_seed_plants_loyalties_and_seasons(seeded):
    loyal = Member.objects.filter(interests__0__startswith="loyal:").first()
    assert loyal is not None
    category = loyal.interests[0].split(":", 1)[1]
    lines = PurchaseLine.objects.filter(purchase__member=loyal)
    if lines.count() >= 5:
        assert lines.filter(category=category).count() / lines.count() > 0.5


def test_cohorts_equal_a_python_reference(seeded):
    tz = timezone.get_current_timezone()
    cohort_of = {
        m.pk: month_start(m.enrolled_at.astimezone(tz).date())
        for m in Member.objects.all()
    }
    sizes = defaultdict(int)
    for cohort in cohort_of.values():
        sizes[cohort] += 1
    active = defaultdict(set)
    for member_id, occurred in Purchase.objects.values_list("member_id", "occurred_at"):
        month = month_start(occurred.astimezone(tz).date())
        active[(cohort_of[member_id], month)].add(member_id)
    cells = MonthlyCohortSnapshot.objects.filter(store=None)
    assert cells.exists()
    for cell in cells:
        assert cell.members == sizes[cell.cohort]
        assert cell.active == len(active.get((cell.cohort, cell.month), ())), cell
    covered = {(c.cohort, c.month) for c in cells}
    assert {k for k, v in active.items() if v} <= covered


def test_daily_snapshot_equals_python_over_raw_purchases(seeded):
    tz = timezone.get_current_timezone()
    counts = defaultdict(int)
    buyers = defaultdict(set)
    for member_id, occurred in Purchase.objects.values_list("member_id", "occurred_at"):
        day = occurred.astimezone(tz).date()
        counts[day] += 1
        buyers[day].add(member_id)
    for snap in DailyStoreSnapshot.objects.filter(store=None):
        assert snap.purchases == counts.get(snap.day, 0)
        assert snap.buyers == len(buyers.get(snap.day, ()))


def test_bulk_seed_gives_back_a_plausible_share_of_sales(seeded):
    """The bulk seed earns at the demo program's rate (docs/demo.md), and
    keeps the tier each purchase was made in."""
    from decimal import Decimal

    from rewards.selectors.reward_rate import reward_rates

    start = Purchase.objects.order_by("occurred_at").first().occurred_at
    end = timezone.now() + timezone.timedelta(minutes=1)
    (total,) = reward_rates(start=start, end=end)
    assert Decimal("2") <= total.rate <= Decimal("10"), total
    assert not Purchase.objects.filter(tier=None).exists()
    by_tier = {r.label: r.rate for r in reward_rates(start=start, end=end, by="tier")}
    assert by_tier["Bronze"] < by_tier["Gold"] <= Decimal("10")
