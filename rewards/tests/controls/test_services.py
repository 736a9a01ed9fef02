"""Manual adjustments under the four-eyes rule, and the audit rows they write."""

import datetime as dt

import pytest
from django.db.models import Sum
from django.utils import timezone

from members.audit import StaffActor
from members.errors import Conflict, Forbidden, InvalidInput
from members.models import AuditAction, StaffAuditEvent
from members.tests.factories import MemberFactory
from rewards.models import (
    AdjustmentRequest,
    AdjustmentStatus,
    LedgerEntry,
    LedgerKind,
    PointsAccount,
    StaffControls,
)
from rewards.selectors.controls import staff_controls_get
from rewards.services import (
    adjustment_approve,
    adjustment_refuse,
    adjustment_request,
    points_adjust,
)
from rewards.tests.ledger.test_races import run_together

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager2(store):
    from conftest import staff_user_make

    return staff_user_make("Manager", "manager2", store)


def _ledger_sum(member) -> int:
    account = PointsAccount.objects.get(member=member)
    total = account.entries.aggregate(s=Sum("points"))["s"] or 0
    assert account.balance == total
    return total


def _ask(member, actor, points, key="k1", reason="ticket 7"):
    return adjustment_request(
        member=member,
        points=points,
        reason=reason,
        actor=StaffActor(user=actor, ip="10.0.0.5"),
        idempotency_key=key,
    )


class TestThreshold:
    def test_adjustment_at_the_threshold_is_applied_at_once(self, member, manager):
        adjustment = _ask(member, manager, 500)
        assert adjustment.status == AdjustmentStatus.APPROVED
        assert adjustment.decided_by is None
        assert adjustment.ledger_entry.points == 500
        assert adjustment.ledger_entry.kind == LedgerKind.ADJUST
        assert _ledger_sum(member) == 500

    def test_adjustment_above_the_threshold_waits_and_moves_no_points(
        self, member, manager
    ):
        adjustment = _ask(member, manager, 501)
        assert adjustment.status == AdjustmentStatus.PENDING
        assert adjustment.ledger_entry is None
        assert _ledger_sum(member) == 0

    def test_a_deduction_counts_by_its_size(self, member, manager):
        points_adjust(member=member, points=900, reason="seed", created_by=manager)
        adjustment = _ask(member, manager, -600)
        assert adjustment.status == AdjustmentStatus.PENDING

    def test_threshold_is_read_from_staff_controls(self, member, manager):
        StaffControls.objects.update_or_create(
            pk=1, defaults={"adjustment_approval_threshold": 10}
        )
        assert _ask(member, manager, 11).status == AdjustmentStatus.PENDING

    def test_staff_controls_has_sensible_defaults(self):
        conf = staff_controls_get()
        assert conf.adjustment_approval_threshold == 500
        assert conf.cashier_daily_returns == 20
        assert conf.cashier_daily_redeemed_points == 20000

    def test_request_without_reason_is_refused_with_field(self, member, manager):
        with pytest.raises(InvalidInput, match="Give a reason") as exc:
            _ask(member, manager, 10, reason="  ")
        assert exc.value.field == "reason"

    def test_request_of_zero_points_is_refused(self, member, manager):
        with pytest.raises(InvalidInput, match="greater than zero"):
            _ask(member, manager, 0)

    def test_request_of_garbage_points_is_refused(self, member, manager):
        with pytest.raises(InvalidInput, match="whole number"):
            _ask(member, manager, "ten")

    def test_marketer_cannot_request_an_adjustment(self, member, marketer):
        with pytest.raises(Forbidden, match="may not adjust"):
            _ask(member, marketer, 10)
        assert not AdjustmentRequest.objects.exists()

    def test_cashier_cannot_request_an_adjustment(self, member, cashier):
        with pytest.raises(Forbidden):
            _ask(member, cashier, 10)


class TestIdempotency:
    def test_same_key_returns_the_first_applied_adjustment(self, member, manager):
        first = _ask(member, manager, 40)
        again = _ask(member, manager, 40)
        assert again.pk == first.pk
        assert LedgerEntry.objects.filter(kind=LedgerKind.ADJUST).count() == 1
        assert _ledger_sum(member) == 40

    def test_same_key_returns_the_first_pending_request(self, member, manager):
        first = _ask(member, manager, 4000)
        assert _ask(member, manager, 4000).pk == first.pk
        assert AdjustmentRequest.objects.count() == 1

    def test_same_key_with_other_points_is_a_conflict(self, member, manager):
        _ask(member, manager, 40)
        with pytest.raises(Conflict, match="already made with other details"):
            _ask(member, manager, 41)


