"""Telegram as a channel of the delivery, against a local fake of the Bot API:
a campaign and a journey reach a member who prefers Telegram; consent, quiet
hours and the frequency cap hold; a failure is logged and retried; a chat that
blocked the bot is unlinked; the Outbox keeps messages under `make run`."""

from __future__ import annotations

import datetime as dt
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.urls import reverse

from campaigns.journeys.services import journey_run
from campaigns.messaging.delivery import message_deliver
from campaigns.messaging.services import delivery_settings_get, message_send
from campaigns.messaging.tracking import token_sign
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
from members.models import Channel, ConsentEvent, ConsentSource
from members.services import member_consent_set
from members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

CHAT = "424242"
NOON = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)  # 12:00 in Kyiv
NIGHT = dt.datetime(2026, 6, 1, 21, 0, tzinfo=dt.UTC)  # 00:00 in Kyiv


def _fan(store, *, consent=True, **fields):
    """A member who prefers Telegram, their chat linked, offers allowed there
    (and by email, which must not be used)."""
    member = MemberFactory(store=store, language="en", **fields)
    member.telegram_chat_id = CHAT
    member.preferred_channel = Channel.TELEGRAM
    member.save(update_fields=["telegram_chat_id", "preferred_channel"])
    member_consent_set(member=member, channel="email", granted=True, source="portal")
    if consent:
        member_consent_set(
            member=member, channel="telegram", granted=True, source="telegram"
        )
    return member


def _offer(member, key="offer:1", body="20% off", marketing=True):
    return message_send(
        member=member,
        key=key,
        kind="campaign",
        subject="Spring",
        body=body,
        channel=Channel.TELEGRAM,
        marketing=marketing,
    )


@pytest.mark.parametrize("channel", ["preferred", "telegram"])
def test_campaign_reaches_a_member_who_prefers_telegram(
    store, bot_api, settings, channel
):
    fan = _fan(store)
    campaign = campaign_make(
        channel=channel,
        segment=segment_of([fan]),
        body_a="Hi {{ first_name }} <3 & more: https://shop.example/spring?a=1&b=2.",
    )
    with mock.patch("campaigns.sending.services._chunks_queue"):
        run = campaign_send_now(campaign=campaign)
    for chunk in CampaignChunk.objects.filter(run=run):
        campaign_chunk_send(chunk_id=chunk.pk)

    message = Message.objects.get(campaign=campaign)
    assert (message.channel, message.to, message.status) == (
        Channel.TELEGRAM,
        CHAT,
        MessageStatus.SENT,
    )
    assert message.provider_id == f"{CHAT}:1"
    assert mail.outbox == []
    (call,) = bot_api.of("sendMessage")
    params = call["params"]
    assert params["chat_id"] == CHAT
    assert params["parse_mode"] == "HTML"
    # Escaped text, the link through click tracking, the opt-out link.
    click = reverse(
        "campaigns:track_click",
        args=[token_sign(message.token, salt="campaigns.click"), 0],
    )
    site = settings.SITE_URL
    assert params["text"].startswith(
        f"Hi {fan.first_name} &lt;3 &amp; more: "
        f'<a href="{site}{click}">https://shop.example/spring?a=1&amp;b=2</a>.\n\n'
    )
    assert click in params["text"]
    assert "Opt out</a>" in params["text"]
    (button,) = params["reply_markup"]["inline_keyboard"][0]
    assert button["text"] == "Open"
    assert button["url"].endswith(click)


def test_the_tracked_button_records_the_click(client, store, bot_api):
    fan = _fan(store)
    message = _offer(fan, body="Menu: https://shop.example/menu")
    message_deliver(message_id=message.pk, now=NOON)
    url = bot_api.of("sendMessage")[0]["params"]["reply_markup"]["inline_keyboard"][0][
        0
    ]["url"]

    response = client.get(urlsplit(url).path)

    assert response.status_code == 302
    assert response["Location"] == "https://shop.example/menu"
    message.refresh_from_db()
    assert message.clicked_at is not None


def test_journey_reaches_a_member_who_prefers_telegram(
    store, bot_api, django_capture_on_commit_callbacks
):
    Journey.objects.create(
        kind=JourneyKind.WELCOME,
        enabled=True,
        days=7,
        subject_en="Welcome",
        body_en="Welcome, {{ first_name }}!",
    )
    fan = _fan(store, first_name="Taras")
    # The journey runs now: whatever the hour, the quiet hours are not its subject.
    conf = delivery_settings_get()
    conf.quiet_start = conf.quiet_end = dt.time(0)
    conf.save()

    with django_capture_on_commit_callbacks(execute=True):
        assert journey_run(kind="welcome") == 1

    message = Message.objects.get(kind="journey:welcome")
    assert (message.channel, message.status) == (Channel.TELEGRAM, MessageStatus.SENT)
    assert bot_api.texts(CHAT)[0].startswith("<b>Welcome</b>\n\nWelcome, Taras!")
    assert fan.email not in [m.to[0] for m in mail.outbox]


