import datetime as dt
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from members.models import ApiToken, Member, Store, User
from members.services import store_get_or_create
from rewards.models import LedgerEntry, PointsAccount, Purchase, PurchaseReturn
from rewards.selectors.invariants import ledger_discrepancies

# seed_demo needs the staff groups, which a transactional test may have emptied.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_groups")]


def _seed(**kwargs) -> str:
    out = StringIO()
    call_command("seed_demo", **{"members": 20, "months": 2, **kwargs}, stdout=out)
    return out.getvalue()


def _counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (
            Store,
            User,
            Member,
            Purchase,
            PurchaseReturn,
            LedgerEntry,
            ApiToken,
        )
    }


def test_seed_demo_creates_stores_staff_and_demo_customer():
    out = _seed()

    assert set(Store.objects.values_list("code", flat=True)) == {
        "kyiv-center",
        "kyiv-left",
        "lviv",
        "bakery-podil",
    }
    assert all(s.timezone == "Europe/Kyiv" and s.address for s in Store.objects.all())
    for username, group in [
        ("cashier", "Cashier"),
        ("manager", "Manager"),
        ("manager2", "Manager"),
        ("marketer", "Marketer"),
    ]:
        user = User.objects.get(username=username)
        assert user.is_staff and user.store is not None
        assert list(user.groups.values_list("name", flat=True)) == [group]
        assert authenticate(username=username, password=f"{username}-demo") == user
    admin = User.objects.get(username="admin")
    assert admin.is_superuser
    assert authenticate(username="admin", password="admin-demo") == admin

    demo = Member.objects.get(user__email="demo@example.com")
    assert (
        authenticate(username="demo@example.com", password="demo-customer") == demo.user
    )
    kinds = set(demo.account.entries.values_list("kind", flat=True))
    assert {"earn", "redeem", "clawback", "adjust"} <= kinds
    assert Member.objects.count() == 20
    assert ApiToken.objects.filter(store__code="kyiv-center").count() == 1
    assert "Authorization: Token " in out
    assert "cashier-demo" in out and "http://127.0.0.1:8000/admin/counter/" in out


# The history ends an hour before now, and the last day's shop hours after that
# are clamped to its end, so the hour it is seeded at decides which writes share
# a moment. Seeded at the suite's hour and at hours across a day in Kyiv, two with
# `make run`'s size (200 members, 12 months; 35 s) or a short history where most
# members are new: the ones CI met (out of order at 01:34, a promo purchase before
# the member joined).
KYIV = ZoneInfo("Europe/Kyiv")
SEEDED_AT = [
    None,
    # make run's size: the seed's logic is the same on both engines, and it takes
    # 35 s on SQLite but three minutes on PostgreSQL, so it runs on SQLite.
    pytest.param(
        ((7, 1, 34), 200, 12),
        marks=pytest.mark.skipif(
            "postgresql" in settings.DATABASES["default"]["ENGINE"],
            reason="make run's size is seeded on SQLite (the same logic, 5x faster)",
        ),
    ),
    ((7, 3, 34), 200, 1),
    ((6, 15, 0), 20, 2),
    ((6, 22, 30), 20, 2),
]


@pytest.mark.parametrize(
    "seeded_at",
    SEEDED_AT,
    ids=["now", "01:34", "03:34", "15:00", "22:30"],
)
def test_seed_demo_history_keeps_every_ledger_invariant(seeded_at):
    if seeded_at is None:
        _seed()
    else:
        (day, hour, minute), members, months = seeded_at
        moment = dt.datetime(2026, 12, day, hour, minute, tzinfo=KYIV)
        with time_machine.travel(moment, tick=True):
            _seed(members=members, months=months)

    assert ledger_discrepancies() == []
    assert Purchase.objects.filter(source=Purchase.Source.IMPORT).count() > 20
    assert PurchaseReturn.objects.exists()
    for account in PointsAccount.objects.all():
        # Written in time order: walking the entries by time rebuilds every
        # balance_after, which a statement sorted by time relies on.
        balance = 0
        for entry in account.entries.order_by("created_at", "id"):
            balance += entry.points
            assert entry.balance_after == balance
        assert balance == account.balance
    for member in Member.objects.all():
        assert phonenumbers.is_valid_number(phonenumbers.parse(member.phone))
        assert member.phone.startswith("+380")
        first = member.purchases.order_by("occurred_at").first()
        assert first is None or first.occurred_at >= member.enrolled_at


def test_seed_demo_second_run_keeps_the_data_and_creates_nothing():
    _seed()
    before = _counts()

    out = _seed()

    assert "already" in out
    assert _counts() == before


