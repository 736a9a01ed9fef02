"""Delivering messages: `message_deliver` (one message) and
`messages_deliver_many` (a campaign chunk's) decide at send time, under locks,
whether a marketing message may leave now (campaigns.messaging.rules), claim the
rest and hand each to the email or SMS backend once; what leaves is built here
(`email_build`, `sms_text`). The pipeline is drawn in
campaigns.messaging.services."""

from __future__ import annotations

import datetime as dt
import html
import logging
import re
import secrets
import smtplib
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.message import make_msgid
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from campaigns.locks import messages_queued_lock
from campaigns.messaging.backends import DeliveryError, channel_backend
from campaigns.messaging.backends.email import REFERENCE_HEADER
from campaigns.messaging.backends.sms import sms_backend_send
from campaigns.messaging.rules import marketing_verdict
from campaigns.messaging.services import delivery_settings_get
from campaigns.messaging.tracking import (
    LINK_RE,
    TRAILING,
    click_url,
    open_pixel_url,
    unsubscribe_url,
)
from campaigns.models import DeliverySettings, Message, MessageStatus
from members.emails import branded_email
from members.locks import members_lock
from members.models import Channel
from members.services import OTP_MESSAGE_KIND
from members.sms import sms_signed

log = logging.getLogger(__name__)

CAP_WINDOW = dt.timedelta(days=7)
RETRY_BASE = dt.timedelta(minutes=5)  # then 10, 20... minutes
# Messages that carry a secret (a one-time code): once handed over, the stored
# text keeps the words but not the digits, so the message log and the member's
# timeline in admin show that a code went out, never the code itself.
SECRET_KINDS = frozenset({OTP_MESSAGE_KIND})
SECRET_RE = re.compile(r"\d{4,}")


# Messages decided in one transaction and sent over one email connection. Small
# enough that the member locks are held briefly, large enough that the
# per-batch statements (about ten) cost little per message (each one handed
# over costs its own UPDATE to sent: what bounds a crash's loss to one).
DELIVER_BATCH = 200


@dataclass
class DeliveryResult:
    """What `messages_deliver_many` did. `handed_over` counts the messages given
    to their backend (claimed first), `failed` those of them the backend
    refused (queued again for a retry, or failed); `suppressed` and `delayed`
    the marketing messages that may not leave now. Messages already dealt with
    or not due yet are in none of them."""

    handed_over: int = 0
    suppressed: int = 0
    delayed: int = 0
    failed: int = 0


def message_deliver(
    *, message_id: int, now: dt.datetime | None = None
) -> Message | None:
    """Hand a queued message to its backend once; a sent message is left alone.

    The batch of one of `messages_deliver_many`, which says what it locks and
    decides. Returns the message when this call handed it to its backend
    (whatever the backend then said); None when there was nothing to hand over:
    already dealt with, not due yet, or just suppressed or delayed (the row says
    which).
    """
    handed = _batch_deliver([message_id], now=now or timezone.now(), result=None)
    return handed[0] if handed else None


