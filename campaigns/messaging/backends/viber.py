"""Viber business messages: the development outbox and the TurboSMS adapter.

A Viber backend is a class with `send(*, to, text, button_url="",
button_caption="", reference="") -> provider id`. `viber_backend_send` calls
whichever LOYALTY_VIBER_BACKEND names; campaigns.messaging.viber builds the
text and the button of a Message and handles the SMS fallback.

TurboSMS (turbosms.ua, Ukraine), HTTP API, one request per message
(https://turbosms.ua/en/api.html, method `message/send.json`):

    POST VIBER_PROVIDER_URL              (https://api.turbosms.ua/message/send.json)
    Authorization: Bearer VIBER_PROVIDER_TOKEN
    Content-Type: application/json; charset=utf-8

    {"recipients": ["380501234567"],            digits only, no "+"
     "viber": {"sender": VIBER_SENDER,          the approved Viber sender name
               "text": "Double points ...",
               "caption": "Open",               only when the text has a link:
               "action": "https://.../c/..."}}  the button, our tracked click link

The provider answers HTTP 200 to every well-formed request, success or not:

    {"response_code": 800, "response_status": "SUCCESS_MESSAGE_ACCEPTED",
     "response_result": [{"phone": "380501234567", "response_code": 0,
                          "message_id": "f83f8868-5e46-...", "response_status": "OK"}]}

800-803 (accepted / sent, wholly or partly) with the recipient's own
response_code 0 and a message_id is success: that id is kept on the Message
(`provider_id`) and names it in the delivery reports (views.viber_webhook).
Any other code is a refusal: the provider's 5xx codes (503 FAILED_SMS_SEND, 504
FAILED_VIBER_SEND, 999 FATAL_ERROR) and 203 REQUIRED_BALANCE (top the account
up and the retry goes out) are transient, the rest (bad token 103/105/301,
sender not approved 400/401, bad number 305, stop list 404, ...) fail the
message at once. Timeouts, refused connections, HTTP 5xx and 429 are transient
(campaigns.messaging.backends.http, shared with the SMS gateway).

No `sms` part is sent: TurboSMS's own hybrid mode would send the SMS without
our opt-out link, consent check, quiet hours or message log. The SMS fallback
is ours, on the provider's "not delivered" report (campaigns.messaging.viber).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.utils.module_loading import import_string

from campaigns.messaging.backends import DeliveryError
from campaigns.messaging.backends.http import http_json_post
from members.models import Channel

ACCEPTED = frozenset({0, 800, 801, 802, 803})
# Refusals worth trying again: the provider's own failures, and an empty balance.
TRANSIENT_CODES = frozenset({203, 500, 501, 502, 503, 504, 505, 999})
CAPTION_LIMIT = 30  # TurboSMS 408 NOT_ALLOWED_MESSAGE_BUTTON_TEXT_LENGTH


def viber_recipient(phone: str) -> str:
    """A phone as TurboSMS takes it: the international number's digits."""
    return re.sub(r"\D", "", phone or "")


class OutboxViberBackend:
    """Keeps each Viber message as an OutboxEntry (channel viber) on the Outbox
    page, with the button the provider would show (`make run`)."""

    def send(
        self,
        *,
        to: str,
        text: str,
        button_url: str = "",
        button_caption: str = "",
        reference: str = "",
    ) -> str:
        from campaigns.models import OutboxEntry

        headers = {"sender": settings.VIBER_SENDER or "(VIBER_SENDER)"}
        if button_url:
            headers |= {"caption": button_caption, "action": button_url}
        entry = OutboxEntry.objects.create(
            channel=Channel.VIBER,
            to=to,
            body=text,
            headers=headers,
            reference=reference[:100],
        )
        return f"outbox-{entry.pk}"


