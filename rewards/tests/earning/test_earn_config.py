"""Each process keeps tiers, rules and stamp programs, and sees every change."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rewards import earn_config
from rewards.models import ProgramSettings, RuleKind
from rewards.services import (
    earning_rule_pause,
    purchase_record,
    reward_redeem,
)
from rewards.tests.factories import (
    EarningRuleFactory,
    RewardFactory,
    StampProgramFactory,
    TierFactory,
)

pytestmark = pytest.mark.django_db

_n = iter(range(1, 10_000))


def buy(member, store, total="100.00"):
    purchase, _replayed = purchase_record(
        store=store, member=member, receipt_id=f"EC{next(_n)}", total=total
    )
    return purchase


def token():
    return ProgramSettings.objects.values_list("config_version", flat=True).get()


def test_purchases_read_the_configuration_once_while_nothing_changes(member, store):
    buy(member, store)
    loads = earn_config.loads
    buy(member, store)
    buy(member, store)
    assert earn_config.loads == loads


def _statements(captured) -> list[str]:
    """The SQL a purchase sent, without the savepoint lines the test's own
    transaction turns its durable block into."""
    return [
        q["sql"].split(" ", 1)[0]
        for q in captured
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


def test_a_purchase_is_two_statements_once_the_configuration_is_held(member, store):
    """Lock the account reading the receipt, membership, pending referral and
    configuration token with it; then insert the purchase, move the balance,
    append the entry and open the lot (one statement on PostgreSQL, four on
    SQLite: rewards.ledger_rows)."""
    EarningRuleFactory(kind=RuleKind.PROMOTION, category="", stores=[store])
    buy(member, store)
    with CaptureQueriesContext(connection) as captured:
        buy(member, store)

    write = (
        ["WITH"]
        if connection.vendor == "postgresql"
        else ["INSERT", "UPDATE", "INSERT", "INSERT"]
    )
    assert _statements(captured.captured_queries) == ["SELECT", *write]


def test_a_purchase_that_earns_nothing_inserts_its_row_alone(member, store):
    conf = ProgramSettings.objects.get()
    conf.min_purchase = Decimal("1000.00")
    conf.save()
    buy(member, store)
    with CaptureQueriesContext(connection) as captured:
        purchase = buy(member, store)

    assert purchase.points_earned == 0 and purchase.pk is not None
    # PostgreSQL: the read, then the account's lock taken with the insert
    # (rewards.ledger_rows.row_insert_guarded).
    insert = "WITH" if connection.vendor == "postgresql" else "INSERT"
    assert _statements(captured.captured_queries) == ["SELECT", insert]
    assert purchase.balance_after == member.account.balance


def test_a_replayed_receipt_is_the_lock_and_one_read(member, store):
    first, _replayed = purchase_record(
        store=store, member=member, receipt_id="R-1", total="10.00"
    )
    with CaptureQueriesContext(connection) as captured:
        again, replayed = purchase_record(
            store=store, member=member, receipt_id="R-1", total="10.00"
        )

    assert replayed and again.pk == first.pk
    assert _statements(captured.captured_queries) == ["SELECT", "SELECT"]


def test_a_purchase_before_the_settings_row_exists_creates_it(member, store):
    ProgramSettings.objects.all().delete()

    purchase = buy(member, store)

    assert purchase.points_earned == 100
    assert ProgramSettings.objects.count() == 1


def test_a_change_to_the_settings_applies_to_the_next_purchase(member, store):
    assert buy(member, store).points_earned == 100
    conf = ProgramSettings.objects.get()
    conf.points_per_unit = Decimal(2)
    conf.save()

    assert buy(member, store).points_earned == 200


def test_a_new_rule_applies_to_the_next_purchase(member, store):
    assert buy(member, store).points_earned == 100
    rule = EarningRuleFactory(
        kind=RuleKind.PROMOTION, category="", multiplier=Decimal(2), stores=[store]
    )
    assert buy(member, store).points_earned == 200
    earning_rule_pause(rule=rule)
    assert buy(member, store).points_earned == 100


def test_a_tier_change_applies_to_the_next_purchase(member, store):
    tier = TierFactory(threshold=0, earn_multiplier=Decimal("1.5"))
    buy(member, store)  # qualifies for the tier
    assert buy(member, store).points_earned == 150
    tier.earn_multiplier = Decimal(2)
    tier.save()
    assert buy(member, store).points_earned == 200


def test_a_change_made_by_another_process_is_seen(member, store):
    """Another process's change arrives only as a new token in the database:
    this process's held configuration is not told."""
    buy(member, store)
    held = earn_config._held
    rule = EarningRuleFactory(
        kind=RuleKind.PROMOTION, category="", multiplier=Decimal(3), stores=[store]
    )
    earn_config._held = held  # as if the change had been made elsewhere
    assert held.version != token()
    assert buy(member, store).points_earned == 300
    assert rule in earn_config._held.rules


def test_every_kind_of_change_gives_a_new_token(member, store):
    seen = [token()]

    def changed():
        seen.append(token())
        return seen[-1] != seen[-2]

    tier = TierFactory()
    assert changed()
    rule = EarningRuleFactory()
    assert changed()
    rule.stores.set([store])
    assert changed()
    StampProgramFactory()
    assert changed()
    reward = RewardFactory(points_cost=10, stock=5)
    assert changed()
    tier.delete()
    assert changed()
    # A redemption takes stock: no configuration change, nothing to reload.
    buy(member, store, total="50.00")
    reward_redeem(member=member, reward=reward, idempotency_key="k1")
    assert not changed()


def test_the_lock_reads_the_membership_in_force_as_the_selector_does(member, store):
    """account_lock_sql writes subscriptions_in_force's rule again, in SQL: both
    must pick the same plan at every edge (not started yet, starting exactly then,
    paid until exactly then, cancelled, expired)."""
    import datetime as dt

    from django.utils import timezone

    from rewards.locks import account_lock_for_purchase
    from rewards.models import Subscription, SubscriptionStatus
    from rewards.selectors.memberships import membership_multiplier_get
    from rewards.tests.factories import MembershipPlanFactory

    t0 = timezone.now().replace(microsecond=0)
    hour = dt.timedelta(hours=1)
    rows = [  # (status, starts, ends, multiplier)
        (SubscriptionStatus.ACTIVE, t0, t0 + 3 * hour, "1.50"),
        (SubscriptionStatus.CANCELLED, t0 - hour, t0 + 9 * hour, "3.00"),
        (SubscriptionStatus.EXPIRED, t0 + 4 * hour, t0 + 8 * hour, "1.25"),
    ]
    for status, starts, ends, multiplier in rows:
        Subscription.objects.create(
            member=member,
            plan=MembershipPlanFactory(earn_multiplier=Decimal(multiplier)),
            status=status,
            started_at=starts,
            current_period_end=ends,
            store=store,
        )
    moments = [t0 + k * hour / 2 for k in range(-2, 19)]

    seen = set()
    for at in moments:
        account = account_lock_for_purchase(
            member_id=member.pk, store_id=store.pk, receipt_id="none", perks_at=at
        )
        by_sql = (
            (account.plan_name, account.plan_multiplier)
            if account.plan_name is not None
            else None
        )
        assert by_sql == membership_multiplier_get(member_id=member.pk, at=at), at
        seen.add(by_sql and by_sql[1])
    assert seen == {None, Decimal("1.50")}
