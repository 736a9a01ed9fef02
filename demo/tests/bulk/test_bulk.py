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


def test_bulk_seed_gives_every_member_a_source_with_spend_per_channel(seeded):
    """No bulk member is "other": each of till, online (with UTM values and a
    first visit before enrolment), referral (a friend who joined before),
    partner (at the partner's counter) and import has members, and each paid
    channel its acquisition spend."""
    from analytics.models import MarketingSpend, SpendKind
    from members.models import MemberSource

    by_source = defaultdict(list)
    for m in Member.objects.select_related("referred_by", "enrolled_store"):
        by_source[m.source].append(m)
    assert set(by_source) == {
        MemberSource.TILL,
        MemberSource.ONLINE,
        MemberSource.REFERRAL,
        MemberSource.PARTNER,
        MemberSource.IMPORT,
    }, {k: len(v) for k, v in by_source.items()}
    assert all(len(v) >= 5 for v in by_source.values())
    assert all(
        m.utm_source and m.utm_medium and m.utm_campaign
        and m.first_seen_at < m.enrolled_at and m.enrolled_store is None
        for m in by_source[MemberSource.ONLINE]
    )  # fmt: skip
    assert {m.utm_source for m in by_source[MemberSource.ONLINE]} >= {
        "instagram",
        "facebook",
        "google",
    }
    assert all(
        m.referred_by and m.referred_by.enrolled_at < m.enrolled_at
        for m in by_source[MemberSource.REFERRAL]
    )
    assert all(m.enrolled_store.partner_id for m in by_source[MemberSource.PARTNER])
    assert all(
        m.enrolled_store and not m.enrolled_store.partner_id
        for m in by_source[MemberSource.TILL] + by_source[MemberSource.IMPORT]
    )
    assert not any(m.utm_source for m in by_source[MemberSource.TILL])
    demo = Member.objects.get(email="demo@example.com")
    assert (demo.source, demo.utm_source) == (MemberSource.ONLINE, "instagram")
    spend = set(
        MarketingSpend.objects.filter(kind=SpendKind.ACQUISITION).values_list(
            "channel", flat=True
        )
    )
    assert spend == {"online", "till", "referral", "partner"}
    # The Acquisition page's figures: a cost per member for every paid
    # channel, near what the seed spends per member (demo.seed_sources.BULK_CAC).
    from analytics.selectors.periods import Period
    from analytics.selectors.sources import acquisition_by_channel
    from demo.seed_sources import BULK_CAC

    first = Member.objects.order_by("enrolled_at").first().enrolled_at
    period = Period(
        month_start(timezone.localtime(first).date()),
        month_start(timezone.localdate()),
    )
    rows = {r["channel"]: r for r in acquisition_by_channel(period)}
    for channel, cac in BULK_CAC.items():
        assert 0.7 * cac <= rows[channel]["cac"] <= 1.3 * cac, rows[channel]
        assert rows[channel]["clv"] > 0 and rows[channel]["clv_to_cac"] > 0
    assert rows["import"]["cac"] == 0 and rows["import"]["new_members"] > 0
    assert rows["other"]["new_members"] == 0
