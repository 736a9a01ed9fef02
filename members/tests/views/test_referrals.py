"""The referrals page, the invitation link and sign-up with a friend's code."""

import pytest
from django.urls import reverse

from members.models import Member
from members.services import member_enroll
from rewards.models import BonusSettings, Referral, ReferralStatus

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Fresh-Secret-2024"


@pytest.fixture
def logged_in(client, customer):
    user, member = customer
    client.force_login(user)
    return client, member


def test_referrals_page_shows_code_link_copy_button_and_referrals(logged_in, settings):
    client, member = logged_in
    settings.SITE_URL = "https://loyalty.example.com"
    friend = member_enroll(
        phone="+380672220001", first_name="Taras", referral_code=member.referral_code
    )

    response = client.get(reverse("portal:referrals"))

    assert response.status_code == 200
    join_url = reverse("portal:join", args=[member.referral_code])
    assert member.referral_code in response.text
    # The public address, as in emails, not the Host the request came with.
    assert f"https://loyalty.example.com{join_url}" in response.text
    assert 'data-copy-target="referral-link"' in response.text
    assert "js/referral.js" in response.text
    assert "<script>" not in response.text  # the CSP allows no inline script
    assert friend.first_name in response.text
    assert "Waiting for the first purchase" in response.text
    assert reverse("portal:referrals") in client.get(reverse("portal:card")).text


def test_referrals_page_needs_a_login(client):
    response = client.get(reverse("portal:referrals"))

    assert response.status_code == 302
    assert reverse("login") in response.url


def test_referrals_page_lists_only_the_members_own_referrals(logged_in, member):
    client, _me = logged_in
    member_enroll(
        phone="+380672220002", first_name="Ostap", referral_code=member.referral_code
    )

    response = client.get(reverse("portal:referrals"))

    assert "Ostap" not in response.text
    assert "No one has joined with your code yet." in response.text


def test_join_link_opens_signup_with_the_code_filled_in(client, member):
    response = client.get(reverse("portal:join", args=[member.referral_code.lower()]))

    assert response.status_code == 302
    assert response.url == f"{reverse('portal:signup')}?ref={member.referral_code}"
    page = client.get(response.url)
    assert page.context["form"]["referral_code"].value() == member.referral_code


def test_join_link_with_an_unknown_code_explains_and_opens_signup(client):
    response = client.get(reverse("portal:join", args=["NOPE2345"]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("portal:signup")
    assert "This invitation link is not valid." in response.text


def test_signup_with_a_code_records_the_referral_and_bonus(client, member):
    BonusSettings.objects.update_or_create(pk=1, defaults={"referee_points": 40})

    response = client.post(
        reverse("portal:signup"),
        {
            "email": "new.customer@example.com",
            "phone": "+380671112233",
            "first_name": "Olena",
            "last_name": "Koval",
            "language": "uk",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "referral_code": member.referral_code,
        },
    )

    assert response.status_code == 302
    new = Member.objects.get(phone="+380671112233")
    referral = Referral.objects.get(referee=new)
    assert referral.referrer == member
    assert referral.status == ReferralStatus.PENDING
    assert new.account.balance == 40


def test_signup_with_an_unknown_code_shows_the_error_on_the_field(client):
    response = client.post(
        reverse("portal:signup"),
        {
            "email": "new.customer@example.com",
            "phone": "+380671112233",
            "language": "uk",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "referral_code": "NOPE",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["referral_code"] == [
        "No member has the referral code “NOPE”."
    ]
    assert not Member.objects.filter(phone="+380671112233").exists()
