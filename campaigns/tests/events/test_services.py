"""Events: sign-up, tier restriction, waitlist, cancel, reminders, cancellation
notices and check-in at the counter earning points once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone, translation

from campaigns.events.checkin import AUDIT_EVENT_CHECKIN, event_checkin
from campaigns.events.services import (
    content_page_save,
    event_cancel,
    event_reminders_send_due,
    event_rsvp,
    event_rsvp_cancel,
    event_save,
)
from campaigns.models import (
    ContentPage,
    Event,
    EventKind,
    EventRsvp,
    EventStatus,
    Message,
    RsvpStatus,
)
from members.audit import StaffActor
from members.errors import Conflict, InvalidInput, NotFound
from members.models import StaffAuditEvent
from members.tests.factories import MemberFactory
from rewards.models import LedgerEntry, PointsAccount
from rewards.selectors import ledger_invariant_violations
from rewards.tests.factories import TierFactory

pytestmark = pytest.mark.django_db


def make_event(store, *, starts_in=dt.timedelta(days=3), **fields) -> Event:
    """A published event through event_save (so remind_at is set)."""
    starts_at = fields.pop("starts_at", timezone.now() + starts_in)
    event = Event(
        kind=fields.pop("kind", EventKind.TASTING),
        title_uk=fields.pop("title_uk", "Дегустація сирів"),
        title_en=fields.pop("title_en", "Cheese tasting"),
        store=store,
        starts_at=starts_at,
        ends_at=fields.pop("ends_at", starts_at + dt.timedelta(hours=2)),
        capacity=fields.pop("capacity", 10),
        status=fields.pop("status", EventStatus.PUBLISHED),
        **fields,
    )
    return event_save(event=event)


def set_tier(member, tier) -> None:
    PointsAccount.objects.filter(member=member).update(tier=tier)


@pytest.fixture
def gold():
    return TierFactory(name="Gold", rank=3)


@pytest.fixture
def silver():
    return TierFactory(name="Silver", rank=2)


@pytest.fixture
def event(store):
    return make_event(store)


# --- sign-up ---------------------------------------------------------------------------


def test_rsvp_takes_a_place_and_counts_it(event, member):
    rsvp = event_rsvp(member=member, event_id=event.pk)

    assert rsvp.status == RsvpStatus.GOING
    event.refresh_from_db()
    assert event.going_count == 1
    assert event.places_left == 9


def test_rsvp_twice_keeps_one_place(event, member):
    first = event_rsvp(member=member, event_id=event.pk)
    again = event_rsvp(member=member, event_id=event.pk)

    assert again.pk == first.pk
    event.refresh_from_db()
    assert event.going_count == 1


def test_full_event_refuses_with_a_clear_message(store, member):
    event = make_event(store, capacity=1)
    event_rsvp(member=MemberFactory(store=store), event_id=event.pk)

    with pytest.raises(Conflict, match="“Cheese tasting” is full: no places are left."):
        event_rsvp(member=member, event_id=event.pk)
    assert not EventRsvp.objects.filter(member=member).exists()


def test_member_below_the_tier_is_refused(store, member, gold, silver):
    event = make_event(store, min_tier=gold)
    set_tier(member, silver)

    with pytest.raises(Conflict, match="“Cheese tasting” is for Gold members only."):
        event_rsvp(member=member, event_id=event.pk)
    event.refresh_from_db()
    assert event.going_count == 0


def test_member_without_a_tier_is_refused_a_tier_event(store, member, gold):
    event = make_event(store, min_tier=gold)

    with pytest.raises(Conflict, match="for Gold members only"):
        event_rsvp(member=member, event_id=event.pk)


def test_member_of_the_tier_or_higher_may_come(store, member, gold, silver):
    event = make_event(store, min_tier=silver)
    set_tier(member, gold)

    assert event_rsvp(member=member, event_id=event.pk).status == RsvpStatus.GOING


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (EventStatus.DRAFT, "is not open for sign-up"),
        (EventStatus.CANCELLED, "was cancelled"),
    ],
)
def test_unpublished_or_cancelled_event_refuses(store, member, status, message):
    event = make_event(store, status=EventStatus.DRAFT)
    if status == EventStatus.CANCELLED:
        event_cancel(event_id=event.pk)

    with pytest.raises(Conflict, match=message):
        event_rsvp(member=member, event_id=event.pk)


def test_signup_window_is_enforced(store, member):
    now = timezone.now()
    event = make_event(
        store,
        rsvp_opens_at=now + dt.timedelta(days=1),
        rsvp_closes_at=now + dt.timedelta(days=2),
    )
    with pytest.raises(Conflict, match="opens on"):
        event_rsvp(member=member, event_id=event.pk, now=now)
    with pytest.raises(Conflict, match="has closed"):
        event_rsvp(member=member, event_id=event.pk, now=now + dt.timedelta(days=2))
    rsvp = event_rsvp(
        member=member, event_id=event.pk, now=now + dt.timedelta(hours=30)
    )
    assert rsvp.status == RsvpStatus.GOING


def test_unknown_event_is_not_found(member):
    with pytest.raises(NotFound, match="There is no such event."):
        event_rsvp(member=member, event_id=999_999)


# --- cancel and waitlist ---------------------------------------------------------------


def test_cancel_frees_the_place(event, member):
    event_rsvp(member=member, event_id=event.pk)

    rsvp = event_rsvp_cancel(member=member, event_id=event.pk)

    assert rsvp.status == RsvpStatus.CANCELLED
    event.refresh_from_db()
    assert event.going_count == 0


def test_cancel_without_a_signup_is_refused(event, member):
    with pytest.raises(NotFound, match="You are not signed up for “Cheese tasting”."):
        event_rsvp_cancel(member=member, event_id=event.pk)


def test_cancel_touches_only_the_members_own_signup(event, member, store):
    other = MemberFactory(store=store)
    event_rsvp(member=other, event_id=event.pk)

    with pytest.raises(NotFound):
        event_rsvp_cancel(member=member, event_id=event.pk)
    assert EventRsvp.objects.get(member=other).status == RsvpStatus.GOING


def test_cancel_after_the_start_is_refused(event, member):
    event_rsvp(member=member, event_id=event.pk)

    with pytest.raises(Conflict, match="has started"):
        event_rsvp_cancel(
            member=member, event_id=event.pk, now=event.starts_at + dt.timedelta(1)
        )


def test_sign_up_again_after_cancelling(event, member):
    event_rsvp(member=member, event_id=event.pk)
    event_rsvp_cancel(member=member, event_id=event.pk)

    rsvp = event_rsvp(member=member, event_id=event.pk)

    assert rsvp.status == RsvpStatus.GOING
    assert EventRsvp.objects.filter(member=member).count() == 1
    event.refresh_from_db()
    assert event.going_count == 1


def test_waitlist_gets_the_freed_place_in_order_and_is_told(
    store, django_capture_on_commit_callbacks, sms_outbox
):
    event = make_event(store, capacity=1)
    first, second, third = (MemberFactory(store=store) for _ in range(3))
    event_rsvp(member=first, event_id=event.pk)
    now = timezone.now()
    assert (
        event_rsvp(member=second, event_id=event.pk, waitlist=True, now=now).status
        == RsvpStatus.WAITLIST
    )
    event_rsvp(
        member=third,
        event_id=event.pk,
        waitlist=True,
        now=now + dt.timedelta(seconds=1),
    )

    with django_capture_on_commit_callbacks(execute=True):
        event_rsvp_cancel(member=first, event_id=event.pk)

    statuses = dict(EventRsvp.objects.values_list("member_id", "status"))
    assert statuses == {
        first.pk: RsvpStatus.CANCELLED,
        second.pk: RsvpStatus.GOING,
        third.pk: RsvpStatus.WAITLIST,
    }
    event.refresh_from_db()
    assert event.going_count == 1
    told = Message.objects.get(member=second, kind="event-place")
    assert "you're going" in told.body
    assert not Message.objects.filter(member=third).exists()


def test_raising_the_places_lets_the_waitlist_in(store):
    event = make_event(store, capacity=1)
    going, waiting = MemberFactory(store=store), MemberFactory(store=store)
    event_rsvp(member=going, event_id=event.pk)
    event_rsvp(member=waiting, event_id=event.pk, waitlist=True)

    event.capacity = 2
    event_save(event=event)

    assert EventRsvp.objects.get(member=waiting).status == RsvpStatus.GOING
    event.refresh_from_db()
    assert event.going_count == 2


# --- staff edits -----------------------------------------------------------------------


def test_places_cannot_drop_below_those_going(event, store):
    for _ in range(3):
        event_rsvp(member=MemberFactory(store=store), event_id=event.pk)
    stale = Event.objects.get(pk=event.pk)
    stale.capacity = 2

    with pytest.raises(Conflict, match="3 members are going"):
        event_save(event=stale)


def test_event_must_end_after_it_starts(store):
    now = timezone.now()
    with pytest.raises(InvalidInput, match="must end after it starts"):
        make_event(store, starts_at=now, ends_at=now)


def test_published_event_with_signups_cannot_go_back_to_draft(event, member):
    event_rsvp(member=member, event_id=event.pk)
    event.status = EventStatus.DRAFT

    with pytest.raises(Conflict, match="cannot go back to draft"):
        event_save(event=event)


def test_reminder_time_follows_the_hours_before(store):
    event = make_event(store, reminder_hours=6)
    assert event.starts_at - event.remind_at == dt.timedelta(hours=6)
    default = make_event(store)
    assert default.starts_at - default.remind_at == dt.timedelta(hours=24)


def test_titles_fall_back_to_the_default_language(store):
    event = make_event(store, title_uk="Майстер-клас", title_en="", title_ro="Atelier")
    with translation.override("ro"):
        assert event.title == "Atelier"
    with translation.override("en"):
        assert event.title == "Майстер-клас"
    with translation.override("ru"):
        assert event.title == "Майстер-клас"


# --- reminders and cancellation --------------------------------------------------------


def test_reminders_go_once_to_everyone_going(
    store, django_capture_on_commit_callbacks, sms_outbox, django_assert_max_num_queries
):
    event = make_event(store, starts_in=dt.timedelta(hours=30), reminder_hours=24)
    going = [MemberFactory(store=store, email=None) for _ in range(3)]
    for m in going:
        event_rsvp(member=m, event_id=event.pk)
    left = MemberFactory(store=store, email=None)
    event_rsvp(member=left, event_id=event.pk)
    event_rsvp_cancel(member=left, event_id=event.pk)

    assert event_reminders_send_due() == 0  # 30 h ahead: not yet

    later = timezone.now() + dt.timedelta(hours=7)
    with django_capture_on_commit_callbacks(execute=True):
        assert event_reminders_send_due(now=later) == 1
        assert event_reminders_send_due(now=later) == 0

    messages = Message.objects.filter(key=f"event-reminder:{event.pk}")
    assert sorted(messages.values_list("member_id", flat=True)) == sorted(
        m.pk for m in going
    )
    assert len(sms_outbox) == 3
    assert (
        "Cheese tasting" in sms_outbox[0]["text"]
        or "Дегустація" in (sms_outbox[0]["text"])
    )
    event.refresh_from_db()
    assert event.reminders_sent_at == later


def test_reminders_read_the_attendees_in_one_query(
    store, django_assert_max_num_queries
):
    event = make_event(store, starts_in=dt.timedelta(hours=2))
    members = [MemberFactory(store=store) for _ in range(5)]
    for m in members:
        event_rsvp(member=m, event_id=event.pk)

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        event_reminders_send_due()
    rsvp_reads = [
        q["sql"]
        for q in queries.captured_queries
        if 'FROM "campaigns_eventrsvp"' in q["sql"]
    ]
    assert len(rsvp_reads) == 1
    assert Message.objects.filter(kind="event-reminder").count() == 5


def test_late_signup_after_the_reminders_gets_one_at_once(store, member):
    event = make_event(store, starts_in=dt.timedelta(hours=2))
    event_reminders_send_due()

    event_rsvp(member=member, event_id=event.pk)

    assert Message.objects.filter(
        member=member, key=f"event-reminder:{event.pk}"
    ).exists()


def test_reminder_is_in_the_members_language(store):
    event = make_event(store, starts_in=dt.timedelta(hours=2))
    member = MemberFactory(store=store, language="en")
    event_rsvp(member=member, event_id=event.pk)

    event_reminders_send_due()

    message = Message.objects.get(member=member)
    assert message.subject == "Reminder: Cheese tasting"


def test_cancelling_an_event_tells_attendees_once(
    store, django_capture_on_commit_callbacks
):
    event = make_event(store, capacity=2)
    going = [MemberFactory(store=store) for _ in range(2)]
    waiting = MemberFactory(store=store)
    gone = MemberFactory(store=store)
    for m in going:
        event_rsvp(member=m, event_id=event.pk)
    event_rsvp(member=waiting, event_id=event.pk, waitlist=True)
    event_rsvp_cancel(member=going[0], event_id=event.pk)  # waiting gets the place
    event_rsvp(member=gone, event_id=event.pk, waitlist=True)
    event_rsvp_cancel(member=gone, event_id=event.pk)

    with django_capture_on_commit_callbacks(execute=True):
        event_cancel(event_id=event.pk)
    with django_capture_on_commit_callbacks(execute=True):
        event_cancel(event_id=event.pk)

    told = Message.objects.filter(key=f"event-cancelled:{event.pk}")
    assert sorted(told.values_list("member_id", flat=True)) == sorted(
        [going[1].pk, waiting.pk]
    )
    event.refresh_from_db()
    assert event.status == EventStatus.CANCELLED
    assert event.cancelled_at is not None


def test_saving_an_event_as_cancelled_cancels_it_and_tells_members(
    event, member, django_capture_on_commit_callbacks
):
    event_rsvp(member=member, event_id=event.pk)
    event.status = EventStatus.CANCELLED

    with django_capture_on_commit_callbacks(execute=True):
        event_save(event=event)

    assert Message.objects.filter(
        member=member, key=f"event-cancelled:{event.pk}"
    ).exists()
    event.status = EventStatus.PUBLISHED
    with pytest.raises(Conflict, match="stays cancelled"):
        event_save(event=event)


# --- check-in --------------------------------------------------------------------------


@pytest.fixture
def today(store):
    return make_event(
        store, starts_in=dt.timedelta(minutes=30), capacity=3, checkin_points=50
    )


def _ledger_clean(member) -> int:
    account = PointsAccount.objects.get(member=member)
    total = LedgerEntry.objects.filter(account=account).aggregate(s=Sum("points"))["s"]
    assert account.balance == (total or 0)
    assert ledger_invariant_violations() == []
    return account.balance


def test_checkin_earns_the_events_points_once(today, member, cashier):
    event_rsvp(member=member, event_id=today.pk)
    before = _ledger_clean(member)
    actor = StaffActor(user=cashier, ip="10.0.0.1")

    first = event_checkin(event_id=today.pk, member=member, actor=actor)
    again = event_checkin(event_id=today.pk, member=member, actor=actor)

    assert not first.already and again.already
    assert first.entry.points == 50
    assert first.entry.idempotency_key == f"event-checkin:{today.pk}:{member.pk}"
    assert again.entry.pk == first.entry.pk
    assert _ledger_clean(member) == before + 50
    rsvp = EventRsvp.objects.get(member=member)
    assert rsvp.checked_in_at is not None and rsvp.checked_in_by == cashier
    audit = StaffAuditEvent.objects.get(action=AUDIT_EVENT_CHECKIN)
    assert audit.member_id == member.pk and audit.actor == cashier
    assert audit.details == {"event": today.pk, "points": 50, "walk_in": False}


def test_verify_ledger_is_clean_after_checkins(today, store, cashier):
    for _ in range(3):
        m = MemberFactory(store=store)
        event_rsvp(member=m, event_id=today.pk)
        event_checkin(event_id=today.pk, member=m, actor=StaffActor(user=cashier))
    call_command("verify_ledger")  # raises CommandError on any violation


def test_walk_in_takes_a_free_place(today, member, cashier):
    result = event_checkin(event_id=today.pk, member=member, actor=StaffActor(cashier))

    assert result.walk_in
    assert result.rsvp.status == RsvpStatus.GOING and result.rsvp.walk_in
    today.refresh_from_db()
    assert today.going_count == 1


def test_walk_in_refused_when_full(store, member, cashier):
    event = make_event(store, starts_in=dt.timedelta(minutes=30), capacity=1)
    event_rsvp(member=MemberFactory(store=store), event_id=event.pk)

    with pytest.raises(Conflict, match="no place is left for a walk-in"):
        event_checkin(event_id=event.pk, member=member, actor=StaffActor(cashier))
    assert not LedgerEntry.objects.filter(
        idempotency_key__startswith="event-checkin:"
    ).exists()


def test_walk_in_below_the_tier_refused(store, member, cashier, gold):
    event = make_event(store, starts_in=dt.timedelta(minutes=30), min_tier=gold)

    with pytest.raises(Conflict, match="for Gold members only"):
        event_checkin(event_id=event.pk, member=member, actor=StaffActor(cashier))


def test_checkin_only_on_the_day(event, member, cashier):
    event_rsvp(member=member, event_id=event.pk)  # three days ahead

    with pytest.raises(Conflict, match="on the day of the event only"):
        event_checkin(event_id=event.pk, member=member, actor=StaffActor(cashier))


def test_no_points_event_checks_in_without_a_ledger_entry(store, member, cashier):
    event = make_event(store, starts_in=dt.timedelta(minutes=10))
    result = event_checkin(event_id=event.pk, member=member, actor=StaffActor(cashier))

    assert result.entry is None
    assert not LedgerEntry.objects.filter(
        idempotency_key__startswith="event-checkin:"
    ).exists()
    assert result.rsvp.checked_in_at is not None


def test_checked_in_member_cannot_cancel(today, member, cashier):
    event_rsvp(member=member, event_id=today.pk)
    event_checkin(event_id=today.pk, member=member, actor=StaffActor(cashier))

    with pytest.raises(Conflict, match="already checked in"):
        event_rsvp_cancel(member=member, event_id=today.pk)


# --- members-only pages ----------------------------------------------------------------


def test_content_page_dates_must_be_in_order():
    now = timezone.now()
    page = ContentPage(
        slug="x",
        title_uk="Сторінка",
        body_uk="Текст",
        published_from=now,
        published_until=now - dt.timedelta(days=1),
    )
    with pytest.raises(InvalidInput, match="must be after"):
        content_page_save(page=page)


def test_reminder_task_is_scheduled_and_runs(settings, store, member):
    from campaigns.tasks import event_reminders_send_due as task

    entry = settings.CELERY_BEAT_SCHEDULE["event-reminders-every-15-minutes"]
    assert entry["task"] == task.name == "campaigns.tasks.event_reminders_send_due"
    event = make_event(store, starts_in=dt.timedelta(hours=3))
    event_rsvp(member=member, event_id=event.pk)

    assert task.delay().get() == 1
    assert task.delay().get() == 0
    assert Message.objects.filter(member=member, kind="event-reminder").count() == 1