class TestRollingWindow:
    """The threshold bounds what one staff member applies at once to one member
    in 24 hours, added and taken alike; reviewed requests do not count."""

    def test_split_adjustments_past_the_threshold_wait(self, member, manager):
        assert _ask(member, manager, 499, key="a").status == AdjustmentStatus.APPROVED
        second = _ask(member, manager, 499, key="b")
        assert second.status == AdjustmentStatus.PENDING
        assert _ledger_sum(member) == 499
        event = StaffAuditEvent.objects.get(action=AuditAction.ADJUSTMENT_REQUESTED)
        assert event.details == {
            "points": 499,
            "threshold": 500,
            "applied_in_window": 499,
        }

    def test_up_to_the_threshold_in_pieces_is_applied(self, member, manager):
        for key, points in (("a", 200), ("b", -100), ("c", 200)):
            assert _ask(member, manager, points, key=key).status == (
                AdjustmentStatus.APPROVED
            )
        assert _ask(member, manager, 1, key="d").status == AdjustmentStatus.PENDING

    def test_an_adjustment_25_hours_ago_does_not_count(self, member, manager):
        first = _ask(member, manager, 499, key="a")
        AdjustmentRequest.objects.filter(pk=first.pk).update(
            requested_at=timezone.now() - dt.timedelta(hours=25)
        )
        assert _ask(member, manager, 499, key="b").status == AdjustmentStatus.APPROVED

    def test_an_adjustment_23_hours_ago_counts(self, member, manager):
        first = _ask(member, manager, 499, key="a")
        AdjustmentRequest.objects.filter(pk=first.pk).update(
            requested_at=timezone.now() - dt.timedelta(hours=23)
        )
        assert _ask(member, manager, 2, key="b").status == AdjustmentStatus.PENDING

    def test_another_staff_member_or_member_has_their_own_allowance(
        self, store, member, manager, manager2
    ):
        _ask(member, manager, 499, key="a")
        other = MemberFactory(store=store)
        assert _ask(member, manager2, 499, key="b").status == (
            AdjustmentStatus.APPROVED
        )
        assert _ask(other, manager, 499, key="c").status == AdjustmentStatus.APPROVED

    def test_pending_refused_and_approved_requests_do_not_count(
        self, member, manager, manager2
    ):
        waiting = _ask(member, manager, 2000, key="a")
        refused = _ask(member, manager, 3000, key="b")
        adjustment_refuse(adjustment_id=refused.pk, actor=StaffActor(user=manager2))
        adjustment_approve(adjustment_id=waiting.pk, actor=StaffActor(user=manager2))
        _ask(member, manager, 1000, key="c")  # stays pending
        assert _ask(member, manager, 500, key="d").status == (AdjustmentStatus.APPROVED)


class TestApproval:
    def test_another_manager_approves_and_points_are_posted_once(
        self, member, manager, manager2
    ):
        pending = _ask(member, manager, 2000)
        approved, replayed = adjustment_approve(
            adjustment_id=pending.pk, actor=StaffActor(user=manager2)
        )
        assert not replayed
        assert approved.status == AdjustmentStatus.APPROVED
        assert approved.decided_by == manager2
        assert approved.ledger_entry.points == 2000
        assert approved.ledger_entry.created_by == manager
        again, replayed = adjustment_approve(
            adjustment_id=pending.pk, actor=StaffActor(user=manager2)
        )
        assert replayed and again.ledger_entry_id == approved.ledger_entry_id
        assert LedgerEntry.objects.filter(kind=LedgerKind.ADJUST).count() == 1
        assert _ledger_sum(member) == 2000

    def test_requester_cannot_approve_their_own(self, member, manager):
        pending = _ask(member, manager, 2000)
        with pytest.raises(Forbidden, match="another Manager must decide"):
            adjustment_approve(adjustment_id=pending.pk, actor=StaffActor(user=manager))
        pending.refresh_from_db()
        assert pending.status == AdjustmentStatus.PENDING
        assert _ledger_sum(member) == 0

    def test_cashier_cannot_approve(self, member, manager, cashier):
        pending = _ask(member, manager, 2000)
        with pytest.raises(Forbidden, match="Only a Manager"):
            adjustment_approve(adjustment_id=pending.pk, actor=StaffActor(user=cashier))

    def test_marketer_cannot_refuse(self, member, manager, marketer):
        pending = _ask(member, manager, 2000)
        with pytest.raises(Forbidden, match="Only a Manager"):
            adjustment_refuse(adjustment_id=pending.pk, actor=StaffActor(user=marketer))

    def test_refused_request_cannot_be_approved(self, member, manager, manager2):
        pending = _ask(member, manager, 2000)
        refused, replayed = adjustment_refuse(
            adjustment_id=pending.pk, actor=StaffActor(user=manager2), note="no"
        )
        assert not replayed and refused.status == AdjustmentStatus.REFUSED
        with pytest.raises(Conflict, match="was refused"):
            adjustment_approve(
                adjustment_id=pending.pk, actor=StaffActor(user=manager2)
            )
        assert _ledger_sum(member) == 0

    def test_approved_request_cannot_be_refused(self, member, manager, manager2):
        pending = _ask(member, manager, 2000)
        adjustment_approve(adjustment_id=pending.pk, actor=StaffActor(user=manager2))
        with pytest.raises(Conflict, match="approved already"):
            adjustment_refuse(adjustment_id=pending.pk, actor=StaffActor(user=manager2))

    def test_refusing_twice_replays(self, member, manager, manager2):
        pending = _ask(member, manager, 2000)
        adjustment_refuse(adjustment_id=pending.pk, actor=StaffActor(user=manager2))
        _again, replayed = adjustment_refuse(
            adjustment_id=pending.pk, actor=StaffActor(user=manager2)
        )
        assert replayed

    def test_deduction_that_would_overdraw_stays_pending(
        self, member, manager, manager2
    ):
        pending = _ask(member, manager, -2000)
        with pytest.raises(Conflict, match="below zero"):
            adjustment_approve(
                adjustment_id=pending.pk, actor=StaffActor(user=manager2)
            )
        pending.refresh_from_db()
        assert pending.status == AdjustmentStatus.PENDING
        assert not StaffAuditEvent.objects.filter(
            action=AuditAction.ADJUSTMENT_APPROVED
        ).exists()

    def test_unknown_request_is_not_found(self, manager2):
        from members.errors import NotFound

        with pytest.raises(NotFound):
            adjustment_approve(adjustment_id=999999, actor=StaffActor(user=manager2))


