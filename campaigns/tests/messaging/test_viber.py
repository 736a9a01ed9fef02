"""The Viber channel against a local fake of TurboSMS (and of the SMS gateway
for the fallback): campaigns and journeys reach a member who prefers Viber,
consent, quiet hours and the cap hold, failures are logged and retried, and a
"not delivered" report sends the text by SMS once."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

import pytest
from django.urls import reverse

from campaigns.journeys.services import journey_run
from campaigns.messaging.delivery import message_deliver
from campaigns.messaging.services import delivery_settings_get, message_send
from campaigns.messaging.viber import viber_statuses_poll
from campaigns.models import (
    CampaignChunk,
    DeliverySettings,
    Journey,
    JourneyKind,
    Message,
    MessageStatus,
    OutboxEntry,
)
from campaigns.sending.chunks import campaign_chunk_send
from campaigns.sending.services import campaign_send_now
from campaigns.tests.factories import campaign_make, segment_of
from members.forms import PreferencesForm
from members.messages import channel_available
from members.models import Channel, ConsentSource
from members.services import member_consent_set, member_update_profile
from members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)  # 12:00 in Kyiv
NIGHT = dt.datetime(2026, 6, 1, 20, 0, tzinfo=dt.UTC)  # 23:00 in Kyiv
HOOK_SECRET = "viber-hook-secret"
SEND_PATH = "/message/send.json"
SMS_PATH = "/v1/sms"
STATUS_PATH = "/message/status.json"


class FakeProvider:
    """TurboSMS's message/send.json and an SMS gateway on one local server.
    Records every request; `failures` answers the next Viber requests HTTP 500;
    `refusal` answers them with that TurboSMS code for the recipient."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.failures = 0
        self.refusal: tuple[int, str] | None = None
        self.statuses: dict[str, str] = {}  # message_id -> status.json's status
        ids = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = json.loads(raw)
                fake.requests.append(
                    {
                        "path": self.path,
                        "auth": self.headers.get("Authorization"),
                        "type": self.headers.get("Content-Type"),
                        "json": body,
                    }
                )
                status, answer = 200, {"id": f"sms-{next(ids)}"}
                if self.path == SEND_PATH:
                    status, answer = fake.viber_answer(body, next(ids))
                elif self.path == STATUS_PATH:
                    status, answer = 200, fake.status_answer(body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def viber_answer(self, body: dict, n: int) -> tuple[int, dict]:
        if self.failures:
            self.failures -= 1
            return 500, {"error": "upstream down"}
        phone = body["recipients"][0]
        if self.refusal:
            code, status = self.refusal
            row = {"phone": phone, "response_code": code, "response_status": status}
            return 200, {
                "response_code": 802,
                "response_status": "SUCCESS_MESSAGE_PARTIAL_ACCEPTED",
                "response_result": [row | {"message_id": None}],
            }
        return 200, {
            "response_code": 800,
            "response_status": "SUCCESS_MESSAGE_ACCEPTED",
            "response_result": [
                {
                    "phone": phone,
                    "response_code": 0,
                    "message_id": f"tsms-{n}",
                    "response_status": "OK",
                }
            ],
        }

    def status_answer(self, body: dict) -> dict:
        rows = [
            {"message_id": i, "response_code": 0, "status": self.statuses[i]}
            | {"type": "viber", "response_status": "OK"}
            for i in body["messages"]
            if i in self.statuses
        ]
        return {"response_code": 0, "response_status": "OK", "response_result": rows}

    def sent(self, path: str) -> list[dict]:
        return [r["json"] for r in self.requests if r["path"] == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def provider(settings):
    fake = FakeProvider()
    settings.LOYALTY_VIBER_BACKEND = (
        "campaigns.messaging.backends.viber.TurboSmsViberBackend"
    )
    settings.VIBER_PROVIDER_URL = fake.base + SEND_PATH
    settings.VIBER_PROVIDER_TOKEN = "turbo-token"
    settings.VIBER_SENDER = "ZernoCoffee"
    settings.VIBER_PROVIDER_TIMEOUT = 2.0
    settings.VIBER_SMS_FALLBACK = True
    settings.VIBER_WEBHOOK_TOKEN = HOOK_SECRET
    settings.LOYALTY_SMS_BACKEND = (
        "campaigns.messaging.backends.sms.HttpGatewaySmsBackend"
    )
    settings.SMS_GATEWAY_URL = fake.base + SMS_PATH
    settings.SMS_GATEWAY_TOKEN = "gw-token"
    yield fake
    fake.close()


def _fan(store, *, preferred_channel=Channel.VIBER, viber_consent=True, **fields):
    """A member who prefers Viber and agreed to it (through the consent service,
    with its history), and to SMS and email."""
    fields = {"sms_consent": True, "email_consent": True, "language": "en", **fields}
    member = MemberFactory(store=store, **fields)
    member_update_profile(member=member, preferred_channel=preferred_channel)
    member_consent_set(
        member=member,
        channel=Channel.VIBER,
        granted=viber_consent,
        source=ConsentSource.PORTAL,
    )
    member.refresh_from_db()
    return member


def _viber(member, key="offer", body="Double points today", marketing=True):
    return message_send(
        member=member,
        key=key,
        kind="campaign",
        subject="",
        body=body,
        channel=Channel.VIBER,
        marketing=marketing,
    )


def _no_quiet_hours(**fields):
    DeliverySettings.objects.update_or_create(
        pk=1, defaults={"quiet_start": dt.time(0), "quiet_end": dt.time(0), **fields}
    )


def _report(client, data, token=HOOK_SECRET):
    return client.post(
        reverse("campaigns:viber_webhook"),
        data=json.dumps(data),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


# --- reaching the member ------------------------------------------------------------


@pytest.mark.parametrize("channel", ["viber", "preferred"])
def test_campaign_reaches_a_member_who_prefers_viber(channel, provider, store, client):
    fan = _fan(store, phone="+380501234567")
    emailer = _fan(store, preferred_channel=Channel.EMAIL, viber_consent=False)
    campaign = campaign_make(
        channel=channel,
        segment=segment_of([fan, emailer]),
        body_a="Hi {{ first_name }}, see https://zerno.example/spring today.",
    )
    with mock.patch("campaigns.sending.services._chunks_queue"):
        run = campaign_send_now(campaign=campaign)
    for chunk in CampaignChunk.objects.filter(run=run):
        campaign_chunk_send(chunk_id=chunk.pk)

    message = Message.objects.get(campaign=campaign, member=fan)
    assert (message.channel, message.status) == (Channel.VIBER, MessageStatus.SENT)
    assert message.provider_id.startswith("tsms-")
    other = Message.objects.get(campaign=campaign, member=emailer)
    if channel == "viber":  # written for Viber, not agreed to: not sent
        assert (other.status, other.error) == (
            MessageStatus.SUPPRESSED,
            "No Viber marketing consent",
        )
    else:
        assert (other.channel, other.status) == (Channel.EMAIL, MessageStatus.SENT)
    [request] = provider.requests
    assert request["path"] == SEND_PATH
    assert request["auth"] == "Bearer turbo-token"
    assert request["type"].startswith("application/json")
    body = request["json"]
    # The documented shape: recipients' digits, the viber part, no sms part.
    assert set(body) == {"recipients", "viber"}
    assert body["recipients"] == ["380501234567"]
    viber = body["viber"]
    assert set(viber) == {"sender", "text", "caption", "action"}
    assert viber["sender"] == "ZernoCoffee"
    first_line, opt_out = viber["text"].split("\n")
    assert first_line == f"Hi {fan.first_name}, see https://zerno.example/spring today."
    assert opt_out.startswith("Opt out: http")
    assert viber["caption"] == "Open"
    # The button is our tracked link: pressing it records the click.
    response = client.get(viber["action"])
    assert response.status_code == 302
    assert response["Location"] == "https://zerno.example/spring"
    message.refresh_from_db()
    assert message.clicked_at is not None


def test_journey_reaches_a_member_who_prefers_viber(
    provider, store, django_capture_on_commit_callbacks
):
    _no_quiet_hours()
    Journey.objects.create(
        kind=JourneyKind.WELCOME,
        enabled=True,
        days=7,
        channel="",  # each member's preferred channel
        subject_en="Welcome",
        body_en="Welcome, {{ first_name }}!",
    )
    fan = _fan(store, first_name="Olena")

    with django_capture_on_commit_callbacks(execute=True):
        assert journey_run(kind="welcome") == 1

    message = Message.objects.get(member=fan)
    assert (message.channel, message.status) == (Channel.VIBER, MessageStatus.SENT)
    [body] = provider.sent(SEND_PATH)
    assert body["recipients"] == [fan.phone.lstrip("+")]
    assert body["viber"]["text"].startswith("Welcome, Olena!\nOpt out: http")
    assert "action" not in body["viber"]  # no link, no button


# --- the rules hold --------------------------------------------------------------------


def test_no_viber_consent_suppresses(provider, store):
    fan = _fan(store, viber_consent=False)
    message = _viber(fan)

    message_deliver(message_id=message.pk, now=NOON)

    message.refresh_from_db()
    assert message.status == MessageStatus.SUPPRESSED
    assert message.error == "No Viber marketing consent"
    assert provider.requests == []


def test_quiet_hours_hold_a_viber_message(provider, store):
    fan = _fan(store)
    message = _viber(fan)

    message_deliver(message_id=message.pk, now=NIGHT)

    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert message.send_after == dt.datetime(2026, 6, 2, 6, 0, tzinfo=dt.UTC)
    assert provider.requests == []
    message_deliver(message_id=message.pk, now=message.send_after)
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert len(provider.requests) == 1


def test_frequency_cap_holds_across_channels(provider, store):
    _no_quiet_hours(frequency_cap=2)
    fan = _fan(store)
    sms = message_send(
        member=fan,
        key="sms",
        kind="campaign",
        subject="",
        body="By SMS",
        channel=Channel.SMS,
        marketing=True,
    )
    first, second = _viber(fan, key="a"), _viber(fan, key="b")

    for message in (sms, first, second):
        message_deliver(message_id=message.pk, now=NOON)

    second.refresh_from_db()
    assert second.status == MessageStatus.SUPPRESSED
    assert second.error == "Frequency cap: 2 marketing messages in the last 7 days"
    assert len(provider.sent(SEND_PATH)) == 1


# --- failures ---------------------------------------------------------------------------


def test_provider_500_is_logged_and_retried(provider, store):
    provider.failures = 1
    fan = _fan(store)
    message = _viber(fan)

    message_deliver(message_id=message.pk, now=NOON)

    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert message.error.startswith(
        "Attempt 1 failed: Viber provider answered HTTP 500"
    )
    assert message.send_after == NOON + dt.timedelta(minutes=5)
    message_deliver(message_id=message.pk, now=message.send_after)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.SENT, 2)
    assert message.provider_id.startswith("tsms-")
    assert len(provider.sent(SEND_PATH)) == 2


def test_provider_refusal_fails_at_once(provider, store):
    provider.refusal = (404, "NOT_ALLOWED_NUMBER_STOPLIST")
    message = _viber(_fan(store))

    message_deliver(message_id=message.pk, now=NOON)

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.error == (
        "Viber provider refused it: 404 NOT_ALLOWED_NUMBER_STOPLIST"
    )


def test_provider_out_of_balance_is_retried(provider, store):
    provider.refusal = (203, "REQUIRED_BALANCE")
    message = _viber(_fan(store))

    message_deliver(message_id=message.pk, now=NOON)

    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert "203 REQUIRED_BALANCE" in message.error


# --- reports and the SMS fallback -------------------------------------------------------


def test_not_delivered_report_sends_the_sms_once(
    provider, store, client, django_capture_on_commit_callbacks
):
    _no_quiet_hours(frequency_cap=1)
    fan = _fan(store)
    message = _viber(fan, body="Double points today")
    message_deliver(message_id=message.pk, now=NOON)
    message.refresh_from_db()
    viber_id = message.provider_id
    report = {"message_id": viber_id, "status": "Undelivered", "type": "viber"}

    with django_capture_on_commit_callbacks(execute=True):
        response = _report(client, report)
    assert response.status_code == 200
    assert response.json() == {"ok": True, "changed": 1, "unknown": []}
    with django_capture_on_commit_callbacks(execute=True):
        again = _report(client, report)
    assert again.json()["changed"] == 0

    [sms] = provider.sent(SMS_PATH)
    assert sms["to"] == fan.phone
    assert sms["reference"] == message.token
    assert "Double points today" in sms["text"]
    assert "Opt out: http" in sms["text"]
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.fallback_channel == Channel.SMS  # the log: delivered by SMS
    assert message.provider_status == "Undelivered"
    assert message.provider_id == viber_id  # a later report still finds it
    assert len(provider.sent(SEND_PATH)) == 1
    # Counted once against the cap (1 here): the fallback went out, and the
    # next marketing message is over the cap.
    later = _viber(fan, key="later")
    message_deliver(message_id=later.pk)
    later.refresh_from_db()
    assert later.status == MessageStatus.SUPPRESSED
    # Its opt-out link, pressed in the SMS, stops both channels.
    link = sms["text"].rsplit("Opt out: ", 1)[1]
    assert client.post(link).status_code == 200
    fan.refresh_from_db()
    assert (fan.viber_consent, fan.sms_consent, fan.email_consent) == (
        False,
        False,
        True,
    )


def test_polled_statuses_record_delivery_and_send_the_sms_once(
    provider, store, django_capture_on_commit_callbacks
):
    _no_quiet_hours()
    fan = _fan(store)
    delivered, lost = _viber(fan, key="a"), _viber(fan, key="b")
    for message in (delivered, lost):
        message_deliver(message_id=message.pk, now=NOON)
        message.refresh_from_db()
    provider.statuses = {
        delivered.provider_id: "Delivered",
        lost.provider_id: "Undelivered",
    }
    later = NOON + dt.timedelta(hours=1)

    with django_capture_on_commit_callbacks(execute=True):
        assert viber_statuses_poll(now=later) == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert viber_statuses_poll(now=later) == 0

    # Both answered for good: the second poll asks about nothing.
    [asked] = provider.sent(STATUS_PATH)
    assert asked == {"messages": [delivered.provider_id, lost.provider_id]}
    [sms] = provider.sent(SMS_PATH)
    assert sms["reference"] == lost.token
    delivered.refresh_from_db()
    lost.refresh_from_db()
    assert (delivered.provider_status, delivered.fallback_channel) == ("Delivered", "")
    assert (lost.status, lost.fallback_channel) == (MessageStatus.SENT, "sms")
    # Too old to ask about: nothing is polled.
    waiting = _viber(fan, key="c")
    message_deliver(message_id=waiting.pk, now=NOON)
    waiting.refresh_from_db()
    assert viber_statuses_poll(now=NOON + dt.timedelta(days=3)) == 0
    assert len(provider.sent(STATUS_PATH)) == 1
    assert viber_statuses_poll(now=later) == 0  # no answer about it yet
    assert provider.sent(STATUS_PATH)[-1] == {"messages": [waiting.provider_id]}


def test_the_poll_runs_from_beat(settings):
    from celery import current_app

    entry = settings.CELERY_BEAT_SCHEDULE["viber-statuses-poll"]
    assert entry["task"] == "campaigns.tasks.viber_statuses_poll"
    assert entry["task"] in current_app.tasks


def test_not_delivered_without_sms_consent_fails(provider, store, client):
    fan = _fan(store, sms_consent=False)
    message = _viber(fan)
    message_deliver(message_id=message.pk, now=NOON)
    message.refresh_from_db()

    response = _report(client, {"message_id": message.provider_id, "status": "Expired"})

    assert response.json()["changed"] == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.error == (
        "Viber report: Expired; no SMS marketing consent for the fallback"
    )
    assert provider.sent(SMS_PATH) == []


def test_read_report_records_the_open(provider, store, client):
    message = _viber(_fan(store))
    message_deliver(message_id=message.pk, now=NOON)
    message.refresh_from_db()

    response = _report(
        client,
        {
            "response_result": [
                {"message_id": message.provider_id, "status": "Read"},
                {"message_id": "someone-else", "status": "Delivered"},
            ]
        },
    )

    assert response.json() == {"ok": True, "changed": 1, "unknown": ["someone-else"]}
    message.refresh_from_db()
    assert (message.provider_status, message.status) == ("Read", MessageStatus.SENT)
    assert message.opened_at is not None


def test_bad_secret_is_refused_and_changes_nothing(provider, store, client):
    message = _viber(_fan(store))
    message_deliver(message_id=message.pk, now=NOON)
    message.refresh_from_db()
    report = {"message_id": message.provider_id, "status": "Undelivered"}

    assert _report(client, report, token="wrong").status_code == 403
    assert (
        client.post(
            reverse("campaigns:viber_webhook"),
            data=json.dumps(report),
            content_type="application/json",
        ).status_code
        == 403
    )

    message.refresh_from_db()
    assert (message.status, message.fallback_channel, message.provider_status) == (
        MessageStatus.SENT,
        "",
        "",
    )
    assert provider.sent(SMS_PATH) == []


def test_bad_reports_name_the_field(provider, client):
    assert _report(client, {"status": "Read"}).json()["field"] == "message_id"
    assert _report(client, {"message_id": "x"}).json()["field"] == "status"
    missing = _report(client, {"message_id": "nobody", "status": "Read"})
    assert (missing.status_code, missing.json()["field"]) == (404, "message_id")


# --- configuration: the outbox under make run -------------------------------------------


def test_outbox_keeps_viber_messages_in_development(settings, store):
    settings.DEBUG = True
    settings.LOYALTY_VIBER_BACKEND = (
        "campaigns.messaging.backends.viber.OutboxViberBackend"
    )
    assert channel_available(Channel.VIBER)
    fan = _fan(store)
    message = _viber(fan, body="See https://zerno.example/menu")

    message_deliver(message_id=message.pk, now=NOON)

    entry = OutboxEntry.objects.get()
    assert (entry.channel, entry.to, entry.reference) == (
        Channel.VIBER,
        fan.phone,
        message.token,
    )
    assert entry.body.startswith("See https://zerno.example/menu\nOpt out: ")
    assert entry.headers["caption"] == "Open"
    assert "/c/" in entry.headers["action"]


def test_viber_is_offered_only_when_configured(settings, store):
    member = _fan(store, viber_consent=False, preferred_channel="")
    settings.DEBUG = False
    settings.LOYALTY_VIBER_BACKEND = (
        "campaigns.messaging.backends.viber.OutboxViberBackend"
    )
    assert "viber" not in PreferencesForm(member=member).fields
    settings.LOYALTY_VIBER_BACKEND = (
        "campaigns.messaging.backends.viber.TurboSmsViberBackend"
    )
    settings.VIBER_PROVIDER_TOKEN = "t"
    settings.VIBER_SENDER = ""
    assert not channel_available(Channel.VIBER)
    settings.VIBER_SENDER = "ZernoCoffee"
    assert "viber" in PreferencesForm(member=member).fields
    assert delivery_settings_get().quiet_start == dt.time(21, 0)


def test_member_chooses_viber_on_the_preferences_page(provider, client, customer):
    user, member = customer
    client.force_login(user)

    response = client.post(
        reverse("portal:preferences"),
        {"viber": "on", "sms": "on", "preferred_channel": "viber"},
    )
    assert response.status_code == 302
    client.post(reverse("portal:preferences"), {"sms": "on"})  # Viber withdrawn

    member.refresh_from_db()
    assert (member.viber_consent, member.sms_consent) == (False, True)
    assert member.viber_consent_source == ConsentSource.PORTAL
    assert [
        (e.channel, e.granted)
        for e in member.consent_events.filter(channel=Channel.VIBER).order_by("id")
    ] == [(Channel.VIBER, True), (Channel.VIBER, False)]
