"""Webhooks out: the body, its signature and the delivery of the outbox rows
members.services.webhooks writes (the order and retry rules are in that
module's docstring)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members.locks import webhook_deliveries_due_lock, webhook_delivery_lock
from members.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from members.services.webhooks import webhook_deliveries_queue, webhook_retry_window

SIGNATURE_HEADER = "Loyalty-Signature"
EXCERPT_CHARS = 500
MAX_RETRY_GAP = dt.timedelta(hours=6)


# --- The body and its signature --------------------------------------------------------


def webhook_body(event: WebhookEvent) -> bytes:
    """The JSON an endpoint receives for `event` (docs/api.md, "Webhooks")."""
    created = event.created_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return json.dumps(
        {
            "id": event.public_id,
            "type": event.type,
            "created": created,
            "member": event.member_id,
            "sequence": event.sequence,
            "data": event.data,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The Loyalty-Signature header: t=<unix time>,v1=<hex HMAC-SHA256 of
    "<t>.<body>" with the endpoint's secret> (Stripe's scheme)."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def webhook_signature_verify(
    *, secret: str, header: str, body: bytes, tolerance: int = 300, now=None
) -> bool:
    """What a receiver does (docs/api.md shows the same in a few lines)."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    expected = webhook_signature(secret=secret, timestamp=timestamp, body=body)
    return hmac.compare_digest(expected.split("v1=", 1)[1], parts.get("v1", ""))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer that is not 2xx: the body is not sent on."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _post(url: str, body: bytes, headers: dict) -> tuple[int | None, str, str]:
    """(status code or None, the start of the response, an error)."""
    request = urllib.request.Request(  # noqa: S310 - staff-registered http(s) URLs
        url, data=body, headers=headers, method="POST"
    )
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT) as response:
            return response.status, _excerpt(response), ""
    except urllib.error.HTTPError as exc:
        return exc.code, _excerpt(exc), ""
    except (OSError, ValueError) as exc:  # refused, timed out, bad URL, TLS
        return None, "", str(exc)[:300] or type(exc).__name__


def _excerpt(response) -> str:
    try:
        return response.read(EXCERPT_CHARS * 4).decode("utf-8", "replace")[
            :EXCERPT_CHARS
        ]
    except OSError:
        return ""


# --- Delivery -------------------------------------------------------------------------


def webhook_retry_delay(attempts: int) -> dt.timedelta:
    """How long after its `attempts`-th failed try a delivery is tried again."""
    first = dt.timedelta(seconds=settings.WEBHOOK_RETRY_FIRST)
    return min(first * 4 ** (attempts - 1), MAX_RETRY_GAP)


def _claim_hold() -> dt.timedelta:
    # Longer than one try can take; a worker that dies holding it lets go then.
    return dt.timedelta(seconds=settings.WEBHOOK_TIMEOUT + 60)


def _is_head(delivery: WebhookDelivery) -> bool:
    return not WebhookDelivery.objects.filter(
        endpoint_id=delivery.endpoint_id,
        member_id=delivery.member_id,
        sequence__lt=delivery.sequence,
        status=DeliveryStatus.PENDING,
    ).exists()


def webhook_delivery_send(*, delivery_id: int, now: dt.datetime | None = None) -> str:
    """Try one delivery now if it is pending, due, held by no other worker and
    first in its member's queue to its endpoint; returns its status afterwards
    ("" when it was not tried). Locks the delivery row briefly to claim it,
    sends outside any transaction, then records the attempt. Queues the
    member's next delivery to that endpoint on commit once this one is settled.
    Safe to run twice: the claim lets one of them send."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        delivery = webhook_delivery_lock(delivery_id=delivery_id, skip_locked=True)
        if (
            delivery is None
            or delivery.status != DeliveryStatus.PENDING
            or delivery.next_attempt_at is None
            or delivery.next_attempt_at > now
            or (delivery.claimed_until is not None and delivery.claimed_until > now)
            or not _is_head(delivery)
        ):
            return ""
        delivery.claimed_until = timezone.now() + _claim_hold()
        delivery.save(update_fields=["claimed_until"])
    return _send_claimed(delivery, now=now)


def webhook_deliveries_due_send(
    *, now: dt.datetime | None = None, batch: int = 100, budget: float = 200.0
) -> int:
    """The sweeper: the due deliveries no worker holds (first in their member's
    queue; rows locked elsewhere are skipped), each then claimed and sent as
    webhook_delivery_send does, for at most `budget` seconds. Finds what a
    dead worker or a lost task left, and the retries that came due. Returns
    how many it tried."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        due = [d.pk for d in webhook_deliveries_due_lock(now=now, batch=batch)]
    stop = time.monotonic() + budget
    tried = 0
    for delivery_id in due:
        if time.monotonic() > stop:
            break
        tried += bool(webhook_delivery_send(delivery_id=delivery_id, now=now))
    return tried


