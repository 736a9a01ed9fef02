"""Signed links in messages (unsubscribe, open pixel, clicks) and the webhooks of
the email provider and the SMS gateway."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.messaging.delivery import message_deliver
from campaigns.messaging.services import message_send
from campaigns.messaging.tracking import (
    SALT_CLICK,
    SALT_OPEN,
    SALT_UNSUBSCRIBE,
    token_sign,
    unsubscribe_url,
)
from campaigns.models import Message, MessageStatus
from members.models import Channel, ConsentEvent, ConsentSource
from members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

BODY = "New season: https://shop.example.com/new and https://shop.example.com/sale!"


@pytest.fixture
def fan(store):
    return MemberFactory(
        store=store, email="fan@example.com", email_consent=True, sms_consent=True
    )


@pytest.fixture
def sent(fan):
    message = message_send(
        member=fan,
        key="offer",
        kind="campaign",
        subject="New",
        body=BODY,
        marketing=True,
    )
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    return message


def _path(url: str) -> str:
    return url.removeprefix("http://127.0.0.1:8000")


class TestUnsubscribe:
    def test_link_opens_a_confirm_page_without_login_and_changes_nothing(
        self, client, sent, fan
    ):
        response = client.get(_path(unsubscribe_url(sent.token)))

        assert response.status_code == 200
        assert "Unsubscribe from offers?" in response.content.decode()
        fan.refresh_from_db()
        assert fan.email_consent is True

    def test_confirming_withdraws_email_consent_with_history(self, client, sent, fan):
        response = client.post(_path(unsubscribe_url(sent.token)))

        assert response.status_code == 200
        assert "You are unsubscribed" in response.content.decode()
        fan.refresh_from_db()
        assert fan.email_consent is False
        assert fan.sms_consent is True  # only the message's channel
        event = ConsentEvent.objects.get(member=fan, granted=False)
        assert (event.channel, event.source) == (
            Channel.EMAIL,
            ConsentSource.UNSUBSCRIBE,
        )

    def test_one_click_post_from_a_mail_client_needs_no_csrf_token(self, sent, fan):
        client = Client(enforce_csrf_checks=True)

        response = client.post(
            _path(unsubscribe_url(sent.token)),
            data="List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )

        assert response.status_code == 200
        fan.refresh_from_db()
        assert fan.email_consent is False

    def test_second_unsubscribe_writes_no_second_event(self, client, sent, fan):
        url = _path(unsubscribe_url(sent.token))
        client.post(url)
        client.post(url)

        assert ConsentEvent.objects.filter(member=fan, granted=False).count() == 1

    @pytest.mark.parametrize(
        "mangle",
        [
            lambda signed: signed[:-2] + ("AA" if not signed.endswith("AA") else "BB"),
            lambda signed: "x" + signed,
            lambda signed: signed.split(":")[0],
        ],
    )
    def test_tampered_link_is_refused_with_a_clear_page(
        self, client, sent, fan, mangle
    ):
        signed = token_sign(sent.token, salt=SALT_UNSUBSCRIBE)
        url = reverse("campaigns:unsubscribe", args=[mangle(signed)])

        for response in (client.get(url), client.post(url)):
            assert response.status_code == 400
            assert "This link does not work" in response.content.decode()
        fan.refresh_from_db()
        assert fan.email_consent is True

    def test_a_pixel_link_cannot_unsubscribe(self, client, sent, fan):
        signed = token_sign(sent.token, salt=SALT_OPEN)

        response = client.post(reverse("campaigns:unsubscribe", args=[signed]))

        assert response.status_code == 400
        fan.refresh_from_db()
        assert fan.email_consent is True

    def test_marketing_sms_carries_a_signed_opt_out_link(self, fan, sms_outbox):
        message = message_send(
            member=fan,
            key="sms-offer",
            kind="campaign",
            subject="",
            body="Sale!",
            channel=Channel.SMS,
            marketing=True,
        )
        # At noon in the member's zone: a marketing SMS waits out the quiet
        # hours (21:00-09:00), and this test may run at any time of day.
        noon = timezone.localtime().replace(hour=12, minute=0)
        message_deliver(message_id=message.pk, now=noon)

        text = sms_outbox[0]["text"]
        assert text.startswith("Sale!\nOpt out: http://127.0.0.1:8000/u/")
        Client().post(_path(text.split(": ", 1)[1]))
        fan.refresh_from_db()
        assert (fan.sms_consent, fan.email_consent) == (False, True)


class TestTracking:
    def test_open_pixel_records_the_first_open_only(self, client, sent):
        url = reverse(
            "campaigns:track_open", args=[token_sign(sent.token, salt=SALT_OPEN)]
        )

        first = client.get(url)
        opened = Message.objects.get(pk=sent.pk).opened_at
        second = client.get(url)

        assert first.status_code == second.status_code == 200
        assert first["Content-Type"] == "image/gif"
        assert opened is not None
        assert Message.objects.get(pk=sent.pk).opened_at == opened

    def test_click_redirects_to_the_messages_own_link_once_recorded(self, client, sent):
        signed = token_sign(sent.token, salt=SALT_CLICK)

        first = client.get(reverse("campaigns:track_click", args=[signed, 1]))
        clicked = Message.objects.get(pk=sent.pk).clicked_at
        again = client.get(reverse("campaigns:track_click", args=[signed, 0]))

        assert first.status_code == 302
        assert first["Location"] == "https://shop.example.com/sale"
        assert again["Location"] == "https://shop.example.com/new"
        message = Message.objects.get(pk=sent.pk)
        assert message.clicked_at == clicked is not None
        assert message.opened_at is not None  # a click proves the open

    def test_click_cannot_be_pointed_at_a_foreign_url(self, client, sent):
        signed = token_sign(sent.token, salt=SALT_CLICK)
        url = reverse("campaigns:track_click", args=[signed, 2])

        beyond = client.get(url + "?url=https://evil.example.com/")
        forged = client.get(
            reverse("campaigns:track_click", args=[signed[:-1] + "x", 0])
        )
        other_salt = client.get(
            reverse(
                "campaigns:track_click",
                args=[token_sign(sent.token, salt=SALT_UNSUBSCRIBE), 0],
            )
        )

        for response in (beyond, forged, other_salt):
            assert response.status_code == 400
            assert "Location" not in response
        assert Message.objects.get(pk=sent.pk).clicked_at is None

    def test_tampered_pixel_is_refused(self, client, sent):
        url = reverse("campaigns:track_open", args=[sent.token + ":nope"])

        assert client.get(url).status_code == 400
        assert Message.objects.get(pk=sent.pk).opened_at is None


WEBHOOK_TOKEN = "hook-secret-123"


@pytest.fixture
def hooks(settings):
    settings.EMAIL_WEBHOOK_TOKEN = WEBHOOK_TOKEN
    settings.SMS_GATEWAY_WEBHOOK_TOKEN = WEBHOOK_TOKEN


def _post(client, name, data, token=WEBHOOK_TOKEN):
    return client.post(
        reverse(f"campaigns:{name}"),
        data=json.dumps(data) if not isinstance(data, str) else data,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


class TestEmailWebhook:
    def test_bounce_fails_the_message_with_the_reason(self, client, hooks, sent):
        response = _post(
            client,
            "email_webhook",
            {
                "event": "bounce",
                "message_id": f"<{sent.provider_id}>",
                "reason": "550 mailbox unavailable",
            },
        )

        assert response.status_code == 200
        message = Message.objects.get(pk=sent.pk)
        assert message.status == MessageStatus.FAILED
        assert message.error == "Bounced: 550 mailbox unavailable"
        assert message.failed_at is not None

    def test_complaint_withdraws_email_consent(self, client, hooks, sent, fan):
        _post(client, "email_webhook", {"event": "complaint", "token": sent.token})

        fan.refresh_from_db()
        assert fan.email_consent is False
        assert fan.email_consent_source == ConsentSource.UNSUBSCRIBE

    def test_wrong_or_missing_token_is_refused(self, client, hooks, sent, settings):
        wrong = _post(client, "email_webhook", {"event": "bounce"}, token="nope")
        settings.EMAIL_WEBHOOK_TOKEN = ""
        unset = _post(client, "email_webhook", {"event": "bounce"}, token="")

        assert (wrong.status_code, unset.status_code) == (403, 403)
        assert Message.objects.get(pk=sent.pk).status == MessageStatus.SENT

    def test_bad_input_is_a_4xx_naming_the_field(self, client, hooks, sent):
        not_json = _post(client, "email_webhook", "{nope")
        bad_event = _post(client, "email_webhook", {"event": "opened"})
        unknown = _post(
            client, "email_webhook", {"event": "bounce", "message_id": "<x@y>"}
        )

        assert (not_json.status_code, not_json.json()["field"]) == (400, "body")
        assert (bad_event.status_code, bad_event.json()["field"]) == (400, "event")
        assert (unknown.status_code, unknown.json()["field"]) == (404, "message_id")


class TestSmsWebhook:
    def test_stop_reply_withdraws_sms_consent(self, client, hooks, fan):
        local = "0" + fan.phone.removeprefix("+380")  # as the gateway may send it

        response = _post(
            client, "sms_webhook", {"type": "inbound", "from": local, "text": "Stop"}
        )

        assert response.json() == {"ok": True, "unsubscribed": True}
        fan.refresh_from_db()
        assert (fan.sms_consent, fan.sms_consent_source) == (
            False,
            ConsentSource.UNSUBSCRIBE,
        )

    def test_other_replies_change_nothing(self, client, hooks, fan):
        response = _post(
            client,
            "sms_webhook",
            {"type": "inbound", "from": fan.phone, "text": "thanks!"},
        )

        assert response.json()["unsubscribed"] is False
        fan.refresh_from_db()
        assert fan.sms_consent is True

    def test_failed_delivery_report_fails_the_message(self, client, hooks, fan):
        message = message_send(
            member=fan, key="s", kind="t", subject="", body="Hi", channel=Channel.SMS
        )
        message_deliver(message_id=message.pk)

        response = _post(
            client,
            "sms_webhook",
            {
                "type": "report",
                "reference": message.token,
                "status": "failed",
                "error": "unreachable",
            },
        )

        assert response.status_code == 200
        message.refresh_from_db()
        assert message.status == MessageStatus.FAILED
        assert message.error == "Gateway report: unreachable"

    def test_unknown_type_is_refused(self, client, hooks):
        response = _post(client, "sms_webhook", {"type": "weird"})

        assert (response.status_code, response.json()["field"]) == (400, "type")