def messages_deliver_many(
    *, message_ids: list[int], now: dt.datetime | None = None
) -> DeliveryResult:
    """Hand each queued message of `message_ids` to its backend once.

    The same rules as `message_deliver`, DELIVER_BATCH messages at a time. Per
    batch, in one durable transaction: locks the members of the marketing
    messages, then the messages still queued (each in pk order, so it never
    deadlocks with `message_deliver` or another batch); a message whose
    `send_after` is still ahead is left for `messages_requeue_due`. A marketing
    message without consent for its channel is suppressed; a marketing SMS in
    the member's quiet hours gets `send_after` = their end; a marketing email or
    SMS to a member who gave a preferred hour gets `send_after` = that hour's
    next start when it is not that hour now in their time zone; one over the
    frequency cap (messages sent or sending in the last 7 days, counted in one
    grouped query, plus those claimed earlier in the batch) is suppressed. The
    rest are claimed with one UPDATE (status sending, attempts + 1, the batch's
    random `claim` token) and committed before any backend is called, outside
    any lock, so a second worker never sends them again. Then they are handed
    over in pk order, and after each backend call one autocommit UPDATE turns
    that message sent (with the provider's id): if the worker dies, only the
    first message of its claim still sending may have left, and
    `messages_recover_interrupted` fails that one and queues the others again.
    Emails go over one backend connection per batch, each sent on its own; SMS
    through LOYALTY_SMS_BACKEND. A transient backend failure puts that message
    back in the queue with a delay until DeliverySettings.max_attempts; any
    other failure marks it failed; the others are unaffected.
    """
    result = DeliveryResult()
    ids = list(dict.fromkeys(message_ids))
    for start in range(0, len(ids), DELIVER_BATCH):
        # Each batch its own time: a chunk's last batch is claimed seconds
        # after its first, and sent_at should say so.
        _batch_deliver(
            ids[start : start + DELIVER_BATCH],
            now=now or timezone.now(),
            result=result,
        )
    return result


def _batch_deliver(
    message_ids: list[int], *, now: dt.datetime, result: DeliveryResult | None
) -> list[Message]:
    """Decide, claim and hand over one batch; the messages handed over."""
    heads = list(
        Message.objects.filter(pk__in=message_ids, status=MessageStatus.QUEUED)
        .order_by("pk")
        .values_list("pk", "member_id", "marketing")
    )
    if not heads:
        return []
    # Only these: a message queued again after this read (another worker's
    # failed send) has a member this batch did not lock.
    queued_ids = [pk for pk, _member_id, _marketing in heads]
    member_ids = sorted({member_id for _pk, member_id, marketing in heads if marketing})
    conf = delivery_settings_get()
    verdicts: list[Message] = []
    claimed: list[Message] = []
    # Durable: the claims must be committed before any backend is called, and
    # the members' locks must not outlive this block inside a caller's
    # transaction.
    with transaction.atomic(durable=True):
        members = {}
        if member_ids:
            members = {
                member.pk: member for member in members_lock(member_ids=member_ids)
            }
        messages = messages_queued_lock(message_ids=queued_ids)
        # The member rows are locked: two workers delivering messages to one
        # member count one after the other, and this batch counts its own
        # claims as it goes.
        sent = {}
        if members:
            sent = dict(
                Message.objects.filter(
                    member_id__in=list(members),
                    marketing=True,
                    # A claimed message counts: it is leaving (or, interrupted,
                    # may have left).
                    status__in=[MessageStatus.SENT, MessageStatus.SENDING],
                    sent_at__gt=now - CAP_WINDOW,
                )
                .values_list("member_id")
                .annotate(n=Count("pk"))
                .order_by()
            )
        for message in messages:
            if message.send_after and message.send_after > now:
                continue
            member = members.get(message.member_id) if message.marketing else None
            if member is not None:
                verdict = marketing_verdict(
                    message,
                    member,
                    now=now,
                    conf=conf,
                    sent=sent.get(member.pk, 0),
                )
                if verdict is not None:
                    status, reason, send_after = verdict
                    message.status = status
                    message.error = reason[:200]
                    message.send_after = send_after or message.send_after
                    verdicts.append(message)
                    if result is not None:
                        if status == MessageStatus.SUPPRESSED:
                            result.suppressed += 1
                        else:
                            result.delayed += 1
                    continue
                sent[member.pk] = sent.get(member.pk, 0) + 1
            claimed.append(message)
        if verdicts:
            Message.objects.bulk_update(verdicts, ["status", "error", "send_after"])
        if claimed:
            claim = secrets.token_hex(16)
            Message.objects.filter(pk__in=[m.pk for m in claimed]).update(
                status=MessageStatus.SENDING,
                sent_at=now,
                attempts=F("attempts") + 1,
                error="",
                claim=claim,
            )
            for message in claimed:
                # The row was locked: the database did the same sum.
                message.status = MessageStatus.SENDING
                message.sent_at = now
                message.attempts += 1
                message.error = ""
                message.claim = claim
    if not claimed:
        return []
    return _hand_over_all(claimed, now=now, conf=conf, result=result)


