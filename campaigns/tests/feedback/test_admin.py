"""Back office for feedback: the complaints queue (rights, filters, actions, the
work page), the counter form, surveys and answers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from campaigns.feedback.services import complaint_file
from campaigns.models import Complaint, ComplaintSource, ComplaintStatus, Message
from campaigns.tests.factories import response_make, survey_make
from members.models import AuditAction, StaffAuditEvent
from members.tests.factories import MemberFactory
from rewards.models import AdjustmentStatus
from rewards.selectors.ledger import member_balance_get

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:campaigns_complaint_changelist"


@pytest.fixture
def complaint(member):
    return complaint_file(member=member, topic="service", body="Long queue")


def _work_url(complaint):
    return reverse("admin:campaigns_complaint_change", args=[complaint.pk])


def _login(client, user):
    client.force_login(user)
    return client


class TestQueueRights:
    def test_cashier_may_log_but_not_see_the_queue(self, client, cashier, complaint):
        _login(client, cashier)
        assert client.get(reverse("admin:campaigns_complaint_add")).status_code == 200
        assert client.get(reverse(CHANGELIST)).status_code == 403
        assert client.get(_work_url(complaint)).status_code == 403

    @pytest.mark.parametrize("role", ["manager", "marketer"])
    def test_managers_and_marketers_work_the_queue(
        self, client, request, role, complaint
    ):
        _login(client, request.getfixturevalue(role))
        assert client.get(reverse(CHANGELIST)).status_code == 200
        assert client.get(_work_url(complaint)).status_code == 200

    def test_marketer_cannot_log_a_counter_complaint(self, client, marketer):
        _login(client, marketer)
        assert client.get(reverse("admin:campaigns_complaint_add")).status_code == 403

    def test_nobody_deletes_complaints(self, admin_client, complaint):
        url = reverse("admin:campaigns_complaint_delete", args=[complaint.pk])
        assert admin_client.get(url).status_code == 403


class TestChangelist:
    def test_changelist_and_search(self, admin_client, complaint, member):
        response = admin_client.get(reverse(CHANGELIST))
        assert response.status_code == 200
        assert f"#{complaint.pk}" in response.content.decode()
        found = admin_client.get(reverse(CHANGELIST), {"q": member.card_number})
        assert list(found.context["cl"].result_list) == [complaint]
        missing = admin_client.get(reverse(CHANGELIST), {"q": "0000000"})
        assert list(missing.context["cl"].result_list) == []

    @pytest.mark.parametrize(
        "params",
        [
            {"status__exact": "new"},
            {"topic__exact": "service"},
            {"open": "overdue"},
            {"open": "open"},
            {"assigned": "me"},
            {"assigned": "nobody"},
            {"o": "8"},  # sorted by time open
        ],
    )
    def test_filters_and_sorting_open(self, admin_client, complaint, params):
        assert admin_client.get(reverse(CHANGELIST), params).status_code == 200

    def test_overdue_complaints_are_highlighted(self, admin_client, member, settings):
        settings.LOYALTY_COMPLAINT_OVERDUE_HOURS = 24
        old = complaint_file(member=member, topic="service", body="old")
        Complaint.objects.filter(pk=old.pk).update(
            created_at=timezone.now() - dt.timedelta(hours=30)
        )
        complaint_file(member=member, topic="service", body="fresh")
        response = admin_client.get(reverse(CHANGELIST))
        assert response.content.decode().count('class="complaint-overdue"') == 1
        overdue = admin_client.get(reverse(CHANGELIST), {"open": "overdue"})
        assert [c.pk for c in overdue.context["cl"].result_list] == [old.pk]

    def test_queue_queries_do_not_grow_with_complaints(
        self, admin_client, store, django_assert_max_num_queries
    ):
        for _n in range(3):
            complaint_file(member=MemberFactory(store=store), topic="other", body="x")
        with django_assert_max_num_queries(30) as few:
            admin_client.get(reverse(CHANGELIST))
        for _n in range(12):
            complaint_file(member=MemberFactory(store=store), topic="other", body="x")
        with django_assert_max_num_queries(len(few.captured_queries)):
            admin_client.get(reverse(CHANGELIST))

    def test_assign_to_me_action(self, client, manager, complaint):
        _login(client, manager)
        response = client.post(
            reverse(CHANGELIST),
            {"action": "assign_to_me", "_selected_action": [complaint.pk]},
        )
        assert response.status_code == 302
        complaint.refresh_from_db()
        assert (complaint.assignee, complaint.status) == (manager, "in_progress")
        assert StaffAuditEvent.objects.filter(
            action="complaint.assigned", actor=manager
        ).exists()


class TestCounterAdd:
    def test_cashier_logs_a_complaint_by_phone(self, client, cashier, member):
        _login(client, cashier)
        response = client.post(
            reverse("admin:campaigns_complaint_add"),
            {"customer": member.phone, "topic": "service", "message": "Rude"},
        )
        assert response.status_code == 302
        complaint = Complaint.objects.get()
        assert (complaint.member, complaint.source, complaint.created_by) == (
            member,
            ComplaintSource.COUNTER,
            cashier,
        )
        # A cashier cannot see the queue: back to an empty form for the next one.
        assert response["Location"] == reverse("admin:campaigns_complaint_add")

    def test_found_by_card_number(self, admin_client, member):
        admin_client.post(
            reverse("admin:campaigns_complaint_add"),
            {"customer": member.card_number, "topic": "points", "message": "x"},
        )
        assert Complaint.objects.get().member == member

    def test_unknown_customer_is_a_form_error(self, admin_client):
        response = admin_client.post(
            reverse("admin:campaigns_complaint_add"),
            {"customer": "12345", "topic": "service", "message": "x"},
        )
        assert response.status_code == 200
        assert "No member with this card number or phone." in response.content.decode()
        assert not Complaint.objects.exists()


class TestWorkPage:
    def _post(self, client, complaint, **data):
        values = {
            "reply": "",
            "status": complaint.status,
            "assignee": complaint.assignee_id or "",
            "goodwill_points": "",
            **data,
        }
        return client.post(_work_url(complaint), values)

    def test_opening_records_the_view(self, client, manager, complaint):
        _login(client, manager)
        page = client.get(_work_url(complaint))
        assert "Long queue" in page.content.decode()
        assert StaffAuditEvent.objects.filter(
            action=AuditAction.MEMBER_VIEWED, actor=manager, member=complaint.member
        ).exists()

    def test_reply_reaches_the_customer_once(
        self, client, manager, complaint, django_capture_on_commit_callbacks
    ):
        _login(client, manager)
        with django_capture_on_commit_callbacks(execute=True):
            response = self._post(client, complaint, reply="We are sorry.")
        assert response.status_code == 302
        complaint.refresh_from_db()
        assert complaint.status == ComplaintStatus.WAITING
        assert Message.objects.filter(kind="complaint_reply").count() == 1
        assert len(mail.outbox) == 1
        # Reloading the page after the redirect sends nothing more.
        client.get(response["Location"])
        assert len(mail.outbox) == 1

    def test_resolve_with_goodwill_grants_once(self, client, manager, complaint):
        _login(client, manager)
        self._post(client, complaint, status="resolved", goodwill_points="40")
        complaint.refresh_from_db()
        self._post(client, complaint, status="resolved", goodwill_points="40")
        complaint.refresh_from_db()
        assert complaint.status == ComplaintStatus.RESOLVED
        assert complaint.goodwill_adjustment.status == AdjustmentStatus.APPROVED
        assert member_balance_get(member_id=complaint.member_id) == 40

    def test_marketer_goodwill_is_refused_on_the_form(
        self, client, marketer, complaint
    ):
        _login(client, marketer)
        response = self._post(
            client, complaint, status="resolved", goodwill_points="40"
        )
        assert response.status_code == 200
        assert "You may not adjust points." in response.content.decode()
        complaint.refresh_from_db()
        assert complaint.status == ComplaintStatus.NEW

    def test_refused_transition_is_a_form_error(self, client, manager, complaint):
        _login(client, manager)
        self._post(client, complaint, status="closed")
        complaint.refresh_from_db()
        response = self._post(client, complaint, status="in_progress")
        assert response.status_code == 200
        assert "cannot become" in response.content.decode()

    def test_assign_from_the_work_page(self, client, manager, marketer, complaint):
        _login(client, manager)
        self._post(client, complaint, assignee=marketer.pk)
        complaint.refresh_from_db()
        assert complaint.assignee == marketer

    def test_unknown_complaint_is_404(self, admin_client):
        url = reverse("admin:campaigns_complaint_change", args=[999999])
        assert admin_client.get(url).status_code == 404


class TestSurveyAdmin:
    def test_changelist_search_add_change(self, admin_client, member):
        survey = survey_make()
        response_make(survey=survey, member=member, score=9)
        url = reverse("admin:campaigns_survey_changelist")
        assert admin_client.get(url).status_code == 200
        found = admin_client.get(url, {"q": "After"})
        assert list(found.context["cl"].result_list) == [survey]
        add = reverse("admin:campaigns_survey_add")
        assert admin_client.get(add).status_code == 200
        response = admin_client.post(
            add,
            {
                "name": "Stars",
                "kind": "satisfaction",
                "active": "on",
                "question_en": "How happy are you?",
                "question_uk": "Наскільки ви задоволені?",
                "question_ru": "",
                "question_ro": "",
                "delay_hours": "24",
                "window_days": "3",
                "link_valid_days": "14",
                # The questions inline (none added here).
                "questions-TOTAL_FORMS": "0",
                "questions-INITIAL_FORMS": "0",
                "questions-MIN_NUM_FORMS": "0",
                "questions-MAX_NUM_FORMS": "1000",
            },
        )
        assert response.status_code == 302
        change = reverse("admin:campaigns_survey_change", args=[survey.pk])
        assert admin_client.get(change).status_code == 200

    def test_responses_are_read_only(self, admin_client, member):
        survey = survey_make()
        answer = response_make(survey=survey, member=member, score=3)
        url = reverse("admin:campaigns_surveyresponse_changelist")
        assert admin_client.get(url).status_code == 200
        assert admin_client.get(url, {"q": member.card_number}).status_code == 200
        assert (
            admin_client.get(reverse("admin:campaigns_surveyresponse_add")).status_code
            == 403
        )
        change = reverse("admin:campaigns_surveyresponse_change", args=[answer.pk])
        page = admin_client.get(change)
        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()


class TestCounterLink:
    def test_counter_member_panel_links_to_the_complaint_form(
        self, client, cashier, member
    ):
        _login(client, cashier)
        panel = client.get(reverse("admin:counter_member", args=[member.pk]))
        link = (
            f"{reverse('admin:campaigns_complaint_add')}?customer={member.card_number}"
        )
        assert link in panel.content.decode()
        form = client.get(link)
        assert form.context["form"]["customer"].value() == member.card_number

    def test_no_link_without_the_right(self, client, manager, member):
        from django.contrib.auth.models import Permission

        manager.groups.get().permissions.remove(
            Permission.objects.get(codename="add_complaint")
        )
        _login(client, manager)
        panel = client.get(reverse("admin:counter_member", args=[member.pk]))
        assert "counter-complaint" not in panel.content.decode()
