"""The first visit's UTM parameters travel in a signed cookie to the online
sign-up (members.middleware.FirstTouchMiddleware): first touch wins, values
bounded, a forged cookie ignored, staff pages and the API never set it, and
the member admin shows what a link said as text."""

import html
import json

import pytest
from django.test import RequestFactory
from django.urls import reverse

from members.middleware import FIRST_TOUCH_COOKIE, first_touch_from_request
from members.models import Member, MemberSource

pytestmark = pytest.mark.django_db

PASSWORD = "Long-Secret-42"


def _signup(client, **extra):
    data = {
        "email": "new.customer@example.com",
        "phone": "+380671112233",
        "first_name": "Olena",
        "last_name": "Koval",
        "language": "uk",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **extra,
    }
    response = client.post(reverse("portal:signup"), data)
    assert response.status_code == 302, response.context["form"].errors
    return Member.objects.get(email="new.customer@example.com")


def _cookie(client) -> dict:
    request = RequestFactory().get("/")
    request.COOKIES[FIRST_TOUCH_COOKIE] = client.cookies[FIRST_TOUCH_COOKIE].value
    return first_touch_from_request(request).as_json()


def test_utm_of_the_first_visit_reach_the_new_member(client):
    client.get(
        reverse("portal:signup"),
        {"utm_source": "facebook", "utm_medium": "cpc", "utm_campaign": "spring"},
    )
    assert _cookie(client)["utm_source"] == "facebook"
    member = _signup(client)
    assert member.source == MemberSource.ONLINE
    assert (member.utm_source, member.utm_medium, member.utm_campaign) == (
        "facebook",
        "cpc",
        "spring",
    )
    assert member.first_seen_at is not None
    assert member.first_seen_at <= member.enrolled_at


def test_first_touch_wins_over_a_later_link(client):
    client.get(reverse("portal:signup"), {"utm_source": "google"})
    first = _cookie(client)
    client.get(reverse("portal:signup"), {"utm_source": "tiktok"})
    assert _cookie(client) == first
    assert _signup(client).utm_source == "google"


def test_a_first_visit_without_utm_is_filled_by_the_first_link_that_has_them(client):
    client.get(reverse("portal:signup"))
    first_seen = _cookie(client)["first_seen_at"]
    assert _cookie(client)["utm_source"] == ""
    client.get(reverse("portal:signup"), {"utm_source": "newsletter"})
    assert _cookie(client)["utm_source"] == "newsletter"
    assert _cookie(client)["first_seen_at"] == first_seen
    member = _signup(client)
    assert member.utm_source == "newsletter"
    assert member.first_seen_at.isoformat() == first_seen


def test_long_and_odd_values_are_cut_and_cleaned(client):
    client.get(
        reverse("portal:signup"),
        {"utm_source": "a" * 5000, "utm_campaign": "sale\r\nSet-Cookie: x=1"},
    )
    member = _signup(client)
    assert member.utm_source == "a" * 100
    assert member.utm_campaign == "saleSet-Cookie: x=1"


def test_a_forged_cookie_is_ignored(client):
    client.cookies[FIRST_TOUCH_COOKIE] = json.dumps({"utm_source": "forged"})
    member = _signup(client)
    assert (member.source, member.utm_source) == (MemberSource.ONLINE, "")


def test_staff_pages_and_the_api_set_no_cookie(client, manager):
    client.force_login(manager)
    client.get(reverse("admin:index"), {"utm_source": "x"})
    assert FIRST_TOUCH_COOKIE not in client.cookies
    client.logout()
    client.get("/api/v1/schema/", {"utm_source": "x"})
    assert FIRST_TOUCH_COOKIE not in client.cookies


def test_the_member_admin_shows_a_links_markup_as_text(client, manager):
    client.get(reverse("portal:signup"), {"utm_campaign": "<script>alert(1)</script>"})
    member = _signup(client)
    client.logout()
    client.force_login(manager)
    page = client.get(reverse("admin:members_member_change", args=[member.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "<script>alert(1)</script>" not in text
    assert html.escape("<script>alert(1)</script>") in text