class TestAudit:
    def test_applied_adjustment_writes_one_audit_row(self, member, manager):
        adjustment = _ask(member, manager, 40)
        event = StaffAuditEvent.objects.get()
        assert event.action == AuditAction.ADJUSTMENT_APPLIED
        assert event.actor == manager
        assert event.member_id == member.pk
        assert event.object_type == "rewards.adjustmentrequest"
        assert event.object_id == str(adjustment.pk)
        assert event.details["ledger_entry"] == adjustment.ledger_entry_id
        assert event.ip == "10.0.0.5"

    def test_request_approve_and_refuse_are_audited(self, member, manager, manager2):
        first = _ask(member, manager, 2000, key="a")
        second = _ask(member, manager, 3000, key="b")
        adjustment_approve(adjustment_id=first.pk, actor=StaffActor(user=manager2))
        adjustment_refuse(adjustment_id=second.pk, actor=StaffActor(user=manager2))
        actions = list(
            StaffAuditEvent.objects.order_by("id").values_list("action", "actor")
        )
        assert actions == [
            (AuditAction.ADJUSTMENT_REQUESTED, manager.pk),
            (AuditAction.ADJUSTMENT_REQUESTED, manager.pk),
            (AuditAction.ADJUSTMENT_APPROVED, manager2.pk),
            (AuditAction.ADJUSTMENT_REFUSED, manager2.pk),
        ]

    def test_audit_log_refuses_update_and_delete(self, member, manager):
        from members.models import AuditAppendOnlyError

        _ask(member, manager, 40)
        event = StaffAuditEvent.objects.get()
        with pytest.raises(AuditAppendOnlyError):
            StaffAuditEvent.objects.update(action="x")
        with pytest.raises(AuditAppendOnlyError):
            StaffAuditEvent.objects.all().delete()
        with pytest.raises(AuditAppendOnlyError):
            event.delete()
        event.action = AuditAction.MEMBER_VIEWED
        with pytest.raises(AuditAppendOnlyError):
            event.save()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestConcurrentApprovals:
    def test_concurrent_approvals_post_exactly_one_entry(self, store):
        from conftest import staff_user_make

        member = MemberFactory(store=store)
        requester = staff_user_make("Manager", "req", store)
        approvers = [staff_user_make("Manager", f"appr{i}", store) for i in range(8)]
        pending = _ask(member, requester, 2000)
        results = run_together(
            8,
            lambda i: adjustment_approve(
                adjustment_id=pending.pk, actor=StaffActor(user=approvers[i])
            ),
        )
        assert all(isinstance(r, tuple) for r in results), results
        assert sum(1 for _row, replayed in results if not replayed) == 1
        assert LedgerEntry.objects.filter(kind=LedgerKind.ADJUST).count() == 1
        assert _ledger_sum(member) == 2000
        assert (
            StaffAuditEvent.objects.filter(
                action=AuditAction.ADJUSTMENT_APPROVED
            ).count()
            == 1
        )

    def test_approve_racing_refuse_never_both(self, store):
        from conftest import staff_user_make

        member = MemberFactory(store=store)
        requester = staff_user_make("Manager", "req", store)
        a, b = (
            staff_user_make("Manager", "ma", store),
            staff_user_make("Manager", "mb", store),
        )
        for round_ in range(5):
            pending = _ask(member, requester, 1000, key=f"race-{round_}")
            results = run_together(
                2,
                lambda i, pk=pending.pk: (
                    adjustment_approve if i == 0 else adjustment_refuse
                )(adjustment_id=pk, actor=StaffActor(user=(a, b)[i])),
            )
            pending.refresh_from_db()
            posted = LedgerEntry.objects.filter(
                idempotency_key=f"race-{round_}"
            ).count()
            assert posted == (1 if pending.status == AdjustmentStatus.APPROVED else 0)
            assert sum(isinstance(r, Conflict) for r in results) == 1, results
        _ledger_sum(member)
