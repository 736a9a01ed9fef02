"""POST /api/v1/members with a friend's referral code."""

import pytest
from django.urls import reverse

from rewards.models import BonusSettings, Referral, ReferralStatus

pytestmark = pytest.mark.django_db

CREATE = reverse("api-v1:member-create")


def test_enroll_with_a_referral_code_records_the_referral(api_client, member):
    BonusSettings.objects.update_or_create(pk=1, defaults={"referee_points": 40})

    response = api_client.post(
        CREATE,
        {"phone": "+380672220001", "referral_code": member.referral_code},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["points_balance"] == 40
    referral = Referral.objects.get(referee__card_number=response.json()["card_number"])
    assert referral.referrer == member
    assert referral.status == ReferralStatus.PENDING


def test_enroll_with_an_unknown_referral_code_is_a_400_naming_the_field(api_client):
    response = api_client.post(
        CREATE, {"phone": "+380672220001", "referral_code": "NOPE"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "referral_code": ["No member has the referral code “NOPE”."]
    }


def test_enroll_with_the_same_device_as_the_referrer_is_refused(api_client, store):
    first = api_client.post(
        CREATE, {"phone": "+380672220001", "device_id": "app-1"}, format="json"
    ).json()
    from members.models import Member

    code = Member.objects.get(card_number=first["card_number"]).referral_code

    response = api_client.post(
        CREATE,
        {"phone": "+380672220002", "referral_code": code, "device_id": "app-1"},
        format="json",
    )

    assert response.status_code == 201
    referral = Referral.objects.get(referee__phone="+380672220002")
    assert referral.status == ReferralStatus.REFUSED
