"""Concurrent sign-ups and check-ins: the event's row lock keeps the places exact.

PostgreSQL only (row locks); threads start together on a barrier, each on its
own connection, as gunicorn workers would.
"""

from __future__ import annotations

import datetime as dt

import pytest

from campaigns.events.checkin import event_checkin
from campaigns.events.services import event_rsvp
from campaigns.models import Event, EventRsvp, RsvpStatus
from campaigns.tests.events.test_services import make_event
from members.audit import StaffActor
from members.errors import Conflict
from members.tests.factories import MemberFactory, StoreFactory, UserFactory
from rewards.models import LedgerEntry
from rewards.tests.ledger.test_races import THREADS, assert_ledger_exact, run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MEMBERS, PLACES = 30, 10


@pytest.fixture
def store(db):
    return StoreFactory(code="race", name="Race Street")


def test_30_members_racing_for_10_places_get_exactly_10(store):
    members = [MemberFactory(store=store) for _ in range(MEMBERS)]
    event = make_event(store, capacity=PLACES)

    results = run_together(
        MEMBERS, lambda i: event_rsvp(member=members[i], event_id=event.pk)
    )

    ok = [r for r in results if isinstance(r, EventRsvp)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(ok) == PLACES, results
    assert len(refused) == MEMBERS - PLACES, results
    assert {r.message for r in refused} == {
        "“Cheese tasting” is full: no places are left."
    }
    event = Event.objects.get(pk=event.pk)
    assert event.going_count == PLACES
    assert EventRsvp.objects.filter(event=event, status=RsvpStatus.GOING).count() == (
        PLACES
    )


def test_racing_for_the_waitlist_keeps_the_places_and_the_order(store):
    members = [MemberFactory(store=store) for _ in range(MEMBERS)]
    event = make_event(store, capacity=PLACES)

    results = run_together(
        MEMBERS,
        lambda i: event_rsvp(member=members[i], event_id=event.pk, waitlist=True),
    )

    assert all(isinstance(r, EventRsvp) for r in results), results
    statuses = [r.status for r in results]
    assert statuses.count(RsvpStatus.GOING) == PLACES
    assert statuses.count(RsvpStatus.WAITLIST) == MEMBERS - PLACES
    assert Event.objects.get(pk=event.pk).going_count == PLACES


def test_one_member_checked_in_at_two_tills_at_once_earns_once(store):
    member = MemberFactory(store=store)
    cashier = UserFactory(username="race-cashier", is_staff=True)
    event = make_event(
        store, starts_in=dt.timedelta(minutes=5), capacity=5, checkin_points=30
    )
    event_rsvp(member=member, event_id=event.pk)

    results = run_together(
        THREADS,
        lambda i: event_checkin(
            event_id=event.pk, member=member, actor=StaffActor(user=cashier)
        ),
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(1 for r in results if not r.already) == 1
    assert (
        LedgerEntry.objects.filter(
            idempotency_key=f"event-checkin:{event.pk}:{member.pk}"
        ).count()
        == 1
    )
    assert assert_ledger_exact(member) == 30


def test_walk_ins_racing_for_the_last_places_never_overfill(store):
    cashier = UserFactory(username="race-cashier", is_staff=True)
    event = make_event(store, starts_in=dt.timedelta(minutes=5), capacity=3)
    walk_ins = [MemberFactory(store=store) for _ in range(THREADS)]

    results = run_together(
        THREADS,
        lambda i: event_checkin(
            event_id=event.pk, member=walk_ins[i], actor=StaffActor(user=cashier)
        ),
    )

    assert sum(1 for r in results if not isinstance(r, Exception)) == 3, results
    assert Event.objects.get(pk=event.pk).going_count == 3
