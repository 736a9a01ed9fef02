"""The Counter under staff controls: cashier daily limits and the audit log."""

import pytest
from django.urls import reverse

from members.models import AuditAction, StaffAuditEvent
from members.tests.factories import MemberFactory
from rewards.models import PurchaseReturn, Redemption, StaffControls
from rewards.selectors.ledger import member_balance_get
from rewards.services import points_adjust, purchase_record, reward_redeem
from rewards.tests.factories import RewardFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cashier_client(client, cashier):
    client.force_login(cashier)
    return client


@pytest.fixture
def rich_member(store):
    member = MemberFactory(store=store)
    points_adjust(member=member, points=5000, reason="start", created_by=None)
    return member


def _limits(**values):
    StaffControls.objects.update_or_create(pk=1, defaults=values)


def _redeem(client, member, points, receipt_id):
    return client.post(
        reverse("admin:counter_redeem", args=[member.pk]),
        {"redeem-points": points, "redeem-receipt_id": receipt_id},
    )


def _return(client, member, purchase, amount, receipt_id):
    return client.post(
        reverse("admin:counter_return", args=[member.pk]),
        {
            "return-purchase": purchase.pk,
            "return-amount": amount,
            "return-receipt_id": receipt_id,
        },
    )


def _events(action):
    return StaffAuditEvent.objects.filter(action=action)


class TestDailyRedeemLimit:
    def test_cashier_redeems_up_to_the_daily_limit(self, cashier_client, rich_member):
        _limits(cashier_daily_redeemed_points=300)
        assert _redeem(cashier_client, rich_member, 200, "D-1").status_code == 302
        assert _redeem(cashier_client, rich_member, 100, "D-2").status_code == 302
        assert Redemption.objects.count() == 2

    def test_redemption_over_the_daily_limit_is_refused_naming_the_limit(
        self, cashier_client, rich_member, store
    ):
        _limits(cashier_daily_redeemed_points=300)
        other = MemberFactory(store=store)
        points_adjust(member=other, points=500, reason="start", created_by=None)
        _redeem(cashier_client, rich_member, 250, "D-1")
        response = _redeem(cashier_client, other, 100, "D-2")
        assert response.status_code == 200
        errors = response.context["redeem_form"].errors["points"]
        assert errors == [
            "Daily limit reached: a cashier may redeem at most 300 points a day, "
            "and you have redeemed 250 today. Ask a Manager to redeem these 100 "
            "points."
        ]
        assert Redemption.objects.count() == 1
        assert member_balance_get(member_id=other.pk) == 500
        refused = _events(AuditAction.LIMIT_REFUSED).get()
        assert refused.member_id == other.pk
        assert refused.details == {"limit": 300, "field": "points"}
        # The refused redemption left no audit row of its own.
        assert _events(AuditAction.POINTS_REDEEMED).count() == 1

    def test_manager_is_not_bound_by_the_cashier_limit(
        self, client, manager, rich_member
    ):
        _limits(cashier_daily_redeemed_points=100)
        client.force_login(manager)
        assert _redeem(client, rich_member, 1000, "D-1").status_code == 302

    def test_zero_switches_the_limit_off(self, cashier_client, rich_member):
        _limits(cashier_daily_redeemed_points=0)
        assert _redeem(cashier_client, rich_member, 4000, "D-1").status_code == 302

    def test_a_replayed_redemption_does_not_count_twice(
        self, cashier_client, rich_member
    ):
        _limits(cashier_daily_redeemed_points=300)
        _redeem(cashier_client, rich_member, 300, "D-1")
        response = _redeem(cashier_client, rich_member, 300, "D-1")
        assert response.status_code == 302  # replayed, not refused
        assert Redemption.objects.count() == 1


class TestDailyReturnLimit:
    def test_returns_over_the_daily_limit_are_refused(
        self, cashier_client, rich_member, store
    ):
        _limits(cashier_daily_returns=2)
        purchase, _ = purchase_record(
            store=store, member=rich_member, receipt_id="P-1", total="900"
        )
        for i in (1, 2):
            response = _return(cashier_client, rich_member, purchase, "10", f"R-{i}")
            assert response.status_code == 302
        response = _return(cashier_client, rich_member, purchase, "10", "R-3")
        assert response.status_code == 200
        assert response.context["return_form"].errors["amount"] == [
            "Daily limit reached: a cashier may record at most 2 returns a day. "
            "Ask a Manager to record this one."
        ]
        assert PurchaseReturn.objects.count() == 2