def _send_claimed(delivery: WebhookDelivery, *, now: dt.datetime) -> str:
    endpoint = WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).first()
    event = WebhookEvent.objects.filter(pk=delivery.event_id).first()
    if endpoint is None or event is None:
        return ""  # deleted meanwhile, with this delivery
    started = timezone.now()
    if endpoint.active:
        body = webhook_body(event)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Loyalty-Webhooks/1",
            "Loyalty-Event-Id": event.public_id,
            "Loyalty-Event-Type": event.type,
            SIGNATURE_HEADER: webhook_signature(
                secret=endpoint.secret, timestamp=int(time.time()), body=body
            ),
        }
        clock = time.monotonic()
        code, excerpt, error = _post(endpoint.url, body, headers)
        duration = int((time.monotonic() - clock) * 1000)
    else:
        code, excerpt, duration = None, "", 0
        error = _("The endpoint is switched off.")
    return _attempt_record(
        delivery_id=delivery.pk,
        started=started,
        code=code,
        excerpt=excerpt,
        error=error,
        duration=duration,
        give_up_now=not endpoint.active,
        now=now,
    )


def _attempt_record(
    *,
    delivery_id: int,
    started: dt.datetime,
    code: int | None,
    excerpt: str,
    error: str,
    duration: int,
    give_up_now: bool,
    now: dt.datetime,
) -> str:
    with transaction.atomic(durable=True):
        delivery = webhook_delivery_lock(delivery_id=delivery_id)
        if delivery is None:
            return ""
        delivery.attempts += 1
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempts,
            started_at=started,
            status_code=code,
            response_excerpt=excerpt,
            error=error,
            duration_ms=duration,
        )
        if delivery.status != DeliveryStatus.PENDING:
            # Settled by another worker after this one's hold ran out (or
            # resent and settled): the log keeps this try, the state stays.
            delivery.save(update_fields=["attempts"])
            return delivery.status
        delivery.last_status_code = code
        delivery.claimed_until = None
        if code is not None and 200 <= code < 300:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = timezone.now()
            delivery.next_attempt_at = None
        else:
            retry_at = now + webhook_retry_delay(delivery.attempts)
            if give_up_now or retry_at > delivery.give_up_at:
                delivery.status = DeliveryStatus.FAILED
                delivery.next_attempt_at = None
            else:
                delivery.next_attempt_at = retry_at
        delivery.save()
        if delivery.status != DeliveryStatus.PENDING:
            _next_queue(delivery)
        return delivery.status


def _next_queue(delivery: WebhookDelivery) -> None:
    """After commit, queue the member's next pending delivery to the endpoint.
    Looked up after the commit, not before: an event committed meanwhile
    either is seen here or sees this one settled when its own task runs."""
    endpoint_id, member_id = delivery.endpoint_id, delivery.member_id
    sequence = delivery.sequence

    def queue() -> None:
        following = (
            WebhookDelivery.objects.filter(
                endpoint_id=endpoint_id,
                member_id=member_id,
                status=DeliveryStatus.PENDING,
                sequence__gt=sequence,
            )
            .order_by("sequence")
            .values_list("pk", flat=True)
            .first()
        )
        if following is not None:
            webhook_deliveries_queue(delivery_ids=[following])

    transaction.on_commit(queue)


def webhook_delivery_resend(
    *, delivery: WebhookDelivery, now: dt.datetime | None = None
) -> WebhookDelivery:
    """Send a delivery again (delivered or failed ones too), retried for a new
    WEBHOOK_RETRY_FOR. It goes when no earlier event of its member to its
    endpoint is pending, and later ones wait for it. Locks the delivery;
    queues members.tasks.webhook_delivery_send on commit."""
    now = now or timezone.now()
    with transaction.atomic():
        row = webhook_delivery_lock(delivery_id=delivery.pk)
        row.status = DeliveryStatus.PENDING
        row.next_attempt_at = now
        row.give_up_at = now + webhook_retry_window()
        row.claimed_until = None
        row.save(
            update_fields=["status", "next_attempt_at", "give_up_at", "claimed_until"]
        )
        transaction.on_commit(lambda: webhook_deliveries_queue(delivery_ids=[row.pk]))
    return row
