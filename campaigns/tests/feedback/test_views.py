"""Customer pages of the feedback area: own complaints only, the thread, and
survey answers from signed links (tampered and expired links refused)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import signing
from django.urls import reverse

from campaigns.feedback.selectors import SURVEY_LINK_SALT, survey_link_token
from campaigns.feedback.services import (
    complaint_file,
    complaint_staff_reply,
    complaint_status_set,
)
from campaigns.models import Complaint, ComplaintStatus, SurveyResponse
from campaigns.tests.factories import purchase_make, survey_make
from members.audit import StaffActor
from members.tests.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer_client(client, customer):
    user, _member = customer
    client.force_login(user)
    return client


@pytest.fixture
def own_complaint(customer):
    return complaint_file(member=customer[1], topic="service", body="Slow queue")


@pytest.fixture
def others_complaint(store):
    other = MemberFactory(store=store)
    return complaint_file(member=other, topic="product", body="Someone else's")


# --- complaints ------------------------------------------------------------------------


class TestComplaintPages:
    def test_login_required(self, client):
        for url in (
            reverse("campaigns:feedback"),
            reverse("campaigns:complaint_new"),
            reverse("campaigns:complaint_detail", args=[1]),
        ):
            response = client.get(url)
            assert response.status_code == 302
            assert reverse("login") in response["Location"]

    def test_staff_without_membership_gets_the_no_member_page(self, client, manager):
        client.force_login(manager)
        assert client.get(reverse("campaigns:feedback")).status_code == 403

    def test_customer_files_a_complaint_about_their_purchase(
        self, customer_client, customer, store
    ):
        purchase = purchase_make(member=customer[1], store=store)
        response = customer_client.post(
            reverse("campaigns:complaint_new"),
            {"topic": "product", "purchase": purchase.pk, "message": "Stale bread"},
        )
        complaint = Complaint.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse(
            "campaigns:complaint_detail", args=[complaint.pk]
        )
        assert (complaint.member, complaint.purchase) == (customer[1], purchase)
        page = customer_client.get(response["Location"])
        assert "Stale bread" in page.content.decode()

    def test_another_members_purchase_is_not_a_choice(self, customer_client, store):
        other = MemberFactory(store=store)
        purchase = purchase_make(member=other, store=store)
        response = customer_client.post(
            reverse("campaigns:complaint_new"),
            {"topic": "product", "purchase": purchase.pk, "message": "x"},
        )
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()
        assert not Complaint.objects.exists()

    def test_empty_form_says_what_is_missing(self, customer_client):
        response = customer_client.post(reverse("campaigns:complaint_new"), {})
        assert response.status_code == 200
        assert response.context["form"].errors.keys() == {"topic", "message"}

    def test_another_members_complaint_is_a_404(
        self, customer_client, others_complaint
    ):
        url = reverse("campaigns:complaint_detail", args=[others_complaint.pk])
        assert customer_client.get(url).status_code == 404
        response = customer_client.post(url, {"message": "let me in"})
        assert response.status_code == 404
        assert others_complaint.messages.count() == 1

    def test_list_shows_only_own_complaints(
        self, customer_client, own_complaint, others_complaint
    ):
        response = customer_client.get(reverse("campaigns:feedback"))
        assert list(response.context["complaints"]) == [own_complaint]

    def test_customer_reads_the_reply_and_answers(
        self, customer_client, own_complaint, manager
    ):
        complaint_staff_reply(
            complaint_id=own_complaint.pk,
            actor=StaffActor(user=manager),
            body="Which store was it?",
        )
        url = reverse("campaigns:complaint_detail", args=[own_complaint.pk])
        page = customer_client.get(url).content.decode()
        assert "Which store was it?" in page
        assert "Our team" in page
        assert manager.username not in page  # staff names stay in the back office
        response = customer_client.post(url, {"message": "Main Street"})
        assert response.status_code == 302
        own_complaint.refresh_from_db()
        assert own_complaint.status == ComplaintStatus.IN_PROGRESS
        assert own_complaint.messages.last().body == "Main Street"

    def test_a_new_complaint_shows_no_answer_box_until_we_answer(
        self, customer_client, own_complaint, manager
    ):
        url = reverse("campaigns:complaint_detail", args=[own_complaint.pk])
        page = customer_client.get(url).content.decode()
        assert "Your answer" not in page
        assert "Anything to add to your message?" in page
        assert 'data-testid="awaiting-answer"' in page
        response = customer_client.post(url, {"message": "It was Tuesday."})
        assert response.status_code == 302
        assert own_complaint.messages.last().body == "It was Tuesday."

        complaint_staff_reply(
            complaint_id=own_complaint.pk,
            actor=StaffActor(user=manager),
            body="Which store was it?",
        )

        page = customer_client.get(url).content.decode()
        assert "Your answer" in page
        assert "Anything to add to your message?" not in page
        assert 'data-testid="awaiting-answer"' not in page

    def test_closed_complaint_has_no_answer_form(
        self, customer_client, own_complaint, manager
    ):
        complaint_status_set(
            complaint_id=own_complaint.pk,
            actor=StaffActor(user=manager),
            status="closed",
        )
        url = reverse("campaigns:complaint_detail", args=[own_complaint.pk])
        response = customer_client.get(url)
        assert response.context["form"] is None
        customer_client.post(url, {"message": "still there?"})
        assert own_complaint.messages.count() == 1

    def test_list_queries_do_not_grow_with_complaints(
        self, customer_client, customer, manager, django_assert_max_num_queries
    ):
        member = customer[1]
        for n in range(8):
            complaint = complaint_file(member=member, topic="other", body=f"n{n}")
            complaint_staff_reply(
                complaint_id=complaint.pk, actor=StaffActor(user=manager), body="ok"
            )
        with django_assert_max_num_queries(12):
            response = customer_client.get(reverse("campaigns:feedback"))
        assert len(response.context["complaints"]) == 8
        assert "1 reply from us" in response.content.decode()

    def test_detail_queries_do_not_grow_with_the_thread(
        self, customer_client, own_complaint, manager, django_assert_max_num_queries
    ):
        for n in range(6):
            complaint_staff_reply(
                complaint_id=own_complaint.pk,
                actor=StaffActor(user=manager),
                body=f"r{n}",
            )
        url = reverse("campaigns:complaint_detail", args=[own_complaint.pk])
        with django_assert_max_num_queries(12):
            customer_client.get(url)


# --- surveys ---------------------------------------------------------------------------


class TestSurveyLink:
    @pytest.fixture
    def survey(self):
        return survey_make(link_valid_days=14)

    @pytest.fixture
    def purchase(self, member, store):
        return purchase_make(member=member, store=store)

    def _url(self, survey, member, purchase):
        token = survey_link_token(survey=survey, member=member, purchase=purchase)
        return reverse("campaigns:survey_answer", args=[token])

    def test_link_works_without_logging_in_and_answers_once(
        self, client, survey, member, purchase
    ):
        url = self._url(survey, member, purchase)
        page = client.get(url)
        assert page.status_code == 200
        assert "How likely are you to recommend us?" in page.content.decode()
        response = client.post(url, {"score": "9", "comment": "Quick!"})
        assert response.status_code == 200
        assert response.context["just_answered"] is True
        answer = SurveyResponse.objects.get()
        assert (answer.member, answer.purchase, answer.score, answer.comment) == (
            member,
            purchase,
            9,
            "Quick!",
        )
        again = client.post(url, {"score": "0"})
        assert "already answered" in again.content.decode()
        assert SurveyResponse.objects.get().score == 9

    def test_question_in_the_members_language_with_fallback(
        self, client, survey, member, purchase
    ):
        url = self._url(survey, member, purchase)
        page = client.get(url, headers={"accept-language": "uk"})
        assert "Наскільки ймовірно" in page.content.decode()
        survey.question_ro = ""
        survey.save()
        client.cookies["django_language"] = "ro"
        page = client.get(url)
        # The fallback order of settings: the program's default language first.
        default = settings.MODELTRANSLATION_DEFAULT_LANGUAGE
        assert getattr(survey, f"question_{default}") in page.content.decode()

    def test_pages_after_the_survey_lead_back_to_the_program_by_name(
        self, client, survey, member, purchase
    ):
        from members.branding import branding_cache_clear
        from members.services import branding_update

        branding_update(program_name="Brewline Coffee")
        branding_cache_clear()
        url = self._url(survey, member, purchase)
        thanks = client.post(url, {"score": "9"}).content.decode()
        broken = client.get(
            reverse("campaigns:survey_answer", args=["nonsense"])
        ).content.decode()
        branding_cache_clear()
        for page in (thanks, broken):
            assert "Back to Brewline Coffee" in page
            assert "loyalty club" not in page.lower()

    def test_score_is_required_and_in_range(self, client, survey, member, purchase):
        url = self._url(survey, member, purchase)
        response = client.post(url, {"score": ""})
        assert response.status_code == 200
        assert "Choose a score." in response.content.decode()
        response = client.post(url, {"score": "11"})
        assert "Select a valid choice" in response.content.decode()
        assert not SurveyResponse.objects.exists()

    def test_tampered_link_is_refused_with_a_clear_page(
        self, client, survey, member, purchase, store
    ):
        token = survey_link_token(survey=survey, member=member, purchase=purchase)
        other = MemberFactory(store=store)
        forged = signing.dumps(
            {"s": survey.pk, "m": other.pk, "p": purchase.pk}, salt="wrong-salt"
        )
        for bad in (token[:-2] + "xx", forged, "nonsense"):
            response = client.get(reverse("campaigns:survey_answer", args=[bad]))
            assert response.status_code == 400
            assert "This link does not work" in response.content.decode()
        response = client.post(
            reverse("campaigns:survey_answer", args=[token[:-2] + "xx"]), {"score": 1}
        )
        assert response.status_code == 400
        assert not SurveyResponse.objects.exists()

    def test_signed_link_for_another_members_purchase_is_refused(
        self, client, survey, member, store
    ):
        other = MemberFactory(store=store)
        their_purchase = purchase_make(member=other, store=store)
        token = signing.dumps(
            {"s": survey.pk, "m": member.pk, "p": their_purchase.pk},
            salt=SURVEY_LINK_SALT,
            compress=True,
        )
        response = client.get(reverse("campaigns:survey_answer", args=[token]))
        assert response.status_code == 400

    def test_expired_link_is_refused_with_a_clear_page(
        self, client, survey, member, purchase, monkeypatch
    ):
        # Signed 15 days ago: the survey's links work for 14.
        now = signing.time.time()
        with monkeypatch.context() as patch:
            patch.setattr(signing.time, "time", lambda: now - 15 * 24 * 3600)
            url = self._url(survey, member, purchase)
        response = client.get(url)
        assert response.status_code == 410
        assert "This survey link has expired" in response.content.decode()
        assert client.post(url, {"score": "9"}).status_code == 410
        assert not SurveyResponse.objects.exists()

    def test_switched_off_survey_link_is_refused(
        self, client, survey, member, purchase
    ):
        url = self._url(survey, member, purchase)
        survey.active = False
        survey.save()
        assert client.get(url).status_code == 400


class TestSurveyPrompt:
    def test_feedback_page_asks_about_the_latest_purchase(
        self, customer_client, customer, store
    ):
        survey = survey_make()
        purchase_make(member=customer[1], store=store)
        response = customer_client.get(reverse("campaigns:feedback"))
        page = response.content.decode()
        assert "Tell us how we did" in page
        answer_url = response.context["survey_url"]
        customer_client.post(answer_url, {"score": "10"})
        assert SurveyResponse.objects.get(survey=survey).member == customer[1]
        page = customer_client.get(reverse("campaigns:feedback")).content.decode()
        assert "Tell us how we did" not in page

    def test_no_prompt_without_purchases(self, customer_client):
        survey_make()
        page = customer_client.get(reverse("campaigns:feedback")).content.decode()
        assert "Tell us how we did" not in page


def test_user_factory_is_not_a_member(client):
    """A plain login (no membership) sees the no-member page, never someone's data."""
    client.force_login(UserFactory(username="nobody@example.com"))
    assert client.get(reverse("campaigns:feedback")).status_code == 403


class TestDashboardPrompt:
    def test_dashboard_asks_about_the_latest_purchase(
        self, customer_client, customer, store
    ):
        survey_make()
        purchase_make(member=customer[1], store=store)
        page = customer_client.get(reverse("portal:dashboard")).content.decode()
        assert 'data-testid="survey-prompt"' in page
        assert "/survey/" in page

    def test_prompt_costs_no_query_without_a_survey_once_cached(
        self, customer_client, customer, store, django_assert_num_queries
    ):
        from campaigns.feedback.selectors import survey_prompt_for_member

        purchase_make(member=customer[1], store=store)
        assert survey_prompt_for_member(member=customer[1]) is None
        with django_assert_num_queries(0):
            assert survey_prompt_for_member(member=customer[1]) is None

    def test_prompt_is_one_query_with_a_survey(
        self, customer, store, django_assert_num_queries
    ):
        from campaigns.feedback.selectors import survey_prompt_for_member

        survey = survey_make()
        purchase = purchase_make(member=customer[1], store=store)
        survey_prompt_for_member(member=customer[1])
        with django_assert_num_queries(1):
            assert survey_prompt_for_member(member=customer[1]) == (survey, purchase)
