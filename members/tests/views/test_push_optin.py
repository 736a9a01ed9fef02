"""The portal's web push opt-in: the box shows only with VAPID keys; the
subscription endpoint is CSRF-protected, answers bad input with the field in
JSON, keeps one row per browser (several per member) and grants push
marketing consent only when the member ticked it; turning off forgets the
browser."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from members.models import Channel, ConsentEvent, PushSubscription
from members.push import vapid_keys_new
from members.services import push_subscription_save
from members.tests.factories import MemberFactory, UserFactory
from members.tests.push_service import FakeBrowser

pytestmark = pytest.mark.django_db


@pytest.fixture
def member_client(customer):
    user, member = customer
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client, member


def _csrf(client) -> str:
    """The token push.js sends (the box's data-csrf), or the form's."""
    page = client.get(reverse("portal:preferences")).content.decode()
    found = re.search(r'data-csrf="([^"]+)"', page) or re.search(
        r'name="csrfmiddlewaretoken" value="([^"]+)"', page
    )
    return found.group(1)


def _subscribe(client, browser, *, offers=False, token=None, **overrides):
    data = {
        "endpoint": browser.endpoint,
        "expirationTime": None,
        "keys": {"p256dh": browser.p256dh, "auth": browser.auth},
        "offers": offers,
        **overrides,
    }
    headers = {"HTTP_X_CSRFTOKEN": token if token is not None else _csrf(client)}
    return client.post(
        reverse("portal:push_subscribe"),
        json.dumps(data),
        content_type="application/json",
        HTTP_USER_AGENT="Mozilla/5.0 Test",
        **headers,
    )


def test_the_box_is_hidden_without_vapid_keys(member_client, settings):
    settings.VAPID_PUBLIC_KEY = settings.VAPID_PRIVATE_KEY = ""
    client, _member = member_client

    for name in ("portal:preferences", "portal:card"):
        page = client.get(reverse(name)).content.decode()
        assert 'id="push-optin"' not in page
        assert "js/push.js" not in page


def test_the_box_carries_the_public_key(member_client, vapid):
    client, _member = member_client

    for name in ("portal:preferences", "portal:card"):
        page = client.get(reverse(name)).content.decode()
        assert f'data-vapid-key="{vapid}"' in page
        assert "js/push.js" in page


def test_subscribing_keeps_the_browser_without_consent(member_client, vapid):
    client, member = member_client
    browser = FakeBrowser(endpoint="https://push.example/sub/phone")

    response = _subscribe(client, browser)

    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "devices": 1,
        "offers": False,
        "consent_changed": False,
    }
    subscription = PushSubscription.objects.get(member=member)
    assert (subscription.endpoint, subscription.p256dh, subscription.auth) == (
        browser.endpoint,
        browser.p256dh,
        browser.auth,
    )
    assert subscription.user_agent == "Mozilla/5.0 Test"
    member.refresh_from_db()
    assert (member.push_devices, member.push_consent) == (1, False)
    assert not ConsentEvent.objects.filter(member=member, channel=Channel.PUSH)


def test_ticking_offers_grants_push_consent_with_its_history(member_client, vapid):
    client, member = member_client

    response = _subscribe(
        client, FakeBrowser(endpoint="https://push.example/sub/1"), offers=True
    )

    assert response.json()["offers"] is True
    member.refresh_from_db()
    assert member.push_consent is True
    event = ConsentEvent.objects.get(member=member, channel=Channel.PUSH)
    assert (event.granted, event.source) == (True, "portal")


def test_several_browsers_and_the_same_one_again(member_client, vapid):
    client, member = member_client
    phone = FakeBrowser(endpoint="https://push.example/sub/phone")
    laptop = FakeBrowser(endpoint="https://push.example/sub/laptop")

    _subscribe(client, phone)
    _subscribe(client, laptop)
    again = FakeBrowser(endpoint=phone.endpoint)  # new keys, same browser
    assert _subscribe(client, again).json()["devices"] == 2

    member.refresh_from_db()
    assert member.push_devices == 2
    assert PushSubscription.objects.get(endpoint=phone.endpoint).p256dh == (
        again.p256dh
    )


def test_a_browser_moves_to_the_member_who_logs_in_next(vapid, store):
    browser = FakeBrowser(endpoint="https://push.example/sub/shared")
    first = MemberFactory(store=store)
    second = MemberFactory(store=store)
    keys = {"p256dh": browser.p256dh, "auth": browser.auth}
    push_subscription_save(member=first, endpoint=browser.endpoint, **keys)

    push_subscription_save(member=second, endpoint=browser.endpoint, **keys)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.push_devices, second.push_devices) == (0, 1)


def test_without_the_csrf_token_it_is_refused(member_client, vapid):
    client, member = member_client

    response = _subscribe(
        client, FakeBrowser(endpoint="https://push.example/sub/1"), token="wrong"
    )

    assert response.status_code == 403
    assert not PushSubscription.objects.filter(member=member).exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"endpoint": "http://push.example/plain"}, "endpoint"),
        ({"endpoint": ""}, "endpoint"),
        (
            {"keys": {"p256dh": "bm90IGEga2V5", "auth": "AAAAAAAAAAAAAAAAAAAAAA"}},
            "p256dh",
        ),
        ({"keys": "nope"}, "p256dh"),
    ],
)
def test_bad_input_names_the_field(member_client, vapid, change, field):
    client, member = member_client
    browser = FakeBrowser(endpoint="https://push.example/sub/1")

    response = _subscribe(client, browser, **change)

    assert response.status_code == 400
    assert response.json()["field"] == field
    assert not PushSubscription.objects.filter(member=member).exists()


def test_a_short_auth_secret_is_refused(member_client, vapid):
    client, _member = member_client
    browser = FakeBrowser(endpoint="https://push.example/sub/1")

    response = _subscribe(
        client, browser, keys={"p256dh": browser.p256dh, "auth": "c2hvcnQ"}
    )

    assert (response.status_code, response.json()["field"]) == (400, "auth")


def test_not_json_is_refused(member_client, vapid):
    client, _member = member_client

    response = client.post(
        reverse("portal:push_subscribe"),
        "endpoint=x",
        content_type="application/x-www-form-urlencoded",
        HTTP_X_CSRFTOKEN=_csrf(client),
    )

    assert (response.status_code, response.json()["field"]) == (400, "body")


def test_without_keys_subscribing_is_refused(member_client, settings):
    settings.VAPID_PUBLIC_KEY = settings.VAPID_PRIVATE_KEY = ""
    client, _member = member_client

    response = _subscribe(client, FakeBrowser(endpoint="https://push.example/s/1"))

    assert (response.status_code, response.json()["field"]) == (409, "push")


def test_turning_off_forgets_only_this_browser(member_client, vapid):
    client, member = member_client
    phone = FakeBrowser(endpoint="https://push.example/sub/phone")
    laptop = FakeBrowser(endpoint="https://push.example/sub/laptop")
    _subscribe(client, phone, offers=True)
    _subscribe(client, laptop)

    response = client.post(
        reverse("portal:push_unsubscribe"),
        json.dumps({"endpoint": phone.endpoint}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=_csrf(client),
    )

    assert response.json() == {"ok": True, "deleted": True, "devices": 1}
    assert list(
        PushSubscription.objects.filter(member=member).values_list(
            "endpoint", flat=True
        )
    ) == [laptop.endpoint]
    member.refresh_from_db()
    assert member.push_consent is True  # consent is the preferences' business


def test_another_members_browser_cannot_be_turned_off(member_client, vapid, store):
    client, _member = member_client
    other = MemberFactory(store=store, user=UserFactory(username="o@example.com"))
    browser = FakeBrowser(endpoint="https://push.example/sub/theirs")
    push_subscription_save(
        member=other,
        endpoint=browser.endpoint,
        p256dh=browser.p256dh,
        auth=browser.auth,
    )

    response = client.post(
        reverse("portal:push_unsubscribe"),
        json.dumps({"endpoint": browser.endpoint}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=_csrf(client),
    )

    assert response.json()["deleted"] is False
    assert PushSubscription.objects.filter(member=other).exists()


def test_the_push_checkbox_asks_for_a_device_first(member_client, vapid):
    client, member = member_client
    token = _csrf(client)

    response = client.post(
        reverse("portal:preferences"),
        {"push": "on", "csrfmiddlewaretoken": token},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["push"] == [
        "Turn on notifications on this device first."
    ]
    _subscribe(client, FakeBrowser(endpoint="https://push.example/sub/1"))
    response = client.post(
        reverse("portal:preferences"),
        {"push": "on", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.push_consent is True


def test_erasure_forgets_the_browsers(member_client, vapid):
    from members.privacy import member_anonymize

    client, member = member_client
    _subscribe(client, FakeBrowser(endpoint="https://push.example/sub/1"))

    member_anonymize(member=member, actor=None, source="portal")

    assert not PushSubscription.objects.filter(member=member).exists()
    member.refresh_from_db()
    assert member.push_devices == 0


def test_the_vapid_keys_are_checked(settings):
    from members.push import vapid_keys_check

    private, public = vapid_keys_new()
    _other_private, other_public = vapid_keys_new()
    settings.VAPID_PRIVATE_KEY, settings.VAPID_PUBLIC_KEY = private, public
    assert vapid_keys_check() == []

    cases = {
        (private, ""): "Only one of",
        (private, other_public): "is not the public half",
        ("not-a-key", public): "is not a base64url P-256 private key",
    }
    for (settings.VAPID_PRIVATE_KEY, settings.VAPID_PUBLIC_KEY), says in cases.items():
        (error,) = vapid_keys_check()
        assert error.id == "members.E001"
        assert says in error.msg
