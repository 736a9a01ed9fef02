"""SMS backends: the development outbox and a generic HTTP gateway.

A backend is a class with `send(*, to, text)`; the ones here also take
`reference` (the message's token, which the gateway echoes in its delivery
reports) and return the gateway's id for the SMS. `sms_backend_send` calls
whichever kind LOYALTY_SMS_BACKEND names, so members.sms's backends keep working.
"""

from __future__ import annotations

import inspect
import logging

from django.conf import settings
from django.utils.module_loading import import_string

from campaigns.messaging.backends import DeliveryError
from campaigns.messaging.backends.http import http_json_post
from members.models import Channel

log = logging.getLogger(__name__)


class OutboxSmsBackend:
    """Keeps each SMS as an OutboxEntry, shown with the emails on the Outbox page."""

    def send(self, *, to: str, text: str, reference: str = "") -> str:
        from campaigns.models import OutboxEntry

        entry = OutboxEntry.objects.create(
            channel=Channel.SMS, to=to, body=text, reference=reference[:100]
        )
        return f"outbox-{entry.pk}"


class HttpGatewaySmsBackend:
    """POSTs `{"to", "text", "reference"}` as JSON to SMS_GATEWAY_URL with
    `Authorization: Bearer SMS_GATEWAY_TOKEN`, waiting at most
    SMS_GATEWAY_TIMEOUT seconds. A 2xx answer is success (its JSON "id", if any,
    is the gateway's id); anything else raises DeliveryError carrying the
    gateway's status and answer. 5xx, 429, timeouts and refused connections are
    transient (tried again); other 4xx are not (campaigns.messaging.backends.http)."""

    def __init__(self) -> None:
        self.url = settings.SMS_GATEWAY_URL
        self.token = settings.SMS_GATEWAY_TOKEN
        self.timeout = settings.SMS_GATEWAY_TIMEOUT

    def send(self, *, to: str, text: str, reference: str = "") -> str:
        if not self.url:
            raise DeliveryError("SMS_GATEWAY_URL is not set", transient=False)
        data = http_json_post(
            url=self.url,
            payload={"to": to, "text": text, "reference": reference},
            token=self.token,
            timeout=self.timeout,
            name="SMS gateway",
        )
        return str(data.get("id", "") if isinstance(data, dict) else "")[:100]


def sms_backend_send(*, to: str, text: str, reference: str = "") -> str:
    """Send through LOYALTY_SMS_BACKEND; returns the gateway's id ("" if none)."""
    backend = import_string(settings.LOYALTY_SMS_BACKEND)()
    if "reference" in inspect.signature(backend.send).parameters:
        return backend.send(to=to, text=text, reference=reference) or ""
    backend.send(to=to, text=text)
    return ""