class TurboSmsViberBackend:
    """The TurboSMS `message/send.json` adapter described in the module's
    docstring: one Viber message, its id, or DeliveryError."""

    def __init__(self) -> None:
        self.url = settings.VIBER_PROVIDER_URL
        self.token = settings.VIBER_PROVIDER_TOKEN
        self.sender = settings.VIBER_SENDER
        self.timeout = settings.VIBER_PROVIDER_TIMEOUT

    def send(
        self,
        *,
        to: str,
        text: str,
        button_url: str = "",
        button_caption: str = "",
        reference: str = "",
    ) -> str:
        if not (self.url and self.token and self.sender):
            raise DeliveryError(
                "VIBER_PROVIDER_URL, VIBER_PROVIDER_TOKEN and VIBER_SENDER must be set",
                transient=False,
            )
        viber = {"sender": self.sender, "text": text}
        if button_url:
            viber |= {"caption": button_caption[:CAPTION_LIMIT], "action": button_url}
        data = http_json_post(
            url=self.url,
            payload={"recipients": [viber_recipient(to)], "viber": viber},
            token=self.token,
            timeout=self.timeout,
            name="Viber provider",
        )
        return _message_id(data)

    def statuses(self, message_ids: list[str]) -> list[dict]:
        """The provider's record of each message (`message/status.json`, beside
        VIBER_PROVIDER_URL): POST `{"messages": [message_id, ...]}`, answered
        `{"response_code": 0, "response_result": [{"message_id": ...,
        "response_code": 0, "status": "Delivered", "type": "viber", ...}]}`.
        The records with a status; DeliveryError as for a send."""
        data = http_json_post(
            url=self.url.rsplit("/", 1)[0] + "/status.json",
            payload={"messages": list(message_ids)},
            token=self.token,
            timeout=self.timeout,
            name="Viber provider",
        )
        rows = data.get("response_result") if isinstance(data, dict) else None
        return [
            row
            for row in rows or []
            if isinstance(row, dict)
            and row.get("message_id")
            and isinstance(row.get("status"), str)
        ]


def _message_id(data) -> str:
    """The recipient's message_id in a send answer, or DeliveryError."""
    if not isinstance(data, dict) or "response_code" not in data:
        raise DeliveryError(
            f"Viber provider answered without a response code: {str(data)[:120]}",
            transient=True,
        )
    code, status = _code(data), str(data.get("response_status", ""))
    rows = data.get("response_result")
    row = rows[0] if isinstance(rows, list) and rows else None
    if code in ACCEPTED and isinstance(row, dict):
        row_code = _code(row)
        if row_code == 0 and row.get("message_id"):
            return str(row["message_id"])[:100]
        code, status = row_code, str(row.get("response_status", ""))
    elif code in ACCEPTED:
        code, status = -1, "no message_id in the answer"
    raise DeliveryError(
        f"Viber provider refused it: {code} {status}"[:200],
        transient=code in TRANSIENT_CODES or code == -1,
    )


def _code(data: dict) -> int:
    try:
        return int(data.get("response_code"))
    except (TypeError, ValueError):
        return -1


def viber_backend() -> object:
    return import_string(settings.LOYALTY_VIBER_BACKEND)()


def viber_configured() -> bool:
    """Whether the Viber provider is configured (the Outbox's rule is
    members.messages.channel_available's)."""
    backend = settings.LOYALTY_VIBER_BACKEND
    if backend.endswith(".TurboSmsViberBackend"):
        return bool(
            settings.VIBER_PROVIDER_URL
            and settings.VIBER_PROVIDER_TOKEN
            and settings.VIBER_SENDER
        )
    return True  # a backend of the installation's own: it knows


def viber_backend_send(
    *,
    to: str,
    text: str,
    button_url: str = "",
    button_caption: str = "",
    reference: str = "",
) -> str:
    """Send through LOYALTY_VIBER_BACKEND; the provider's id ("" if none)."""
    return (
        viber_backend().send(
            to=to,
            text=text,
            button_url=button_url,
            button_caption=button_caption,
            reference=reference,
        )
        or ""
    )
