"""Admin pages of staff controls: the adjustment form and queue, the audit log,
anonymizing, and who may use them."""

import pytest
from django.urls import reverse

from members.audit import StaffActor
from members.models import AuditAction, StaffAuditEvent
from rewards.models import AdjustmentRequest, AdjustmentStatus, LedgerEntry, LedgerKind
from rewards.selectors.ledger import member_balance_get
from rewards.services import adjustment_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager2(store):
    from conftest import staff_user_make

    return staff_user_make("Manager", "manager2", store)


@pytest.fixture
def su_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _login(client, user):
    client.force_login(user)
    return client


def _adjust(client, member, points, key="adm-1"):
    return client.post(
        reverse("admin:members_member_adjust_points", args=[member.pk]),
        {"points": points, "reason": "ticket 9", "idempotency_key": key},
        follow=True,
    )


def _pending(member, user, points=2000, key="q-1"):
    return adjustment_request(
        member=member,
        points=points,
        reason="big fix",
        actor=StaffActor(user=user),
        idempotency_key=key,
    )


def _queue_action(client, action, *requests):
    return client.post(
        reverse("admin:rewards_adjustmentrequest_changelist")
        + "?status__exact=pending",
        {"action": action, "_selected_action": [r.pk for r in requests]},
        follow=True,
    )


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


class TestAdjustmentForm:
    def test_small_adjustment_is_applied_at_once(self, client, manager, member):
        response = _adjust(_login(client, manager), member, 50)
        assert _messages(response) == [
            "Points adjusted by +50. The balance is now 50 points."
        ]
        assert AdjustmentRequest.objects.get().status == AdjustmentStatus.APPROVED

    def test_large_adjustment_waits_for_approval(self, client, manager, member):
        response = _adjust(_login(client, manager), member, 900)
        assert _messages(response) == [
            "An adjustment of +900 points would take what you adjusted for this "
            "member in 24 hours above the approval threshold of 500 points: it "
            "waits for another Manager's approval."
        ]
        assert member_balance_get(member_id=member.pk) == 0
        assert AdjustmentRequest.objects.get().status == AdjustmentStatus.PENDING

    def test_the_form_states_the_threshold(self, client, manager, member):
        response = _login(client, manager).get(
            reverse("admin:members_member_adjust_points", args=[member.pk])
        )
        assert "more than 500 points" in response.content.decode()

    def test_double_submit_adjusts_once(self, client, manager, member):
        _login(client, manager)
        _adjust(client, member, 50, key="same")
        _adjust(client, member, 50, key="same")
        assert LedgerEntry.objects.filter(kind=LedgerKind.ADJUST).count() == 1

    def test_marketer_cannot_adjust(self, client, marketer, member):
        response = _adjust(_login(client, marketer), member, 50)
        assert response.status_code == 403
        assert not AdjustmentRequest.objects.exists()

    def test_cashier_cannot_adjust(self, client, cashier, member):
        assert _adjust(_login(client, cashier), member, 50).status_code == 403


class TestApprovalQueue:
    def test_changelist_opens_on_pending(self, client, manager, manager2, member):
        _pending(member, manager)
        response = _login(client, manager2).get(
            reverse("admin:rewards_adjustmentrequest_changelist")
        )
        assert response.status_code == 302
        assert "status__exact=pending" in response["Location"]

    def test_changelist_search_and_change_page(self, su_client, manager, member):
        adjustment = _pending(member, manager)
        url = reverse("admin:rewards_adjustmentrequest_changelist")
        response = su_client.get(url, {"q": member.card_number})
        assert response.status_code == 200
        assert "big fix" in response.content.decode()
        response = su_client.get(
            reverse("admin:rewards_adjustmentrequest_change", args=[adjustment.pk])
        )
        assert response.status_code == 200
        assert (
            su_client.get(reverse("admin:rewards_adjustmentrequest_add")).status_code
            == 403
        )

    def test_another_manager_approves_from_the_queue(
        self, client, manager, manager2, member
    ):
        adjustment = _pending(member, manager)
        response = _queue_action(_login(client, manager2), "approve", adjustment)
        assert "1 adjustment approved." in _messages(response)
        assert member_balance_get(member_id=member.pk) == 2000

    def test_requester_cannot_approve_their_own_from_the_queue(
        self, client, manager, member
    ):
        adjustment = _pending(member, manager)
        response = _queue_action(_login(client, manager), "approve", adjustment)
        assert (
            "You asked for this adjustment; another Manager must decide on it."
            in _messages(response)
        )
        assert member_balance_get(member_id=member.pk) == 0

    def test_manager_refuses_from_the_queue(self, client, manager, manager2, member):
        adjustment = _pending(member, manager)
        response = _queue_action(_login(client, manager2), "refuse", adjustment)
        assert "1 adjustment refused." in _messages(response)
        adjustment.refresh_from_db()
        assert adjustment.status == AdjustmentStatus.REFUSED

    def test_cashier_cannot_see_the_queue(self, client, cashier):
        response = _login(client, cashier).get(
            reverse("admin:rewards_adjustmentrequest_changelist")
            + "?status__exact=pending"
        )
        assert response.status_code == 403

    def test_marketer_cannot_see_the_queue(self, client, marketer):
        response = _login(client, marketer).get(
            reverse("admin:rewards_adjustmentrequest_changelist")
            + "?status__exact=pending"
        )
        assert response.status_code == 403


