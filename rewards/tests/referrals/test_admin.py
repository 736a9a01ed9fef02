"""Admin pages for bonus settings and the referral review queue."""

import pytest
from django.urls import reverse

from members.services import member_enroll
from members.tests.factories import MemberFactory
from rewards.models import BonusSettings, Referral, ReferralStatus, RefusalReason
from rewards.selectors.invariants import ledger_discrepancies
from rewards.selectors.referrals import bonus_settings_get
from rewards.services.bonuses import bonus_settings_ensure

pytestmark = pytest.mark.django_db


@pytest.fixture
def su_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def in_review(db):
    BonusSettings.objects.update_or_create(
        pk=1,
        defaults={"referee_points": 40, "referrer_points": 60},
    )
    referrer = MemberFactory(last_name="Koval", email="anna@example.org")
    friend = member_enroll(
        phone="+380672220001",
        last_name="Koval",
        email="petro@example.org",
        referral_code=referrer.referral_code,
    )
    assert friend.referral.status == ReferralStatus.REVIEW
    return friend.referral


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


class TestBonusSettingsAdmin:
    def test_changelist_opens_the_one_row(self, su_client):
        response = su_client.get(reverse("admin:rewards_bonussettings_changelist"))

        assert response.status_code == 302
        row = bonus_settings_get()
        assert response.url == reverse(
            "admin:rewards_bonussettings_change", args=[row.pk]
        )

    def test_search(self, su_client):
        bonus_settings_ensure()
        response = su_client.get(
            reverse("admin:rewards_bonussettings_changelist"), {"q": "0"}
        )

        assert response.status_code == 302

    def test_add_page_only_while_there_is_no_row(self, su_client):
        assert (
            su_client.get(reverse("admin:rewards_bonussettings_add")).status_code == 200
        )
        bonus_settings_ensure()
        assert (
            su_client.get(reverse("admin:rewards_bonussettings_add")).status_code == 403
        )

    def test_change_saves_the_amounts(self, su_client):
        row = bonus_settings_ensure()
        url = reverse("admin:rewards_bonussettings_change", args=[row.pk])
        assert su_client.get(url).status_code == 200

        response = su_client.post(
            url,
            {
                "welcome_points": "50",
                "profile_points": "30",
                "birthday_points": "100",
                "referee_points": "40",
                "referrer_points": "60",
                "referral_min_purchase": "150.00",
                "referral_cap_per_month": "5",
                "referral_review_per_day": "3",
            },
        )

        assert response.status_code == 302
        row.refresh_from_db()
        assert (row.welcome_points, row.referrer_points) == (50, 60)


class TestReferralAdmin:
    def test_changelist_filters_the_review_queue(self, su_client, in_review):
        response = su_client.get(
            reverse("admin:rewards_referral_changelist"), {"status__exact": "review"}
        )

        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == [in_review]

    def test_search_by_referrer_card(self, su_client, in_review):
        response = su_client.get(
            reverse("admin:rewards_referral_changelist"),
            {"q": in_review.referrer.card_number},
        )

        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == [in_review]

    def test_add_is_not_offered(self, su_client):
        response = su_client.get(reverse("admin:rewards_referral_add"))

        assert response.status_code == 403

    def test_change_page_shows_the_referral(self, su_client, in_review):
        response = su_client.get(
            reverse("admin:rewards_referral_change", args=[in_review.pk])
        )

        assert response.status_code == 200
        assert "Same last name and email domain as the referrer." in response.text

    def test_approve_action_calls_the_service(self, su_client, in_review, admin_user):
        response = su_client.post(
            reverse("admin:rewards_referral_changelist"),
            {"action": "approve", "_selected_action": [in_review.pk]},
            follow=True,
        )

        assert "1 referral approved." in _messages(response)
        in_review.refresh_from_db()
        assert in_review.status == ReferralStatus.PENDING
        assert in_review.decided_by == admin_user
        assert in_review.referee.account.balance == 40
        assert ledger_discrepancies() == []

    def test_refuse_action_leaves_others_alone(self, su_client, in_review):
        other = Referral.objects.create(
            referrer=in_review.referrer,
            referee_phone="+380672229999",
            status=ReferralStatus.REFUSED,
            refusal_reason=RefusalReason.ALREADY_ENROLLED,
        )

        response = su_client.post(
            reverse("admin:rewards_referral_changelist"),
            {"action": "refuse", "_selected_action": [in_review.pk, other.pk]},
            follow=True,
        )

        assert _messages(response) == [
            "1 referral refused.",
            "1 referral was not waiting for review and was left as it is.",
        ]
        in_review.refresh_from_db()
        assert in_review.refusal_reason == RefusalReason.STAFF
        assert in_review.referee.account.balance == 0


def test_member_change_page_shows_the_referral_code(su_client, member):
    response = su_client.get(reverse("admin:members_member_change", args=[member.pk]))

    assert response.status_code == 200
    assert member.referral_code in response.text