TRANSIENT = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    ConnectionError,
    TimeoutError,
)


def _failure_record(
    message: Message, exc: Exception, *, now: dt.datetime, conf: DeliverySettings
) -> bool:
    """Record a backend's failure for a message this batch is sending; False
    when the message is no longer this batch's (recovered meanwhile)."""
    reason = str(exc) or exc.__class__.__name__
    transient = (
        exc.transient if isinstance(exc, DeliveryError) else isinstance(exc, TRANSIENT)
    )
    log.warning(
        "message %s attempt %s failed: %s", message.pk, message.attempts, reason
    )
    ours = Message.objects.filter(
        pk=message.pk, status=MessageStatus.SENDING, claim=message.claim
    )
    if transient and message.attempts < conf.max_attempts:
        retry_at = now + RETRY_BASE * (2 ** (message.attempts - 1))
        changed = ours.update(
            status=MessageStatus.QUEUED,
            sent_at=None,
            send_after=retry_at,
            error=f"Attempt {message.attempts} failed: {reason}"[:200],
            claim="",
        )
        message.status, message.send_after = MessageStatus.QUEUED, retry_at
    else:
        changed = ours.update(
            status=MessageStatus.FAILED, failed_at=now, error=reason[:200]
        )
        message.status, message.failed_at = MessageStatus.FAILED, now
    message.error = reason[:200]
    return bool(changed)


# --- what leaves: the email and the SMS -----------------------------------------------


def email_build(message: Message) -> EmailMultiAlternatives:
    """The email of a message in the program's layout (members.emails): the
    text as written plus an HTML version whose links go through click
    tracking, with the open pixel; a marketing email also carries the
    unsubscribe link and the List-Unsubscribe headers (RFC 2369, and RFC 8058
    one-click)."""
    headers = {
        REFERENCE_HEADER: message.token,
        "Message-ID": make_msgid(idstring=message.token.replace("-", "")),
    }
    footer_text = ""
    footer_html = ""
    if message.marketing:
        link = unsubscribe_url(message.token)
        headers["List-Unsubscribe"] = f"<{link}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        footer_text = f"--\n{_unsubscribe_line(message)}\n{link}"
        footer_html = format_html(
            '<p style="font-size:12px;color:#666"><a href="{}">{}</a></p>',
            link,
            _unsubscribe_line(message),
        )
    return branded_email(
        subject=message.subject,
        text=message.body,
        to=[message.to],
        html=_html_body(message),
        footer_text=footer_text,
        footer_html=footer_html,
        headers=headers,
        language=message.language or settings.LANGUAGE_CODE,
    )


def _unsubscribe_line(message: Message) -> str:
    from django.utils import translation
    from django.utils.translation import gettext

    with translation.override(message.language or settings.LANGUAGE_CODE):
        return gettext("Unsubscribe from these emails")


def _html_body(message: Message) -> SafeString:
    """The message's text as HTML paragraphs, every part of it escaped, its
    links through click tracking, then the open pixel."""
    parts, last = [], 0
    body = message.body
    for index, match in enumerate(LINK_RE.finditer(body)):
        url = match.group(0)
        link = url.rstrip(TRAILING)
        parts.append(html.escape(body[last : match.start()]))
        parts.append(
            f'<a href="{html.escape(click_url(message.token, index))}">'
            f"{html.escape(link)}</a>"
        )
        parts.append(html.escape(url[len(link) :]))
        last = match.end()
    parts.append(html.escape(body[last:]))
    paragraphs = "".join(
        f"<p>{chunk.replace(chr(10), '<br>')}</p>"
        for chunk in "".join(parts).split("\n\n")
        if chunk.strip()
    )
    pixel = (
        f'<img src="{html.escape(open_pixel_url(message.token))}" width="1" '
        f'height="1" alt="">'
    )
    # Every piece above is escaped here (the text is the member's data).
    return mark_safe(paragraphs + pixel)  # noqa: S308


