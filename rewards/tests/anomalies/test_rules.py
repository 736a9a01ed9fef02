"""Anomaly monitoring: each rule against a hand-built day, reruns, the Managers'
digest, the nightly task and the flags' admin."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from members.tests.factories import MemberFactory
from rewards.models import (
    AnomalyFlag,
    AnomalyRule,
    AnomalyStatus,
    AnomalySubject,
    StaffControls,
)
from rewards.selectors.anomalies import (
    anomaly_large_adjustment_members,
    anomaly_many_operations_cashiers,
    anomaly_many_transactions_members,
    anomaly_redeem_then_return_members,
)
from rewards.services import (
    points_adjust,
    points_redeem,
    purchase_record,
    purchase_return_record,
    reward_redeem,
    voucher_consume,
)
from rewards.services.anomalies import anomalies_scan, anomaly_flags_review
from rewards.tests.factories import RewardFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 10)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _controls(**values):
    StaffControls.objects.update_or_create(pk=1, defaults=values)


def _funded(store, points=5000):
    member = MemberFactory(store=store)
    points_adjust(
        member=member,
        points=points,
        reason="opening",
        created_by=None,
        recorded_at=at(DAY - dt.timedelta(days=60), 9),
    )
    return member


_receipts = iter(range(1, 1_000_000))


def _purchase(store, member, when, *, by=None, total="10.00"):
    purchase, _replayed = purchase_record(
        store=store,
        member=member,
        receipt_id=f"p{next(_receipts)}",
        total=Decimal(total),
        occurred_at=when,
        recorded_at=when,
        created_by=by,
    )
    return purchase


def _redeem(store, member, when, *, by=None, points=10):
    redemption, _replayed = points_redeem(
        member=member,
        store=store,
        points=points,
        receipt_id=f"r{next(_receipts)}",
        created_by=by,
        recorded_at=when,
    )
    return redemption


def _return(store, purchase, when, *, by=None, amount="5.00"):
    row, _replayed = purchase_return_record(
        purchase=purchase,
        store=store,
        receipt_id=f"x{next(_receipts)}",
        amount=Decimal(amount),
        created_by=by,
        recorded_at=when,
    )
    return row


def _subjects(hits):
    return sorted(hit.subject_id for hit in hits)


class TestManyTransactions:
    def test_flags_only_members_above_the_threshold(self, store):
        busy, normal, yesterday_busy = (_funded(store) for _ in range(3))
        for i in range(3):
            _purchase(store, busy, at(DAY, 10, i))
        _redeem(store, busy, at(DAY, 11))
        for i in range(3):
            _purchase(store, normal, at(DAY, 10, i))
        for i in range(6):
            _purchase(store, yesterday_busy, at(DAY - dt.timedelta(days=1), 23, i))

        hits = anomaly_many_transactions_members(day=DAY, threshold=3)

        assert _subjects(hits) == [busy.pk]
        assert hits[0].details == {"purchases": 3, "redemptions": 1, "threshold": 3}

    def test_counts_the_local_day_not_utc(self, store):
        member = _funded(store)
        # 00:30 in Kyiv on DAY is 22:30 UTC the day before.
        for i in range(3):
            _purchase(store, member, at(DAY, 0, 30 + i))
        assert _subjects(anomaly_many_transactions_members(day=DAY, threshold=2)) == [
            member.pk
        ]
        assert not anomaly_many_transactions_members(
            day=DAY - dt.timedelta(days=1), threshold=2
        )

    def test_zero_switches_the_rule_off(self, store):
        member = _funded(store)
        _purchase(store, member, at(DAY, 10))
        assert anomaly_many_transactions_members(day=DAY, threshold=0) == []


class TestCashierOperations:
    def test_flags_only_staff_above_the_threshold(self, store, cashier, manager):
        member = _funded(store)
        sold = [_purchase(store, member, at(DAY, 9, i), by=cashier) for i in range(2)]
        _return(store, sold[0], at(DAY, 12), by=cashier)
        _redeem(store, member, at(DAY, 13), by=cashier)
        _purchase(store, member, at(DAY, 9, 30), by=manager)
        _purchase(store, member, at(DAY, 9, 40))  # till API: no staff user

        hits = anomaly_many_operations_cashiers(day=DAY, threshold=3)

        assert _subjects(hits) == [cashier.pk]
        assert hits[0].subject_kind == AnomalySubject.CASHIER
        assert hits[0].details == {
            "purchases": 2,
            "returns": 1,
            "redemptions": 1,
            "threshold": 3,
        }


class TestRedeemThenReturn:
    def test_flags_a_return_within_the_window_after_a_redemption(self, store):
        fraud, late, no_redeem, return_first = (_funded(store) for _ in range(4))
        earlier = DAY - dt.timedelta(days=2)

        bought = _purchase(store, fraud, at(earlier, 9))
        redemption = _redeem(store, fraud, at(earlier, 10))
        returned = _return(store, bought, at(DAY, 15))

        bought = _purchase(store, late, at(DAY - dt.timedelta(days=30), 9))
        _redeem(store, late, at(DAY - dt.timedelta(days=20), 10))
        _return(store, bought, at(DAY, 15))

        bought = _purchase(store, no_redeem, at(earlier, 9))
        _return(store, bought, at(DAY, 15))

        bought = _purchase(store, return_first, at(earlier, 9))
        _return(store, bought, at(DAY, 9))
        _redeem(store, return_first, at(DAY, 18))

        hits = anomaly_redeem_then_return_members(day=DAY, window_days=7)

        assert _subjects(hits) == [fraud.pk]
        assert hits[0].details == {
            "returns": 1,
            "redemptions": 1,
            "vouchers": 0,
            "window_days": 7,
            "return_ids": [returned.pk],
            "redemption_ids": [redemption.pk],
            "returned_total": "5.00",
        }

    def test_a_used_voucher_counts_as_a_redemption(self, store):
        member = _funded(store)
        reward = RewardFactory(points_cost=100)
        voucher, _ = reward_redeem(
            member=member,
            reward=reward,
            idempotency_key="v-1",
            recorded_at=at(DAY - dt.timedelta(days=1), 9),
        )
        voucher_consume(
            code=voucher.code,
            store=store,
            receipt_id="till-1",
            recorded_at=at(DAY - dt.timedelta(days=1), 10),
        )
        bought = _purchase(store, member, at(DAY - dt.timedelta(days=1), 10))
        _return(store, bought, at(DAY, 11))

        hits = anomaly_redeem_then_return_members(day=DAY, window_days=3)

        assert _subjects(hits) == [member.pk]
        assert hits[0].details["vouchers"] == 1
        assert hits[0].details["voucher_ids"] == [voucher.pk]


class TestLargeAdjustment:
    def test_flags_adjustments_above_the_threshold_either_way(self, store, manager):
        given, taken, small = (_funded(store) for _ in range(3))
        big = points_adjust(
            member=given,
            points=1500,
            reason="x",
            created_by=manager,
            recorded_at=at(DAY, 10),
        )
        points_adjust(
            member=taken,
            points=-1200,
            reason="x",
            created_by=manager,
            recorded_at=at(DAY, 10),
        )
        points_adjust(
            member=small,
            points=900,
            reason="x",
            created_by=manager,
            recorded_at=at(DAY, 10),
        )

        hits = anomaly_large_adjustment_members(day=DAY, threshold=1000)

        assert _subjects(hits) == sorted([given.pk, taken.pk])
        by_member = {hit.subject_id: hit.details for hit in hits}
        assert by_member[given.pk] == {
            "adjustments": 1,
            "net_points": 1500,
            "largest": 1500,
            "threshold": 1000,
            "entry_ids": [big.pk],
            "staff_user_ids": [manager.pk],
        }
        assert by_member[taken.pk]["net_points"] == -1200


class TestScan:
    def _busy_day(self, store, cashier, manager):
        busy = _funded(store)
        for i in range(3):
            _purchase(store, busy, at(DAY, 10, i), by=cashier)
        points_adjust(
            member=busy,
            points=2000,
            reason="x",
            created_by=manager,
            recorded_at=at(DAY, 10),
        )
        return busy

    def test_writes_one_flag_per_rule_and_subject(self, store, cashier, manager):
        _controls(
            anomaly_member_daily_transactions=2,
            anomaly_cashier_daily_operations=2,
            anomaly_adjustment_points=1000,
        )
        busy = self._busy_day(store, cashier, manager)

        flags = anomalies_scan(day=DAY)

        assert sorted(
            (f.rule, f.subject_kind, f.member_id, f.user_id) for f in flags
        ) == sorted(
            [
                (AnomalyRule.LARGE_ADJUSTMENT, "member", busy.pk, None),
                (AnomalyRule.MANY_TRANSACTIONS, "cashier", None, cashier.pk),
                (AnomalyRule.MANY_TRANSACTIONS, "member", busy.pk, None),
            ]
        )
        assert AnomalyFlag.objects.filter(status=AnomalyStatus.OPEN).count() == 3

    def test_rerun_flags_nothing_twice(self, store, cashier, manager):
        _controls(anomaly_member_daily_transactions=2)
        self._busy_day(store, cashier, manager)
        anomalies_scan(day=DAY)

        assert anomalies_scan(day=DAY) == []
        assert AnomalyFlag.objects.count() == 2

    def test_a_reviewed_flag_is_not_reopened_by_a_rerun(self, store, cashier, manager):
        _controls(anomaly_member_daily_transactions=2)
        self._busy_day(store, cashier, manager)
        flag = anomalies_scan(day=DAY)[0]
        anomaly_flags_review(
            flag_ids=[flag.pk], status=AnomalyStatus.DISMISSED, by=manager
        )

        anomalies_scan(day=DAY)

        flag.refresh_from_db()
        assert flag.status == AnomalyStatus.DISMISSED

    @pytest.mark.parametrize("members", [2, 12])
    def test_query_count_does_not_grow_with_members(
        self, store, django_assert_max_num_queries, members
    ):
        _controls(anomaly_member_daily_transactions=1, anomaly_return_window_days=7)
        for _ in range(members):
            member = _funded(store)
            earlier = _purchase(store, member, at(DAY - dt.timedelta(days=1), 9))
            _redeem(store, member, at(DAY - dt.timedelta(days=1), 10))
            _purchase(store, member, at(DAY, 9))
            _purchase(store, member, at(DAY, 10))
            _return(store, earlier, at(DAY, 11))
            points_adjust(
                member=member,
                points=1500,
                reason="x",
                created_by=None,
                recorded_at=at(DAY, 12),
            )

        with django_assert_max_num_queries(14):
            flags = anomalies_scan(day=DAY, digest=True)

        assert len(flags) == 3 * members


class TestDigest:
    def test_managers_get_counts_per_rule_and_links(
        self,
        store,
        cashier,
        manager,
        marketer,
        django_capture_on_commit_callbacks,
        settings,
    ):
        settings.SITE_URL = "https://loyalty.example.com"
        from conftest import staff_user_make

        silent = staff_user_make("Manager", "no-email", store)
        silent.email = ""
        silent.save()
        manager.email = "boss@example.com"
        manager.save()
        _controls(anomaly_member_daily_transactions=2)
        TestScan()._busy_day(store, cashier, manager)

        with django_capture_on_commit_callbacks(execute=True):
            anomalies_scan(day=DAY, digest=True)

        assert len(mail.outbox) == 1
        email = mail.outbox[0]
        assert email.to == ["boss@example.com"]
        assert (
            email.subject == "Loyalty club: Unusual activity on 10 March 2026: 2 flags"
        )
        assert "- Many transactions in a day (Member): 1" in email.body
        assert "- Large manual adjustment (Member): 1" in email.body
        assert (
            "https://loyalty.example.com/admin/rewards/anomalyflag/"
            "?rule__exact=large_adjustment&subject_kind__exact=member&day=2026-03-10"
        ) in email.body

    def test_no_email_when_nothing_new(
        self, store, manager, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            anomalies_scan(day=DAY, digest=True)
        assert mail.outbox == []

    def test_nightly_task_scans_yesterday_and_mails_once(
        self, store, cashier, manager, django_capture_on_commit_callbacks, monkeypatch
    ):
        from rewards.tasks import anomalies_scan_daily

        _controls(anomaly_member_daily_transactions=2)
        TestScan()._busy_day(store, cashier, manager)
        monkeypatch.setattr(
            "django.utils.timezone.localdate", lambda *a, **k: DAY + dt.timedelta(1)
        )

        with django_capture_on_commit_callbacks(execute=True):
            assert anomalies_scan_daily() == 2
            assert anomalies_scan_daily() == 0

        assert len(mail.outbox) == 1
        assert AnomalyFlag.objects.filter(day=DAY).count() == 2


# --- Admin -------------------------------------------------------------------------


@pytest.fixture
def flags(store, cashier, manager):
    _controls(anomaly_member_daily_transactions=2, anomaly_cashier_daily_operations=2)
    busy = TestScan()._busy_day(store, cashier, manager)
    anomalies_scan(day=DAY)
    return busy


CHANGELIST = "admin:rewards_anomalyflag_changelist"


class TestAdmin:
    def test_manager_sees_the_changelist(self, client, manager, flags):
        client.force_login(manager)
        response = client.get(reverse(CHANGELIST))
        assert response.status_code == 200
        assert response.context["cl"].result_count == 3

    def test_search_by_card_phone_or_username(self, client, manager, cashier, flags):
        client.force_login(manager)
        url = reverse(CHANGELIST)
        assert client.get(url, {"q": flags.card_number}).context["cl"].result_count == 2
        assert client.get(url, {"q": flags.phone}).context["cl"].result_count == 2
        assert client.get(url, {"q": "cashier"}).context["cl"].result_count == 1

    def test_filters(self, client, manager, flags):
        client.force_login(manager)
        url = reverse(CHANGELIST)
        response = client.get(
            url, {"rule__exact": "large_adjustment", "subject_kind__exact": "member"}
        )
        assert response.context["cl"].result_count == 1
        response = client.get(url, {"day": DAY.isoformat(), "status__exact": "open"})
        assert response.context["cl"].result_count == 3

    def test_change_page_opens(self, client, manager, flags):
        client.force_login(manager)
        flag = AnomalyFlag.objects.first()
        url = reverse("admin:rewards_anomalyflag_change", args=[flag.pk])
        assert client.get(url).status_code == 200

    def test_no_add_page(self, client, manager, flags):
        client.force_login(manager)
        assert client.get(reverse("admin:rewards_anomalyflag_add")).status_code == 403

    @pytest.mark.parametrize(
        ("action", "status"),
        [("dismiss", AnomalyStatus.DISMISSED), ("confirm", AnomalyStatus.CONFIRMED)],
    )
    def test_actions_record_the_reviewer(self, client, manager, flags, action, status):
        client.force_login(manager)
        chosen = list(AnomalyFlag.objects.order_by("pk")[:2])
        response = client.post(
            reverse(CHANGELIST),
            {"action": action, "_selected_action": [f.pk for f in chosen]},
            follow=True,
        )
        assert response.status_code == 200
        for flag in chosen:
            flag.refresh_from_db()
            assert flag.status == status
            assert flag.reviewed_by == manager
            assert flag.reviewed_at is not None
        assert AnomalyFlag.objects.filter(status=AnomalyStatus.OPEN).count() == 1

    def test_a_reviewed_flag_keeps_its_first_decision(self, manager, flags):
        flag = AnomalyFlag.objects.first()
        anomaly_flags_review(flag_ids=[flag.pk], status="confirmed", by=manager)
        assert (
            anomaly_flags_review(flag_ids=[flag.pk], status="dismissed", by=manager)
            == 0
        )
        flag.refresh_from_db()
        assert flag.status == AnomalyStatus.CONFIRMED

    def test_cashier_cannot_see_the_flags(self, client, cashier, flags):
        client.force_login(cashier)
        assert client.get(reverse(CHANGELIST)).status_code == 403

    def test_marketer_cannot_see_the_flags(self, client, marketer, flags):
        client.force_login(marketer)
        assert client.get(reverse(CHANGELIST)).status_code == 403

    def test_changelist_queries_do_not_grow_with_flags(
        self, client, manager, flags, django_assert_max_num_queries
    ):
        client.force_login(manager)
        with django_assert_max_num_queries(20):
            client.get(reverse(CHANGELIST))

    def test_manager_edits_the_anomaly_thresholds(self, client, manager):
        client.force_login(manager)
        from rewards.services.counter_controls import staff_controls_ensure

        controls = staff_controls_ensure()
        url = reverse("admin:rewards_staffcontrols_change", args=[controls.pk])
        response = client.post(
            url,
            {
                "adjustment_approval_threshold": 500,
                "cashier_daily_redeemed_points": 20000,
                "cashier_daily_returns": 20,
                "anomaly_member_daily_transactions": 7,
                "anomaly_cashier_daily_operations": 90,
                "anomaly_return_window_days": 3,
                "anomaly_adjustment_points": 800,
            },
        )
        assert response.status_code == 302
        controls.refresh_from_db()
        assert controls.anomaly_member_daily_transactions == 7
        assert controls.anomaly_return_window_days == 3
