"""The web push opt-in in a real Chromium.

Hidden without VAPID keys; with them, after the notifications permission is
granted, "Turn on notifications" asks the browser's PushManager for a
subscription with the program's public key and stores what it returns
through the portal (CSRF and all), and "Turn off" forgets it.

What is not exercised: the subscription itself. Playwright's browser contexts
are off the record, where Chromium has no Push API ("Chrome currently does
not support the Push API in incognito mode"), and in a persistent profile
`pushManager.subscribe` waits for Google's push service (FCM), which this
machine cannot reach. So these tests stand in for `PushManager.subscribe`
and `getSubscription` (an init script) with a subscription whose keys were
made in the test; they check the key the page passes, and everything after.
The delivery to a push service is tested against a local fake
(campaigns/tests/messaging/test_push.py); the service worker's `push`
handler here, through the DevTools protocol."""

from __future__ import annotations

import base64
import json

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from members.models import Channel, ConsentEvent, PushSubscription
from members.tests.factories import MemberFactory, UserFactory
from members.tests.push_service import FakeBrowser
from tests.browser._journey import browser_watch, portal_login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# Replaces the Push API's two calls the page makes with a subscription made
# in the test (see the module's docstring for why), recording the options.
FAKE_PUSH_MANAGER = """
(() => {
  const given = %s;
  let current = null;
  window.__pushCalls = [];
  const subscription = {
    endpoint: given.endpoint,
    expirationTime: null,
    toJSON() {
      return { endpoint: given.endpoint, expirationTime: null, keys: given.keys };
    },
    unsubscribe() {
      current = null;
      window.__pushUnsubscribed = true;
      return Promise.resolve(true);
    },
  };
  PushManager.prototype.subscribe = function (options) {
    const key = new Uint8Array(options.applicationServerKey);
    window.__pushCalls.push({
      userVisibleOnly: options.userVisibleOnly,
      key: btoa(String.fromCharCode.apply(null, key)),
    });
    current = subscription;
    return Promise.resolve(subscription);
  };
  PushManager.prototype.getSubscription = function () {
    return Promise.resolve(current);
  };
})();
"""


@pytest.fixture
def push_member(db, store):
    user = UserFactory(username="olena@example.com")
    return MemberFactory(store=store, user=user, email="olena@example.com")


def test_without_vapid_keys_there_is_no_button(
    page, live_server, push_member, settings
):
    settings.VAPID_PUBLIC_KEY = settings.VAPID_PRIVATE_KEY = ""
    page.set_default_timeout(10_000)
    watch = browser_watch(page)

    portal_login(
        page, live_server.url, "olena@example.com", next_name="portal:preferences"
    )
    expect(page.locator("h1")).to_have_text("Preferences")
    assert page.locator("#push-optin").count() == 0
    assert page.locator("#push-on").count() == 0
    page.goto(live_server.url + reverse("portal:card"))
    expect(page.get_by_test_id("card-number")).to_be_visible()
    assert page.locator("#push-optin").count() == 0
    watch.assert_clean()


def test_turning_notifications_on_and_off(
    page, context, live_server, push_member, vapid
):
    browser = FakeBrowser(endpoint="https://push.example/fcm/send/olena-phone")
    context.add_init_script(
        FAKE_PUSH_MANAGER
        % json.dumps(
            {
                "endpoint": browser.endpoint,
                "keys": {"p256dh": browser.p256dh, "auth": browser.auth},
            }
        )
    )
    context.grant_permissions(["notifications"], origin=live_server.url)
    page.set_default_timeout(10_000)
    watch = browser_watch(page)

    portal_login(
        page, live_server.url, "olena@example.com", next_name="portal:preferences"
    )
    box = page.get_by_test_id("push-optin")
    expect(box).to_be_visible()
    expect(box).to_have_attribute("data-state", "off")
    expect(page.get_by_test_id("push-off")).to_be_hidden()
    page.locator("#push-offers").check()
    page.get_by_test_id("push-on").click()

    expect(box).to_have_attribute("data-state", "on")
    expect(page.get_by_test_id("push-status-on")).to_be_visible()
    # The preferences form's web push checkbox says so too.
    expect(page.locator("#id_push")).to_be_checked()
    expect(page.get_by_test_id("push-off")).to_be_visible()
    calls = page.evaluate("window.__pushCalls")
    assert calls == [
        {
            "userVisibleOnly": True,
            "key": base64.b64encode(
                base64.urlsafe_b64decode(vapid + "=" * (-len(vapid) % 4))
            ).decode(),
        }
    ]
    subscription = PushSubscription.objects.get(member=push_member)
    assert (subscription.endpoint, subscription.p256dh, subscription.auth) == (
        browser.endpoint,
        browser.p256dh,
        browser.auth,
    )
    assert "Chrome" in subscription.user_agent
    push_member.refresh_from_db()
    assert (push_member.push_devices, push_member.push_consent) == (1, True)
    assert ConsentEvent.objects.filter(
        member=push_member, channel=Channel.PUSH, granted=True
    ).exists()

    page.get_by_test_id("push-off").click()
    expect(box).to_have_attribute("data-state", "off")
    expect(page.get_by_test_id("push-status-off")).to_be_visible()
    assert page.evaluate("window.__pushUnsubscribed") is True
    assert not PushSubscription.objects.filter(member=push_member).exists()
    watch.assert_clean()


def test_a_refused_permission_says_so(page, context, live_server, push_member, vapid):
    context.add_init_script(
        FAKE_PUSH_MANAGER % json.dumps({"endpoint": "", "keys": {}})
    )
    page.set_default_timeout(10_000)
    portal_login(page, live_server.url, "olena@example.com", next_name="portal:card")
    # Headless Chromium answers an ungranted request with "denied".
    page.get_by_test_id("push-on").click()

    expect(page.get_by_test_id("push-status-denied")).to_be_visible()
    assert page.evaluate("window.__pushCalls") == []
    assert not PushSubscription.objects.exists()


def test_the_service_worker_shows_a_push_as_a_notification(
    page, context, live_server, push_member, vapid
):
    context.grant_permissions(["notifications"], origin=live_server.url)
    page.set_default_timeout(10_000)
    portal_login(page, live_server.url, "olena@example.com", next_name="portal:card")
    cdp = context.new_cdp_session(page)
    registrations = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(event["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    for _attempt in range(100):
        if (
            page.evaluate("navigator.serviceWorker.controller !== null")
            and registrations
        ):
            break
        page.wait_for_timeout(100)
    registration = next(r for r in registrations if not r.get("isDeleted"))
    payload = {
        "title": "Half price",
        "body": "Coffee at half price today",
        "url": live_server.url + "/c/signed/0/",
        "tag": "campaign:1",
    }

    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": live_server.url,
            "registrationId": registration["registrationId"],
            "data": json.dumps(payload),
        },
    )

    shown = []
    for _attempt in range(50):
        shown = page.evaluate(
            """navigator.serviceWorker.ready
                 .then((r) => r.getNotifications())
                 .then((list) => list.map((n) => ({
                   title: n.title, body: n.body, tag: n.tag, url: n.data.url })))"""
        )
        if shown:
            break
        page.wait_for_timeout(100)
    assert shown == [
        {
            "title": "Half price",
            "body": "Coffee at half price today",
            "tag": "campaign:1",
            "url": payload["url"],
        }
    ]