class TestCounterAudit:
    def test_opening_the_member_panel_is_audited(
        self, cashier_client, cashier, rich_member
    ):
        response = cashier_client.get(
            reverse("admin:counter_member", args=[rich_member.pk]),
            REMOTE_ADDR="192.0.2.7",
        )
        assert response.status_code == 200
        event = _events(AuditAction.MEMBER_VIEWED).get()
        assert (event.actor, event.member_id) == (cashier, rich_member.pk)
        assert event.details == {"page": "counter"}
        assert event.ip == "192.0.2.7"

    def test_purchase_return_and_redemption_are_audited(
        self, cashier_client, cashier, rich_member, store
    ):
        cashier_client.post(
            reverse("admin:counter_purchase", args=[rich_member.pk]),
            {"purchase-total": "250.00", "purchase-receipt_id": "C-1"},
        )
        purchase = rich_member.purchases.get()
        _return(cashier_client, rich_member, purchase, "50", "R-1")
        _redeem(cashier_client, rich_member, 100, "D-1")
        rows = list(
            StaffAuditEvent.objects.exclude(action=AuditAction.MEMBER_VIEWED)
            .order_by("id")
            .values_list("action", "actor", "member", "object_type")
        )
        assert rows == [
            (
                AuditAction.PURCHASE_RECORDED,
                cashier.pk,
                rich_member.pk,
                "rewards.purchase",
            ),
            (
                AuditAction.RETURN_RECORDED,
                cashier.pk,
                rich_member.pk,
                "rewards.purchasereturn",
            ),
            (
                AuditAction.POINTS_REDEEMED,
                cashier.pk,
                rich_member.pk,
                "rewards.redemption",
            ),
        ]
        purchase_event = _events(AuditAction.PURCHASE_RECORDED).get()
        assert purchase_event.details["receipt"] == "C-1"
        assert purchase_event.details["total"] == "250.00"

    def test_a_replayed_purchase_writes_no_second_audit_row(
        self, cashier_client, rich_member
    ):
        data = {"purchase-total": "250.00", "purchase-receipt_id": "C-1"}
        url = reverse("admin:counter_purchase", args=[rich_member.pk])
        cashier_client.post(url, data)
        cashier_client.post(url, data)
        assert _events(AuditAction.PURCHASE_RECORDED).count() == 1

    def test_voucher_use_is_audited(self, cashier_client, cashier, rich_member):
        reward = RewardFactory(name="Free coffee", points_cost=150, stock=10)
        voucher, _ = reward_redeem(
            member=rich_member, reward=reward, idempotency_key="k"
        )
        cashier_client.post(
            reverse("admin:counter_voucher"),
            {"voucher-code": voucher.code, "voucher-receipt_id": "CV-1"},
        )
        event = _events(AuditAction.VOUCHER_CONSUMED).get()
        assert event.member_id == rich_member.pk
        assert event.object_id == str(voucher.pk)
        assert event.details["code"] == voucher.code


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_tills_of_one_cashier_cannot_both_slip_under_the_limit(store):
    from conftest import staff_user_make
    from members.audit import StaffActor
    from members.errors import Conflict
    from rewards.services import DailyLimitReached, counter_hook, points_redeem
    from rewards.tests.ledger.test_races import run_together

    cashier = staff_user_make("Cashier", "busy-cashier", store)
    members = [MemberFactory(store=store) for _ in range(10)]
    for member in members:
        points_adjust(member=member, points=100, reason="start", created_by=None)
    _limits(cashier_daily_redeemed_points=500)

    def redeem(i):
        return points_redeem(
            member=members[i],
            store=store,
            points=100,
            receipt_id=f"T-{i}",
            created_by=cashier,
            on_written=counter_hook(
                actor=StaffActor(user=cashier), action=AuditAction.POINTS_REDEEMED
            ),
        )

    results = run_together(10, redeem)
    assert sum(isinstance(r, tuple) for r in results) == 5
    assert sum(isinstance(r, DailyLimitReached) for r in results) == 5
    assert all(isinstance(r, tuple | Conflict) for r in results)
    assert Redemption.objects.filter(created_by=cashier).count() == 5
    assert _events(AuditAction.POINTS_REDEEMED).count() == 5