def test_no_telegram_consent_suppresses(store, bot_api):
    fan = _fan(store, consent=False)
    message = _offer(fan)

    message_deliver(message_id=message.pk, now=NOON)

    message.refresh_from_db()
    assert message.status == MessageStatus.SUPPRESSED
    assert message.error == "No Telegram marketing consent"
    assert bot_api.calls == []


def test_quiet_hours_hold_a_marketing_message_but_not_a_service_one(store, bot_api):
    fan = _fan(store)
    offer = _offer(fan)
    service = _offer(fan, key="service", marketing=False)

    message_deliver(message_id=offer.pk, now=NIGHT)
    message_deliver(message_id=service.pk, now=NIGHT)

    offer.refresh_from_db()
    assert offer.status == MessageStatus.QUEUED
    assert offer.error.startswith("Delayed: quiet hours in Europe/Kyiv")
    assert offer.send_after == dt.datetime(2026, 6, 2, 6, 0, tzinfo=dt.UTC)
    assert len(bot_api.of("sendMessage")) == 1  # the service message only

    message_deliver(message_id=offer.pk, now=offer.send_after)

    offer.refresh_from_db()
    assert offer.status == MessageStatus.SENT
    assert len(bot_api.of("sendMessage")) == 2


def test_the_frequency_cap_holds_across_channels(store, bot_api):
    conf = delivery_settings_get()
    conf.frequency_cap = 2
    conf.save()
    fan = _fan(store)
    email = message_send(
        member=fan,
        key="email-offer",
        kind="campaign",
        subject="S",
        body="b",
        channel=Channel.EMAIL,
        marketing=True,
    )
    message_deliver(message_id=email.pk, now=NOON)
    first, second = _offer(fan, key="a"), _offer(fan, key="b")

    message_deliver(message_id=first.pk, now=NOON)
    message_deliver(message_id=second.pk, now=NOON)

    assert Message.objects.get(pk=first.pk).status == MessageStatus.SENT
    second.refresh_from_db()
    assert second.status == MessageStatus.SUPPRESSED
    assert second.error == "Frequency cap: 2 marketing messages in the last 7 days"
    assert len(bot_api.of("sendMessage")) == 1


@pytest.mark.parametrize("status", [500, 429])
def test_a_failure_is_logged_and_retried(store, bot_api, status, caplog):
    fan = _fan(store)
    message = _offer(fan)
    bot_api.fail("sendMessage", status, "Internal Server Error")

    message_deliver(message_id=message.pk, now=NOON)

    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert message.attempts == 1
    assert message.error == (
        f"Attempt 1 failed: Telegram answered HTTP {status}: Internal Server Error"
    )
    assert message.send_after == NOON + dt.timedelta(minutes=5)
    assert f"message {message.pk} attempt 1 failed" in caplog.text

    message_deliver(message_id=message.pk, now=message.send_after)

    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.SENT, 2)
    assert len(bot_api.of("sendMessage")) == 2


def test_an_unreachable_api_is_retried(store, settings):
    settings.TELEGRAM_BOT_TOKEN = "1:x"
    settings.TELEGRAM_API_URL = "http://127.0.0.1:9"  # nothing listens there
    settings.LOYALTY_TELEGRAM_BACKEND = (
        "campaigns.messaging.backends.telegram.BotApiTelegramBackend"
    )
    message = _offer(_fan(store))

    message_deliver(message_id=message.pk, now=NOON)

    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert message.error.startswith("Attempt 1 failed: Telegram unreachable")


def test_a_blocked_bot_fails_the_message_and_unlinks_the_chat(store, bot_api):
    fan = _fan(store)
    message = _offer(fan)
    bot_api.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")

    message_deliver(message_id=message.pk, now=NOON)

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.error == (
        "Telegram answered HTTP 403: Forbidden: bot was blocked by the user"
    )
    fan.refresh_from_db()
    assert (fan.telegram_chat_id, fan.telegram_consent) == ("", False)
    assert fan.telegram_consent_source == ConsentSource.UNSUBSCRIBE
    last = ConsentEvent.objects.filter(member=fan).order_by("-pk").first()
    assert (last.channel, last.granted, last.source) == (
        Channel.TELEGRAM,
        False,
        ConsentSource.UNSUBSCRIBE,
    )
    # The next offer has nowhere to go in Telegram.
    assert _offer(fan, key="next").status == MessageStatus.SUPPRESSED


def test_the_outbox_keeps_telegram_messages_under_make_run(store, settings):
    settings.DEBUG = True
    settings.TELEGRAM_BOT_TOKEN = ""
    settings.LOYALTY_TELEGRAM_BACKEND = (
        "campaigns.messaging.backends.telegram.OutboxTelegramBackend"
    )
    fan = _fan(store)
    message = _offer(fan, body="<i>Sale</i>")

    message_deliver(message_id=message.pk, now=NOON)

    entry = OutboxEntry.objects.get()
    assert (entry.channel, entry.to, entry.body) == (
        Channel.TELEGRAM,
        CHAT,
        "<i>Sale</i>",
    )
    assert entry.html.startswith("<b>Spring</b>\n\n&lt;i&gt;Sale&lt;/i&gt;")
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.provider_id == f"outbox-{entry.pk}"
