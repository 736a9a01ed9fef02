"""Webhooks out: endpoints, the outbox and its delivery (docs/api.md, "Webhooks").

An event is a row written in the transaction of what it tells, with one
delivery row (the outbox) per active endpoint that asked for its type: a
rolled-back purchase leaves neither, a committed one leaves both even if the
process dies before anything is sent. On commit a Celery task is queued per
delivery; the periodic sweeper (webhook_deliveries_due_send, every
WEBHOOK_SWEEP_EVERY seconds) sends whatever is due that no worker holds, so a
task lost with its worker only delays a delivery.

Order: an endpoint gets a member's events in their `sequence` order. A
delivery is sent only when no earlier delivery of that member to that
endpoint is pending: event n+1 waits until n was delivered or given up.

Retries: a delivery that did not get a 2xx is tried again after
WEBHOOK_RETRY_FIRST seconds, then four times longer each time (at most six
hours apart), until WEBHOOK_RETRY_FOR seconds (24 hours) after it was queued;
then it is failed, and the member's next event goes. A resend from the admin
queues a delivery again, with a new 24 hours.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import importlib
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError

from members.audit import StaffActor, audited_delete, audited_save
from members.errors import InvalidInput
from members.locks import (
    webhook_deliveries_due_lock,
    webhook_delivery_lock,
    webhook_sequence_next,
)
from members.models import (
    DeliveryStatus,
    Member,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
)

logger = logging.getLogger(__name__)

TASK_NAME = "members.tasks.webhook_delivery_send"
SIGNATURE_HEADER = "Loyalty-Signature"
EXCERPT_CHARS = 500
MAX_RETRY_GAP = dt.timedelta(hours=6)


# --- Endpoints ------------------------------------------------------------------------


def webhook_secret_new() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def webhook_events_clean(events: Iterable[str]) -> list[str]:
    """The event types in their documented order; InvalidInput for an unknown one."""
    wanted = set(events)
    unknown = wanted - set(WebhookEventType.values)
    if unknown:
        raise InvalidInput(
            _("Unknown event type: %(types)s.") % {"types": ", ".join(sorted(unknown))},
            field="events",
        )
    if not wanted:
        raise InvalidInput(_("Choose at least one event."), field="events")
    return [value for value in WebhookEventType.values if value in wanted]


def webhook_endpoint_create(
    *,
    url: str,
    events: Iterable[str],
    description: str = "",
    active: bool = True,
    actor: StaffActor | None = None,
) -> WebhookEndpoint:
    """A new endpoint with a new signing secret (the caller shows it once),
    with the audit row of `actor`. Locks nothing; queues nothing."""
    endpoint = WebhookEndpoint(
        url=url,
        description=description,
        events=webhook_events_clean(events),
        active=active,
        secret=webhook_secret_new(),
    )
    return audited_save(obj=endpoint, actor=actor)


def webhook_endpoint_save(
    *, endpoint: WebhookEndpoint, actor: StaffActor | None = None
) -> WebhookEndpoint:
    """Save a changed endpoint (URL, events, description, active) with the
    audit row of `actor`; its secret stays. Events recorded from now on follow
    the new subscription; deliveries already queued still go."""
    endpoint.events = webhook_events_clean(endpoint.events)
    if not endpoint.secret:
        endpoint.secret = webhook_secret_new()
    return audited_save(obj=endpoint, actor=actor)


def webhook_endpoint_secret_rotate(
    *, endpoint: WebhookEndpoint, actor: StaffActor | None = None
) -> str:
    """A new signing secret for the endpoint, returned to be shown once; every
    delivery from now on is signed with it. Audited as a change of `secret`."""
    endpoint.secret = webhook_secret_new()
    audited_save(obj=endpoint, actor=actor, clean=False)
    return endpoint.secret


def webhook_endpoint_delete(
    *, endpoint: WebhookEndpoint, actor: StaffActor | None = None
) -> None:
    """Delete an endpoint with its deliveries and their log (the events stay
    for the other endpoints), with the audit row of `actor`."""
    audited_delete(obj=endpoint, actor=actor)


# --- Recording ------------------------------------------------------------------------


def webhook_event_record(
    *, event: str, member: Member | int, payload: dict, at: dt.datetime | None = None
) -> WebhookEvent | None:
    """Record `event` about `member` for every active endpoint that asked for
    it, in the caller's transaction; None when no endpoint did.

    `payload` is the event's `data` (plain JSON). Locks the member's webhook
    sequence row last (members.locks), so call it after the caller's own
    locks. Queues members.tasks.webhook_delivery_send per delivery on commit.
    """
    if event not in WebhookEventType.values:
        raise ValueError(f"Unknown webhook event {event!r}")
    endpoint_ids = [
        pk
        for pk, events in WebhookEndpoint.objects.filter(active=True).values_list(
            "pk", "events"
        )
        if event in events
    ]
    if not endpoint_ids:
        return None
    member_id = member if isinstance(member, int) else member.pk
    now = timezone.now()
    row = WebhookEvent.objects.create(
        type=event,
        member_id=member_id,
        sequence=webhook_sequence_next(member_id=member_id),
        data=payload,
        created_at=at or now,
    )
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            endpoint_id=endpoint_id,
            event=row,
            member_id=member_id,
            sequence=row.sequence,
            next_attempt_at=now,
            give_up_at=now + _retry_for(),
            created_at=now,
        )
        for endpoint_id in endpoint_ids
    )
    ids = [delivery.pk for delivery in deliveries]
    transaction.on_commit(lambda: webhook_deliveries_queue(delivery_ids=ids))
    return row


def webhook_deliveries_queue(*, delivery_ids: Iterable[int]) -> None:
    """Queue members.tasks.webhook_delivery_send for each delivery, by name. A
    broker that is down loses nothing: the sweeper sends them later."""
    try:
        importlib.import_module(TASK_NAME.rpartition(".")[0])
        from celery import current_app

        task = current_app.tasks[TASK_NAME]
        for delivery_id in delivery_ids:
            task.delay(delivery_id)
    except (OperationalError, OSError):
        logger.exception("Could not queue %s; the sweeper will send", TASK_NAME)


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


def _retry_for() -> dt.timedelta:
    return dt.timedelta(seconds=settings.WEBHOOK_RETRY_FOR)


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
    endpoint = WebhookEndpoint.objects.get(pk=delivery.endpoint_id)
    started = timezone.now()
    if endpoint.active:
        event = WebhookEvent.objects.get(pk=delivery.event_id)
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
        row.give_up_at = now + _retry_for()
        row.claimed_until = None
        row.save(
            update_fields=["status", "next_attempt_at", "give_up_at", "claimed_until"]
        )
        transaction.on_commit(lambda: webhook_deliveries_queue(delivery_ids=[row.pk]))
    return row


# --- Events members records itself ------------------------------------------------------


def member_enrolled_event_record(*, member: Member) -> None:
    """member.enrolled, in the enrolment's transaction before the hooks of the
    apps above run, so it is first in the member's sequence (a welcome bonus's
    points.earned comes after it). The new member's sequence row is locked by
    nobody else."""
    webhook_event_record(
        event=WebhookEventType.MEMBER_ENROLLED,
        member=member,
        payload={
            "card_number": member.card_number,
            "language": member.language,
            "store_id": member.enrolled_store_id,
            "enrolled_at": member.enrolled_at.astimezone(dt.UTC)
            .isoformat()
            .replace("+00:00", "Z"),
        },
        at=member.enrolled_at,
    )