def test_seed_demo_refuses_to_complete_a_partial_data_set():
    store_get_or_create(code="lviv", name="Lviv")

    with pytest.raises(CommandError, match="Part of the demo data is there"):
        _seed()


def test_seed_demo_fills_the_rewards_catalog_and_gives_the_demo_customer_a_voucher():
    from rewards.models import Reward, Voucher, VoucherStatus

    call_command("seed_demo", members=20, months=4, stdout=StringIO())

    assert Reward.objects.count() == 6
    demo = Member.objects.get(email="demo@example.com")
    assert Voucher.objects.filter(
        member=demo, status=VoucherStatus.ISSUED, source="redeemed"
    ).exists()
    assert Voucher.objects.filter(status=VoucherStatus.USED).exists()
    assert ledger_discrepancies() == []
    for voucher in Voucher.objects.filter(source="redeemed"):
        assert voucher.ledger_entries.filter(kind="redeem").count() == 1
    for voucher in Voucher.objects.exclude(source="redeemed"):  # cards', perks
        assert voucher.points_spent == 0 and not voucher.ledger_entries.exists()


def test_seed_demo_sets_bonuses_and_lets_members_refer_friends():
    from rewards.models import BonusSettings, Referral

    out = _seed()

    conf = BonusSettings.objects.get()
    assert conf.welcome_points > 0 and conf.referrer_points > 0
    welcome = LedgerEntry.objects.filter(
        kind="bonus", idempotency_key__startswith="welcome:"
    )
    assert welcome.count() == Member.objects.count()
    demo = Member.objects.get(user__email="demo@example.com")
    assert demo.referrals_made.count() == 3
    assert Referral.objects.filter(status="qualified").exists()
    assert "referrals" in out
    assert ledger_discrepancies() == []


def test_seed_demo_gives_the_demo_customer_stamp_cards():
    from rewards.models import StampCard, StampCardStatus, StampProgram
    from rewards.selectors.invariants import stamp_card_violations

    _seed()

    assert StampProgram.objects.count() == 2
    demo = Member.objects.get(user__email="demo@example.com")
    cards = StampCard.objects.filter(member=demo)
    assert cards.filter(status=StampCardStatus.OPEN).exists()
    assert stamp_card_violations() == []


def test_seed_demo_adds_a_club_plan_with_subscribers_and_a_partner():
    from members.models import Partner
    from rewards.models import MembershipPlan, Reward, Subscription, SubscriptionStatus

    _seed()

    club = MembershipPlan.objects.get(name="Club")
    assert club.price == 99 and club.earn_multiplier == Decimal("1.50")
    assert club.guaranteed_tier.name_en == "Silver"
    subs = Subscription.objects.filter(plan=club)
    statuses = set(subs.values_list("status", flat=True))
    assert SubscriptionStatus.ACTIVE in statuses
    assert subs.filter(member__user__email="demo@example.com", status="active").exists()
    partner = Partner.objects.get(name="Partner bakery")
    assert partner.stores.count() == 1
    assert Reward.objects.filter(funded_by=partner).count() == 1
    assert ledger_discrepancies() == []


def test_seed_demo_gives_back_a_plausible_share_of_sales():
    """docs/demo.md: about 2–5 % back on average, at most 10 % on any purchase
    (the program's cap), by the effective reward rate the Program page shows."""
    from django.utils import timezone

    from rewards.models import ProgramSettings
    from rewards.selectors.reward_rate import reward_rates

    _seed()

    conf = ProgramSettings.objects.get()
    assert conf.earn_cap_percent == Decimal("10")
    start = Purchase.objects.order_by("occurred_at").first().occurred_at
    end = timezone.now() + timezone.timedelta(minutes=1)
    (total,) = reward_rates(start=start, end=end)
    assert total.purchases == Purchase.objects.count()
    assert Decimal("2") <= total.rate <= Decimal("10"), total
    for row in reward_rates(start=start, end=end, by="tier"):
        assert row.rate is None or row.rate <= Decimal("10"), row
    demo = Member.objects.get(email="demo@example.com")
    (theirs,) = [
        r
        for r in reward_rates(start=start, end=end, by="tier")
        if r.key == demo.account.tier_id
    ] or [None]
    assert theirs is None or theirs.rate <= Decimal("10")
    for purchase in Purchase.objects.all():
        worth = purchase.points_earned * conf.point_value
        assert worth <= purchase.total * conf.earn_cap_percent / 100, purchase