def sms_text(message: Message) -> str:
    """Opened with the program's short name (members.sms.sms_signed); a
    marketing SMS ends with its signed opt-out link."""
    body = sms_signed(message.body)
    if not message.marketing:
        return body
    from django.utils import translation
    from django.utils.translation import gettext

    with translation.override(message.language or settings.LANGUAGE_CODE):
        label = gettext("Opt out")
    return f"{body}\n{label}: {unsubscribe_url(message.token)}"


def _hand_over(message: Message, *, connection=None) -> str:
    """Give the message to its backend; the provider's id for it, or ""."""
    if message.channel == Channel.EMAIL:
        email = email_build(message)
        email.connection = connection
        email.send()
        return email.extra_headers["Message-ID"].strip("<>")
    return channel_backend(message.channel)(message)


def sms_hand_over(message: Message) -> str:
    """The SMS channel's backend (registered from CampaignsConfig.ready())."""
    return sms_backend_send(
        to=message.to, text=sms_text(message), reference=message.token
    )


def _hand_over_all(
    messages: list[Message],
    *,
    now: dt.datetime,
    conf: DeliverySettings,
    result: DeliveryResult | None,
) -> list[Message]:
    """Give one claim's messages (status sending) to their backends in pk
    order, the emails over one connection; the messages handed over.

    After each backend call, one autocommit UPDATE makes that message sent (or
    records its failure, for it only), so at any instant at most one message of
    the claim has left without saying so: if the process dies here, the first
    message of the claim still sending is the only one that may have left
    (`messages_recover_interrupted` relies on this). Each UPDATE is conditional
    on the claim: when it changes nothing, the sweep has taken the claim over
    (it failed this message and queued the rest again), and handing over the
    rest here would send them twice, so the batch stops. A database error
    stops it too, for the same reason: its exception goes up."""
    connection = None
    if any(m.channel == Channel.EMAIL for m in messages):
        connection = get_connection()
    opened = False
    handed = []
    try:
        for message in messages:
            handed.append(message)
            if result is not None:
                result.handed_over += 1
            try:
                if message.channel == Channel.EMAIL and not opened:
                    # Opened here, not before the loop: an SMTP server that
                    # refuses the connection fails each email on its own, as a
                    # send without a connection would.
                    connection.open()
                    opened = True
                provider_id = _hand_over(message, connection=connection)
            except Exception as exc:  # noqa: BLE001 - every backend failure is recorded
                if message.channel == Channel.EMAIL and opened:
                    # A broken session would fail every email after it: the
                    # next one opens a fresh connection.
                    _connection_close(connection)
                    opened = False
                if result is not None:
                    result.failed += 1
                if not _failure_record(message, exc, now=now, conf=conf):
                    break
                continue
            message.provider_id = (provider_id or "")[:100]
            fields = {"status": MessageStatus.SENT}
            if message.provider_id:
                fields["provider_id"] = message.provider_id
            if message.kind in SECRET_KINDS:
                # Handed over: the stored text keeps the words, not the code.
                message.body = SECRET_RE.sub("••••••", message.body)
                fields["body"] = message.body
            if not Message.objects.filter(
                pk=message.pk, status=MessageStatus.SENDING, claim=message.claim
            ).update(**fields):
                log.warning(
                    "message %s was recovered while its batch was sending it; "
                    "the rest of claim %s is left to the sweep",
                    message.pk,
                    message.claim,
                )
                break
            message.status = MessageStatus.SENT
    finally:
        if opened:
            _connection_close(connection)
    return handed


def _connection_close(connection) -> None:
    # The messages are sent (or their failure recorded): a server that answers
    # QUIT badly must not stop the rest of the batch or the provider ids.
    try:
        connection.close()
    except Exception:  # noqa: BLE001
        log.warning("closing the email connection failed", exc_info=True)
