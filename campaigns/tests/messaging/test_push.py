"""Web push as a channel of delivery, against a local fake push service
(members/tests/push_service.py: HTTPS, decrypts what arrives with the
subscription's own keys, checks the VAPID signature): a campaign and a
journey reach a member who prefers push; consent, quiet hours and the
frequency cap hold; a 5xx is logged and retried, a 410 removes the
subscription."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse

from campaigns.journeys.services import journey_run
from campaigns.messaging.delivery import message_deliver
from campaigns.messaging.services import delivery_settings_get, message_send
from campaigns.messaging.tracking import push_click_url
from campaigns.models import (
    CampaignChunk,
    Journey,
    JourneyKind,
    Message,
    MessageStatus,
    OutboxEntry,
)
from campaigns.sending.chunks import campaign_chunk_send
from campaigns.sending.services import campaign_send_now
from campaigns.tests.factories import campaign_make, segment_of
from members.models import Channel, ConsentSource, PushSubscription
from members.services import (
    member_consent_set,
    member_update_profile,
    push_subscription_save,
)
from members.tests.factories import MemberFactory
from members.tests.push_service import FakePushService, vapid_claims_verified

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)  # 12:00 in Kyiv
NIGHT = dt.datetime(2026, 6, 1, 20, 0, tzinfo=dt.UTC)  # 23:00 in Kyiv
MORNING = dt.datetime(2026, 6, 2, 6, 0, tzinfo=dt.UTC)  # 09:00 in Kyiv


@pytest.fixture
def push_service(vapid, settings, monkeypatch):
    settings.PUSH_TIMEOUT = 2.0
    service = FakePushService()
    # requests (pywebpush's client) trusts the fake's self-signed certificate.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", service.cert_path)
    yield service
    service.close()


def _subscribed(member, browser):
    return push_subscription_save(
        member=member,
        endpoint=browser.endpoint,
        p256dh=browser.p256dh,
        auth=browser.auth,
        user_agent="Fake Chrome",
    )


def _push_fan(store, service, name="phone", *, consent=True):
    """A member who prefers web push, with one subscribed browser (and an
    email address with consent, which they do not prefer)."""
    member = MemberFactory(store=store, email_consent=True, language="en")
    if consent:
        member_consent_set(
            member=member,
            channel=Channel.PUSH,
            granted=True,
            source=ConsentSource.PORTAL,
        )
    member_update_profile(member=member, preferred_channel=Channel.PUSH)
    browser = service.browser(name)
    _subscribed(member, browser)
    member.refresh_from_db()
    return member, browser


def _push(member, key="offer", body="Coffee at half price https://shop.example/sale"):
    return message_send(
        member=member,
        key=key,
        kind="campaign",
        subject="Half price",
        body=body,
        channel=Channel.PUSH,
        marketing=True,
    )


def _no_quiet_hours():
    conf = delivery_settings_get()
    conf.quiet_start = conf.quiet_end = dt.time(0)
    conf.save()


def test_a_campaign_reaches_a_member_who_prefers_push(push_service, vapid, store):
    member, browser = _push_fan(store, push_service)
    other = MemberFactory(store=store, email_consent=True, language="en")
    campaign = campaign_make(
        segment=segment_of([member, other]),
        channel="preferred",
        body_a="Hi {{ first_name }}, see https://shop.example/spring",
    )

    run = campaign_send_now(campaign=campaign)
    for chunk in CampaignChunk.objects.filter(run=run):
        campaign_chunk_send(chunk_id=chunk.pk)

    message = Message.objects.get(campaign=campaign, member=member)
    assert (message.channel, message.to, message.status) == (
        Channel.PUSH,
        "1 device",
        MessageStatus.SENT,
    )
    assert message.provider_id.startswith(push_service.origin + "/m/")
    [request] = push_service.to(browser)
    assert browser.decrypt(request) == {
        "title": "Hello A",
        "body": f"Hi {member.first_name}, see https://shop.example/spring",
        "url": push_click_url(message.token),
        "tag": f"campaign:{campaign.pk}",
    }
    claims = vapid_claims_verified(request.headers["authorization"], vapid)
    assert claims["aud"] == push_service.origin
    assert claims["sub"] == "mailto:push@example.com"
    assert int(request.headers["ttl"]) == 24 * 3600
    # The member who did not choose push got the email.
    assert [m.to for m in mail.outbox] == [[other.email]]
    subscription = PushSubscription.objects.get(member=member)
    assert subscription.last_success_at is not None
    assert subscription.failures == 0


def test_the_notification_click_is_tracked_and_opens_the_link(
    push_service, client, store
):
    _no_quiet_hours()
    member, browser = _push_fan(store, push_service)
    message = _push(member)
    message_deliver(message_id=message.pk, now=NOON)
    url = browser.decrypt(push_service.to(browser)[0])["url"]

    response = client.get(url.removeprefix("http://127.0.0.1:8000"))

    assert response.status_code == 302
    assert response["Location"] == "https://shop.example/sale"
    message.refresh_from_db()
    assert message.clicked_at is not None


def test_a_push_without_a_link_opens_the_card_when_clicked(push_service, client, store):
    _no_quiet_hours()
    member, browser = _push_fan(store, push_service)
    message = _push(member, body="Your tier is Gold now")
    message_deliver(message_id=message.pk, now=NOON)
    url = browser.decrypt(push_service.to(browser)[0])["url"]

    response = client.get(url.removeprefix("http://127.0.0.1:8000"))

    assert response.status_code == 302
    assert response["Location"].endswith(reverse("portal:card"))
    message.refresh_from_db()
    assert message.clicked_at is not None


def test_a_journey_reaches_a_member_who_prefers_push(
    push_service, store, django_capture_on_commit_callbacks
):
    _no_quiet_hours()
    Journey.objects.create(
        kind=JourneyKind.WELCOME,
        enabled=True,
        days=7,
        channel="",  # each member's preferred channel
        subject_en="Welcome, {{ first_name }}",
        body_en="Your card {{ card_number }} is ready.",
    )
    member, browser = _push_fan(store, push_service)

    with django_capture_on_commit_callbacks(execute=True):
        assert journey_run(kind="welcome") == 1

    message = Message.objects.get(member=member, kind="journey:welcome")
    assert (message.channel, message.status) == (Channel.PUSH, MessageStatus.SENT)
    payload = browser.decrypt(push_service.to(browser)[0])
    assert payload["title"] == f"Welcome, {member.first_name}"
    assert payload["body"] == f"Your card {member.card_number} is ready."
    assert payload["url"] == push_click_url(message.token)
    assert mail.outbox == []


def test_every_device_of_the_member_gets_it(push_service, store):
    _no_quiet_hours()
    member, phone = _push_fan(store, push_service)
    laptop = push_service.browser("laptop")
    _subscribed(member, laptop)
    member.refresh_from_db()
    message = _push(member)
    assert message.to == "2 devices"

    message_deliver(message_id=message.pk, now=NOON)

    assert phone.decrypt(push_service.to(phone)[0])["title"] == "Half price"
    assert laptop.decrypt(push_service.to(laptop)[0])["title"] == "Half price"


def test_no_push_consent_is_not_sent(push_service, store):
    _no_quiet_hours()
    member, _browser = _push_fan(store, push_service, consent=False)
    message = _push(member)

    message_deliver(message_id=message.pk, now=NOON)

    message.refresh_from_db()
    assert (message.status, message.error) == (
        MessageStatus.SUPPRESSED,
        "No web push marketing consent",
    )
    assert push_service.requests == []


def test_a_service_message_goes_without_marketing_consent(push_service, store):
    member, browser = _push_fan(store, push_service, consent=False)
    message = message_send(
        member=member,
        key="voucher",
        kind="journey:voucher_reminder",
        subject="Your voucher",
        body="It ends on Friday.",
    )
    assert message.channel == Channel.PUSH

    message_deliver(message_id=message.pk, now=NIGHT)

    assert browser.decrypt(push_service.to(browser)[0])["body"] == "It ends on Friday."


def test_quiet_hours_hold_a_push_until_they_end(push_service, store):
    member, browser = _push_fan(store, push_service)  # quiet 21:00-09:00 Kyiv
    message = _push(member)

    message_deliver(message_id=message.pk, now=NIGHT)
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert message.send_after == MORNING
    assert push_service.requests == []

    message_deliver(message_id=message.pk, now=MORNING)
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert len(push_service.to(browser)) == 1


def test_the_frequency_cap_counts_push_with_the_other_channels(push_service, store):
    _no_quiet_hours()
    conf = delivery_settings_get()
    conf.frequency_cap = 2
    conf.save()
    member, browser = _push_fan(store, push_service)
    email = message_send(
        member=member,
        key="mail",
        kind="campaign",
        subject="By email",
        body="An email",
        channel=Channel.EMAIL,
        marketing=True,
    )
    first, second = _push(member, key="one"), _push(member, key="two")

    for message in (email, first, second):
        message_deliver(message_id=message.pk, now=NOON)

    statuses = [Message.objects.get(pk=m.pk).status for m in (email, first, second)]
    assert statuses == [
        MessageStatus.SENT,
        MessageStatus.SENT,
        MessageStatus.SUPPRESSED,
    ]
    assert len(push_service.to(browser)) == 1


def test_a_5xx_is_logged_and_retried_then_delivered(push_service, store, caplog):
    _no_quiet_hours()
    member, browser = _push_fan(store, push_service)
    message = _push(member)
    push_service.statuses = [500]

    message_deliver(message_id=message.pk, now=NOON)

    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert message.error.startswith("Attempt 1 failed: push service answered HTTP 500")
    assert message.send_after == NOON + dt.timedelta(minutes=5)
    assert f"message {message.pk} attempt 1 failed" in caplog.text
    subscription = PushSubscription.objects.get(member=member)
    assert subscription.failures == 1
    assert "HTTP 500" in subscription.last_error

    message_deliver(message_id=message.pk, now=NOON + dt.timedelta(minutes=5))

    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.SENT, 2)
    assert len(push_service.to(browser)) == 2
    assert browser.decrypt(push_service.to(browser)[1])["title"] == "Half price"
    subscription.refresh_from_db()
    assert (subscription.failures, subscription.last_error) == (0, "")


def test_429_is_transient_too(push_service, store):
    _no_quiet_hours()
    member, _browser = _push_fan(store, push_service)
    message = _push(member)
    push_service.statuses = [429]

    message_deliver(message_id=message.pk, now=NOON)

    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED


def test_a_push_service_that_does_not_answer_is_retried(vapid, store, settings):
    _no_quiet_hours()
    member = MemberFactory(store=store, language="en")
    member_consent_set(
        member=member, channel=Channel.PUSH, granted=True, source=ConsentSource.PORTAL
    )
    # A port nobody listens on: the connection is refused.
    from members.tests.push_service import FakeBrowser

    browser = FakeBrowser(endpoint="https://127.0.0.1:9/push/gone")
    _subscribed(member, browser)
    member.refresh_from_db()
    message = _push(member)

    message_deliver(message_id=message.pk, now=NOON)

    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert "push service unreachable" in message.error


def test_410_removes_the_subscription_and_fails_when_none_is_left(push_service, store):
    _no_quiet_hours()
    member, _browser = _push_fan(store, push_service)
    message = _push(member)
    push_service.statuses = [410]

    message_deliver(message_id=message.pk, now=NOON)

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert "none left" in message.error
    assert not PushSubscription.objects.filter(member=member).exists()
    member.refresh_from_db()
    assert member.push_devices == 0
    # The next push finds no address.
    later = _push(member, key="later")
    assert (later.status, later.error) == (
        MessageStatus.SUPPRESSED,
        "no address for this channel",
    )


def test_a_404_device_is_removed_and_the_other_still_gets_it(push_service, store):
    _no_quiet_hours()
    member, phone = _push_fan(store, push_service)
    laptop = push_service.browser("laptop")
    _subscribed(member, laptop)
    member.refresh_from_db()
    message = _push(member)
    push_service.statuses = [404, 201]

    message_deliver(message_id=message.pk, now=NOON)

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert list(
        PushSubscription.objects.filter(member=member).values_list(
            "endpoint", flat=True
        )
    ) == [laptop.endpoint]
    member.refresh_from_db()
    assert member.push_devices == 1


def test_a_403_is_permanent(push_service, store):
    _no_quiet_hours()
    member, _browser = _push_fan(store, push_service)
    message = _push(member)
    push_service.statuses = [403]

    message_deliver(message_id=message.pk, now=NOON)

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.error.startswith("push service answered HTTP 403")
    assert PushSubscription.objects.filter(member=member).exists()


def test_without_keys_the_development_outbox_keeps_the_push(settings, store):
    settings.DEBUG = True
    settings.VAPID_PUBLIC_KEY = settings.VAPID_PRIVATE_KEY = ""
    settings.LOYALTY_PUSH_BACKEND = (
        "campaigns.messaging.backends.push.OutboxPushBackend"
    )
    _no_quiet_hours()
    member = MemberFactory(store=store, language="en")
    member_consent_set(
        member=member, channel=Channel.PUSH, granted=True, source=ConsentSource.PORTAL
    )
    from members.tests.push_service import FakeBrowser

    _subscribed(member, FakeBrowser(endpoint="https://push.example/sub/1"))
    member.refresh_from_db()
    message = _push(member)

    message_deliver(message_id=message.pk, now=NOON)

    entry = OutboxEntry.objects.get(reference=message.token)
    assert (entry.channel, entry.to, entry.subject) == (
        Channel.PUSH,
        "1 device",
        "Half price",
    )
    assert entry.headers["url"] == push_click_url(message.token)
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_the_outbox_is_not_used_outside_development(settings, store):
    settings.DEBUG = False
    settings.VAPID_PUBLIC_KEY = settings.VAPID_PRIVATE_KEY = ""
    settings.LOYALTY_PUSH_BACKEND = (
        "campaigns.messaging.backends.push.OutboxPushBackend"
    )
    from members.messages import channels_available

    assert Channel.PUSH not in channels_available()


def test_the_campaign_fan_out_reads_no_subscription(
    push_service, store, django_assert_max_num_queries
):
    """The push address comes from Member.push_devices: the chunk's queries
    do not grow with its members who use push (delivery left out)."""
    from unittest import mock

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from campaigns.messaging.delivery import DeliveryResult

    def queries_for(n: int, start: int) -> int:
        members = []
        for i in range(n):
            member = MemberFactory(store=store, language="en")
            _subscribed(member, push_service.browser(f"{start}-{i}"))
            members.append(member)
        campaign = campaign_make(
            name=f"c{start}", segment=segment_of(members, f"s{start}"), channel="push"
        )
        with mock.patch("campaigns.sending.services._chunks_queue"):
            run = campaign_send_now(campaign=campaign)
        chunk = CampaignChunk.objects.get(run=run)
        with (
            mock.patch(
                "campaigns.messaging.delivery.messages_deliver_many",
                return_value=DeliveryResult(),
            ),
            CaptureQueriesContext(connection) as ctx,
        ):
            campaign_chunk_send(chunk_id=chunk.pk)
        assert set(
            Message.objects.filter(campaign=campaign).values_list("to", flat=True)
        ) == {"1 device"}
        return len(ctx.captured_queries)

    small = queries_for(3, 0)
    large = queries_for(30, 100)

    assert small == large


def test_the_subject_is_kept_for_push_and_dropped_for_sms(push_service, store):
    member, _browser = _push_fan(store, push_service)
    texter = MemberFactory(store=store, sms_consent=True, email=None, language="en")
    campaign = campaign_make(segment=segment_of([member, texter]), channel="preferred")

    run = campaign_send_now(campaign=campaign)
    for chunk in CampaignChunk.objects.filter(run=run):
        campaign_chunk_send(chunk_id=chunk.pk)

    subjects = dict(
        Message.objects.filter(campaign=campaign).values_list("channel", "subject")
    )
    assert subjects == {Channel.PUSH: "Hello A", Channel.SMS: ""}
