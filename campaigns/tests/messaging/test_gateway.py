"""The HTTP SMS gateway backend against a real local HTTP server standing in for
the gateway: what it receives, and what its errors and silences do."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from campaigns.messaging.delivery import message_deliver
from campaigns.messaging.services import delivery_settings_get, message_send
from campaigns.models import MessageStatus
from members.models import Channel
from members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)  # 12:00 in Kyiv


class FakeGateway:
    """Records every request; answers `status` with `answer` after `delay` s."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.status = 200
        self.answer = {"id": "gw-1"}
        self.delay = 0.0
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                gateway.requests.append(
                    {
                        "path": self.path,
                        "auth": self.headers.get("Authorization"),
                        "type": self.headers.get("Content-Type"),
                        "json": json.loads(raw),
                    }
                )
                time.sleep(gateway.delay)
                body = json.dumps(gateway.answer).encode()
                try:
                    self.send_response(gateway.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def texts(self) -> list[tuple[str, str]]:
        return [(r["json"]["to"], r["json"]["text"]) for r in self.requests]


@pytest.fixture
def gateway(settings):
    fake = FakeGateway()
    settings.LOYALTY_SMS_BACKEND = (
        "campaigns.messaging.backends.sms.HttpGatewaySmsBackend"
    )
    settings.SMS_GATEWAY_URL = fake.url
    settings.SMS_GATEWAY_TOKEN = "gw-token"
    settings.SMS_GATEWAY_TIMEOUT = 0.5
    yield fake
    fake.close()


def _sms(member, key, body, marketing=True):
    return message_send(
        member=member,
        key=key,
        kind="campaign",
        subject="",
        body=body,
        channel=Channel.SMS,
        marketing=marketing,
    )


def test_gateway_receives_exactly_the_expected_messages(gateway, store):
    fan = MemberFactory(store=store, sms_consent=True)
    other = MemberFactory(store=store, sms_consent=True)
    refuser = MemberFactory(store=store, sms_consent=False)
    messages = [
        _sms(fan, "a", "Sale today"),
        _sms(other, "a", "Sale today"),
        _sms(refuser, "a", "Sale today"),  # no consent: never reaches the gateway
        _sms(fan, "code", "Your code is 1234", marketing=False),
    ]

    for message in messages + messages:  # each task delivered twice
        message_deliver(message_id=message.pk, now=NOON)

    assert [(to, text.split("\n")[0]) for to, text in gateway.texts] == [
        (fan.phone, "Sale today"),
        (other.phone, "Sale today"),
        (fan.phone, "Your code is 1234"),
    ]
    first = gateway.requests[0]
    assert first["path"] == "/v1/sms"
    assert first["auth"] == "Bearer gw-token"
    assert first["type"].startswith("application/json")
    assert first["json"]["reference"] == messages[0].token
    assert "Opt out: http://127.0.0.1:8000/u/" in first["json"]["text"]
    assert gateway.requests[2]["json"]["text"] == "Your code is 1234"
    messages[0].refresh_from_db()
    assert (messages[0].status, messages[0].provider_id) == (MessageStatus.SENT, "gw-1")


def test_gateway_500_is_recorded_as_failed_with_its_answer(gateway, store):
    conf = delivery_settings_get()
    conf.max_attempts = 2
    conf.save()
    gateway.status, gateway.answer = 500, {"error": "queue full"}
    member = MemberFactory(store=store)
    message = _sms(member, "otp", "Code 1", marketing=False)

    message_deliver(message_id=message.pk, now=NOON)
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED  # tried again later
    message_deliver(message_id=message.pk, now=message.send_after)

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.error == 'SMS gateway answered HTTP 500: {"error": "queue full"}'
    assert len(gateway.requests) == 2


def test_gateway_refusal_fails_at_once(gateway, store):
    gateway.status, gateway.answer = 422, {"error": "invalid number"}
    message = _sms(MemberFactory(store=store), "otp", "Code 1", marketing=False)

    message_deliver(message_id=message.pk, now=NOON)

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert "HTTP 422" in message.error and "invalid number" in message.error
    assert len(gateway.requests) == 1


def test_slow_gateway_times_out_and_is_retried(gateway, store):
    gateway.delay = 1.5  # the backend waits 0.5 s
    message = _sms(MemberFactory(store=store), "otp", "Code 1", marketing=False)

    started = time.monotonic()
    message_deliver(message_id=message.pk, now=NOON)

    assert time.monotonic() - started < 1.4
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert message.error == "Attempt 1 failed: SMS gateway did not answer within 0.5 s"


def test_unreachable_gateway_is_retried(settings, store):
    settings.LOYALTY_SMS_BACKEND = (
        "campaigns.messaging.backends.sms.HttpGatewaySmsBackend"
    )
    settings.SMS_GATEWAY_URL = "http://127.0.0.1:9/"  # discard port: nothing listens
    message = _sms(MemberFactory(store=store), "otp", "Code 1", marketing=False)

    message_deliver(message_id=message.pk, now=NOON)

    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert message.error.startswith("Attempt 1 failed: SMS gateway unreachable")
