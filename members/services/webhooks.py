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
import importlib
import logging
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError

from members.audit import StaffActor, audited_delete, audited_save
from members.errors import InvalidInput
from members.invalidation import forget_now_and_on_commit
from members.locks import (
    webhook_sequence_next,
    webhook_sequences_lock,
)
from members.models import (
    Member,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
    WebhookSequence,
)

logger = logging.getLogger(__name__)

TASK_NAME = "members.tasks.webhook_delivery_send"


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
    audited_save(obj=endpoint, actor=actor)
    forget_now_and_on_commit(webhook_endpoints_forget)
    return endpoint


def webhook_endpoint_save(
    *, endpoint: WebhookEndpoint, actor: StaffActor | None = None
) -> WebhookEndpoint:
    """Save a changed endpoint (URL, events, description, active) with the
    audit row of `actor`; its secret stays. Events recorded from now on follow
    the new subscription; deliveries already queued still go."""
    endpoint.events = webhook_events_clean(endpoint.events)
    if not endpoint.secret:
        endpoint.secret = webhook_secret_new()
    audited_save(obj=endpoint, actor=actor)
    forget_now_and_on_commit(webhook_endpoints_forget)
    return endpoint


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
    forget_now_and_on_commit(webhook_endpoints_forget)


# --- Recording ------------------------------------------------------------------------


def webhook_retry_window() -> dt.timedelta:
    """How long after it is queued a delivery is retried (WEBHOOK_RETRY_FOR)."""
    return dt.timedelta(seconds=settings.WEBHOOK_RETRY_FOR)


# (monotonic time read, [(endpoint id, its events)]) of the active endpoints:
# a purchase costs no query for them while this process holds them
# (WEBHOOK_ENDPOINTS_HELD seconds).
_endpoints_held: tuple[float, list[tuple[int, list[str]]]] | None = None


def webhook_endpoints_forget() -> None:
    """Read the endpoints again at the next event (after a change here; other
    processes see it within WEBHOOK_ENDPOINTS_HELD seconds)."""
    global _endpoints_held
    _endpoints_held = None


def webhook_endpoints_hold(endpoints: list[tuple[int, list[str]]]) -> None:
    """Hold `endpoints` ((id, events) of the active ones) as read now: the
    tests start each with none, as their database has."""
    global _endpoints_held
    _endpoints_held = (time.monotonic(), list(endpoints))


def _endpoint_ids_for(event: str) -> list[int]:
    """The active endpoints that asked for `event`, read at most every
    WEBHOOK_ENDPOINTS_HELD seconds per process."""
    global _endpoints_held
    if event not in WebhookEventType:  # no list of labels built per event
        raise ValueError(f"Unknown webhook event {event!r}")
    held = _endpoints_held
    if held is None or time.monotonic() - held[0] > settings.WEBHOOK_ENDPOINTS_HELD:
        rows = list(
            WebhookEndpoint.objects.filter(active=True)
            .order_by("pk")
            .values_list("pk", "events")
        )
        held = _endpoints_held = (time.monotonic(), rows)
    return [pk for pk, events in held[1] if event in events]


def _deliveries_create(events: list[WebhookEvent], endpoint_ids: list[int]) -> None:
    """The outbox rows of `events`, queued on commit."""
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            endpoint_id=endpoint_id,
            event=row,
            member_id=row.member_id,
            sequence=row.sequence,
            next_attempt_at=now,
            give_up_at=now + webhook_retry_window(),
            created_at=now,
        )
        for row in events
        for endpoint_id in endpoint_ids
    )
    ids = [delivery.pk for delivery in deliveries]
    transaction.on_commit(lambda: webhook_deliveries_queue(delivery_ids=ids))


def webhook_event_record(
    *, event: str, member: Member | int, payload: dict, at: dt.datetime | None = None
) -> WebhookEvent | None:
    """Record `event` about `member` for every active endpoint that asked for
    it, in the caller's transaction; None when no endpoint did.

    `payload` is the event's `data` (plain JSON). Locks the member's webhook
    sequence row last (members.locks), so call it after the caller's own
    locks. Queues members.tasks.webhook_delivery_send per delivery on commit.
    """
    endpoint_ids = _endpoint_ids_for(event)
    if not endpoint_ids:
        return None
    member_id = member if isinstance(member, int) else member.pk
    row = WebhookEvent.objects.create(
        type=event,
        member_id=member_id,
        sequence=webhook_sequence_next(member_id=member_id),
        data=payload,
        created_at=at or timezone.now(),
    )
    _deliveries_create([row], endpoint_ids)
    return row


@dataclass(frozen=True)
class WebhookEventInput:
    """One event for webhook_events_record_many: what webhook_event_record takes."""

    type: str
    member_id: int
    data: dict
    at: dt.datetime


def webhook_events_record_many(*, events: list[WebhookEventInput]) -> None:
    """webhook_event_record for many events, in the caller's transaction, with a
    fixed number of statements: for members created in that transaction (bulk
    enrolment), whose sequence rows no other transaction can hold. Each member's
    events are numbered after its last one, in list order; events no active
    endpoint asked for are not recorded. Queues the deliveries on commit."""
    endpoints = {kind: _endpoint_ids_for(kind) for kind in {e.type for e in events}}
    wanted = [e for e in events if endpoints[e.type]]
    if not wanted:
        return
    sequences = webhook_sequences_lock(member_ids={e.member_id for e in wanted})
    held = set(sequences)
    rows = []
    for event in wanted:
        sequence = sequences.setdefault(
            event.member_id, WebhookSequence(member_id=event.member_id, last=0)
        )
        sequence.last += 1
        rows.append(
            WebhookEvent(
                type=event.type,
                member_id=event.member_id,
                sequence=sequence.last,
                data=event.data,
                created_at=event.at,
            )
        )
    WebhookSequence.objects.bulk_create(
        row for member_id, row in sequences.items() if member_id not in held
    )
    if held:
        WebhookSequence.objects.bulk_update(
            [sequences[member_id] for member_id in held], ["last"]
        )
    rows = WebhookEvent.objects.bulk_create(rows)
    for kind, endpoint_ids in endpoints.items():
        if endpoint_ids:
            _deliveries_create([r for r in rows if r.type == kind], endpoint_ids)


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


# --- Events members records itself ------------------------------------------------------


def _enrolled_data(member: Member) -> dict:
    enrolled = member.enrolled_at.astimezone(dt.UTC).isoformat()
    return {
        "card_number": member.card_number,
        "language": member.language,
        "store_id": member.enrolled_store_id,
        "enrolled_at": enrolled.replace("+00:00", "Z"),
    }


def member_enrolled_event_record(*, member: Member) -> None:
    """member.enrolled, in the enrolment's transaction before the hooks of the
    apps above run, so it is first in the member's sequence (a welcome bonus's
    points.earned comes after it). The new member's sequence row is locked by
    nobody else."""
    webhook_event_record(
        event=WebhookEventType.MEMBER_ENROLLED,
        member=member,
        payload=_enrolled_data(member),
        at=member.enrolled_at,
    )


def member_enrolled_events_record_many(*, members: list[Member]) -> None:
    """member.enrolled for members just inserted together (members_enroll_many),
    in its transaction before the hooks of the apps above run, as
    member_enrolled_event_record does for one member."""
    webhook_events_record_many(
        events=[
            WebhookEventInput(
                type=WebhookEventType.MEMBER_ENROLLED,
                member_id=member.pk,
                data=_enrolled_data(member),
                at=member.enrolled_at,
            )
            for member in members
        ]
    )
