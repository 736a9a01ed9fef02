"""Pluggable SMS sending, in the manner of Django's email backends.

`SMS_BACKEND` names a class with `send(to, text)`. Development keeps messages in
files under var/sms; tests keep them in `members.sms.outbox`. The HTTP gateway
backend for production and the database Outbox of `make run` are in
campaigns.messaging.backends.sms (they take these backends' `send(to=, text=)` too).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from members.branding import branding_get

log = logging.getLogger(__name__)

outbox: list[dict] = []


class LocmemSmsBackend:
    """Keeps messages in `members.sms.outbox` (tests)."""

    def send(self, *, to: str, text: str) -> None:
        outbox.append({"to": to, "text": text})


class ConsoleSmsBackend:
    def send(self, *, to: str, text: str) -> None:
        log.info("SMS to %s: %s", to, text)


class FileSmsBackend:
    """Appends each message as a JSON line to var/sms/outbox.jsonl (make run)."""

    def send(self, *, to: str, text: str) -> None:
        folder = Path(settings.LOYALTY_SMS_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        line = json.dumps(
            {"at": timezone.now().isoformat(), "to": to, "text": text},
            ensure_ascii=False,
        )
        with open(folder / "outbox.jsonl", "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
        log.info("SMS to %s kept in %s", to, folder / "outbox.jsonl")


def sms_signed(text: str) -> str:
    """`text` opened with the program's short name ("Zerno: ..."), so the
    reader knows who writes: once the program is named in the admin
    (members.branding), and unless the text names it already. It adds the
    name and two characters to each message, which may take a long text into
    a second SMS part."""
    brand = branding_get()
    if not brand.program_name:
        return text
    name = brand.short_name
    if name.casefold() in text.casefold():
        return text
    return f"{name}: {text}"


def sms_send(*, to: str, text: str) -> None:
    import_string(settings.LOYALTY_SMS_BACKEND)().send(to=to, text=text)