class TestMemberPageAudit:
    def test_opening_the_member_page_writes_an_audit_row(self, client, manager, member):
        response = _login(client, manager).get(
            reverse("admin:members_member_change", args=[member.pk])
        )
        assert response.status_code == 200
        event = StaffAuditEvent.objects.get(action=AuditAction.MEMBER_VIEWED)
        assert (event.actor, event.member_id) == (manager, member.pk)
        assert event.details == {"page": "admin"}
        assert event.ip == "127.0.0.1"

    def test_editing_a_member_is_audited_with_field_names_only(
        self, su_client, admin_user, member
    ):
        url = reverse("admin:members_member_change", args=[member.pk])
        form = su_client.get(url).context["adminform"].form
        data = {
            name: ("" if value is None else value)
            for name, value in form.initial.items()
            if name in form.fields
        }
        data.update(first_name="Newname", interests="[]")
        data = {k: v for k, v in data.items() if v is not False}
        response = su_client.post(url, data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        event = StaffAuditEvent.objects.get(action=AuditAction.MEMBER_CHANGED)
        assert event.actor == admin_user
        assert "first_name" in event.details["fields"]
        assert "Newname" not in str(event.details)

    def test_manager_sees_the_audit_log_of_a_member(self, client, manager, member):
        _login(client, manager).get(
            reverse("admin:members_member_change", args=[member.pk])
        )
        url = reverse("admin:members_staffauditevent_changelist")
        response = client.get(url, {"member": member.pk})
        assert response.status_code == 200
        assert response.context["cl"].result_count == 1


class TestAuditLogAdmin:
    def test_changelist_filters_and_search(self, su_client, manager, member):
        _pending(member, manager)
        url = reverse("admin:members_staffauditevent_changelist")
        for params in (
            {},
            {"action__exact": AuditAction.ADJUSTMENT_REQUESTED},
            {"actor__id__exact": manager.pk},
            {"member": member.pk},
            {"member": "nope"},
            {"q": member.card_number},
            {"created_at__year": "2026"},
        ):
            assert su_client.get(url, params).status_code == 200, params
        response = su_client.get(url, {"actor__id__exact": manager.pk})
        assert response.context["cl"].result_count == 1

    def test_change_page_is_read_only(self, su_client, manager, member):
        _pending(member, manager)
        event = StaffAuditEvent.objects.get()
        url = reverse("admin:members_staffauditevent_change", args=[event.pk])
        response = su_client.get(url)
        assert response.status_code == 200
        assert not response.context["has_change_permission"]
        assert (
            su_client.get(reverse("admin:members_staffauditevent_add")).status_code
            == 403
        )
        assert (
            su_client.post(
                reverse("admin:members_staffauditevent_delete", args=[event.pk])
            ).status_code
            == 403
        )

    def test_list_runs_a_bounded_number_of_queries(
        self, su_client, manager, member, django_assert_max_num_queries
    ):
        for i in range(30):
            _pending(member, manager, key=f"k{i}")
        url = reverse("admin:members_staffauditevent_changelist")
        with django_assert_max_num_queries(15):
            su_client.get(url)

    def test_cashier_cannot_read_the_audit_log(self, client, cashier):
        response = _login(client, cashier).get(
            reverse("admin:members_staffauditevent_changelist")
        )
        assert response.status_code == 403


class TestStaffControlsAdmin:
    def test_changelist_opens_the_one_row(self, client, manager):
        response = _login(client, manager).get(
            reverse("admin:rewards_staffcontrols_changelist")
        )
        assert response.status_code == 302
        response = client.get(response["Location"])
        assert response.status_code == 200

    def test_manager_changes_the_threshold(self, client, manager):
        from rewards.services.counter_controls import staff_controls_ensure

        row = staff_controls_ensure()
        response = _login(client, manager).post(
            reverse("admin:rewards_staffcontrols_change", args=[row.pk]),
            {
                "adjustment_approval_threshold": "100",
                "cashier_daily_redeemed_points": "5000",
                "cashier_daily_returns": "5",
                "anomaly_member_daily_transactions": "20",
                "anomaly_cashier_daily_operations": "200",
                "anomaly_return_window_days": "7",
                "anomaly_adjustment_points": "1000",
            },
        )
        assert response.status_code == 302
        row.refresh_from_db()
        assert row.adjustment_approval_threshold == 100

    def test_cashier_cannot_open_staff_controls(self, client, cashier):
        response = _login(client, cashier).get(
            reverse("admin:rewards_staffcontrols_changelist")
        )
        assert response.status_code == 403


class TestAnonymizeAdmin:
    def test_manager_anonymizes_from_the_member_page(self, client, manager, member):
        _login(client, manager)
        page = client.get(reverse("admin:members_member_change", args=[member.pk]))
        url = reverse("admin:members_member_anonymize", args=[member.pk])
        assert url in page.content.decode()
        assert client.get(url).status_code == 200
        response = client.post(url, follow=True)
        assert _messages(response)[-1] == (
            "The member's personal data was erased; points and purchases are kept."
        )
        member.refresh_from_db()
        assert member.first_name == "" and member.phone == f"erased-{member.pk}"
        event = StaffAuditEvent.objects.get(action=AuditAction.MEMBER_ANONYMIZED)
        assert event.actor == manager

    def test_cashier_cannot_anonymize(self, client, cashier, member):
        url = reverse("admin:members_member_anonymize", args=[member.pk])
        assert _login(client, cashier).post(url).status_code == 403
        member.refresh_from_db()
        assert member.first_name

    def test_marketer_cannot_anonymize(self, client, marketer, member):
        url = reverse("admin:members_member_anonymize", args=[member.pk])
        assert _login(client, marketer).post(url).status_code == 403

    def test_erasure_list(self, su_client, manager, member):
        from members.models import ErasureSource
        from members.privacy import member_anonymize

        member_anonymize(
            member=member, actor=StaffActor(user=manager), source=ErasureSource.ADMIN
        )
        url = reverse("admin:members_membererasure_changelist")
        for params in ({}, {"q": member.card_number}, {"source__exact": "admin"}):
            assert su_client.get(url, params).status_code == 200


@pytest.mark.parametrize(
    ("group", "perm", "granted"),
    [
        ("Manager", "rewards.approve_adjustmentrequest", True),
        ("Manager", "members.view_staffauditevent", True),
        ("Manager", "rewards.change_staffcontrols", True),
        ("Manager", "members.add_membererasure", True),
        ("Manager", "rewards.exempt_daily_limits", True),
        ("Cashier", "rewards.approve_adjustmentrequest", False),
        ("Cashier", "members.view_staffauditevent", False),
        ("Cashier", "rewards.exempt_daily_limits", False),
        ("Cashier", "members.add_membererasure", False),
        ("Marketer", "rewards.approve_adjustmentrequest", False),
        ("Marketer", "members.add_membererasure", False),
        ("Marketer", "rewards.adjust_points", False),
    ],
)
def test_staff_groups_hold_the_control_rights(
    group, perm, granted, cashier, manager, marketer
):
    user = {"Cashier": cashier, "Manager": manager, "Marketer": marketer}[group]
    assert user.has_perm(perm) is granted
