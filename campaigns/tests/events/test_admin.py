"""Admin pages of events, sign-ups and members-only pages; the attendee list and
check-in at the counter; who may use them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.events.services import event_rsvp
from campaigns.models import ContentPage, Event, EventRsvp, EventStatus, Message
from campaigns.tests.events.test_services import make_event
from campaigns.tests.events.test_views import make_page
from members.tests.factories import MemberFactory
from rewards.models import LedgerEntry, PointsAccount

pytestmark = pytest.mark.django_db


@pytest.fixture
def su_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _url(model: str, view: str, *args) -> str:
    return reverse(f"admin:campaigns_{model}_{view}", args=args)


def _local(moment: dt.datetime) -> tuple[str, str]:
    local = timezone.localtime(moment)
    return local.strftime("%Y-%m-%d"), local.strftime("%H:%M:%S")


def _event_form(store, **extra) -> dict:
    start = timezone.now() + dt.timedelta(days=5)
    d0, t0 = _local(start)
    d1, t1 = _local(start + dt.timedelta(hours=2))
    return {
        "kind": "workshop",
        "status": "published",
        "store": store.pk,
        "starts_at_0": d0,
        "starts_at_1": t0,
        "ends_at_0": d1,
        "ends_at_1": t1,
        "title_uk": "Майстер-клас з кави",
        "title_ru": "",
        "title_ro": "",
        "title_en": "Coffee workshop",
        "description_uk": "",
        "description_ru": "",
        "description_ro": "",
        "description_en": "",
        "capacity": "12",
        "min_tier": "",
        "rsvp_opens_at_0": "",
        "rsvp_opens_at_1": "",
        "rsvp_closes_at_0": "",
        "rsvp_closes_at_1": "",
        "checkin_points": "20",
        "reminder_hours": "24",
        **extra,
    }


# --- smoke tests -----------------------------------------------------------------------


def test_event_changelist_and_search(su_client, store):
    make_event(store, title_uk="Дегустація вин", title_en="Wine tasting")
    make_event(store, title_uk="Презентація", title_en="Launch")

    response = su_client.get(_url("event", "changelist"))
    assert response.status_code == 200
    # Titles are listed in the admin's language (English here) ...
    assert "Wine tasting" in response.content.decode()
    # ... and found by their text in any language.
    for query in ("Wine", "Дегустація"):
        found = su_client.get(_url("event", "changelist"), {"q": query})
        assert found.status_code == 200
        assert "Wine tasting" in found.content.decode()
        assert "Launch" not in found.content.decode()


def test_event_add_goes_through_the_service(su_client, store):
    response = su_client.get(_url("event", "add"))
    assert response.status_code == 200

    response = su_client.post(_url("event", "add"), _event_form(store))

    assert response.status_code == 302, response.context["adminform"].form.errors
    event = Event.objects.get()
    assert event.title_en == "Coffee workshop"
    assert event.starts_at - event.remind_at == dt.timedelta(hours=24)


def test_event_add_refuses_an_end_before_the_start(su_client, store):
    start = timezone.now() + dt.timedelta(days=5)
    d1, t1 = _local(start - dt.timedelta(hours=1))
    response = su_client.post(
        _url("event", "add"), _event_form(store, ends_at_0=d1, ends_at_1=t1)
    )
    assert response.status_code == 200
    assert "The event must end after it starts." in response.content.decode()
    assert not Event.objects.exists()


def test_event_change_refuses_fewer_places_than_going(su_client, store):
    event = make_event(store, capacity=3)
    for _ in range(2):
        event_rsvp(member=MemberFactory(store=store), event_id=event.pk)
    assert su_client.get(_url("event", "change", event.pk)).status_code == 200

    response = su_client.post(
        _url("event", "change", event.pk),
        _event_form(
            store,
            capacity="1",
            starts_at_0=_local(event.starts_at)[0],
            starts_at_1=_local(event.starts_at)[1],
            ends_at_0=_local(event.ends_at)[0],
            ends_at_1=_local(event.ends_at)[1],
        ),
        follow=True,
    )

    assert "2 members are going" in response.content.decode()
    event.refresh_from_db()
    assert event.capacity == 3


def test_cancel_action_cancels_and_tells_members(
    su_client, store, member, django_capture_on_commit_callbacks
):
    event = make_event(store)
    event_rsvp(member=member, event_id=event.pk)

    with django_capture_on_commit_callbacks(execute=True):
        response = su_client.post(
            _url("event", "changelist"),
            {"action": "cancel_selected", "_selected_action": [event.pk]},
            follow=True,
        )

    assert "1 event cancelled" in response.content.decode()
    event.refresh_from_db()
    assert event.status == EventStatus.CANCELLED
    assert Message.objects.filter(member=member, kind="event-cancelled").count() == 1


def test_publish_action(su_client, store):
    event = make_event(store, status=EventStatus.DRAFT)
    su_client.post(
        _url("event", "changelist"),
        {"action": "publish_selected", "_selected_action": [event.pk]},
    )
    event.refresh_from_db()
    assert event.status == EventStatus.PUBLISHED


def test_rsvp_changelist_and_search(su_client, store, member):
    event = make_event(store)
    event_rsvp(member=member, event_id=event.pk)

    assert su_client.get(_url("eventrsvp", "changelist")).status_code == 200
    found = su_client.get(_url("eventrsvp", "changelist"), {"q": member.card_number})
    assert found.status_code == 200
    assert found.context["cl"].result_count == 1
    rsvp = EventRsvp.objects.get()
    assert su_client.get(_url("eventrsvp", "change", rsvp.pk)).status_code == 200
    assert su_client.get(_url("eventrsvp", "add")).status_code == 403


def test_content_page_changelist_search_add_change(su_client):
    page = make_page("vip", title_uk="Закрита пропозиція")
    assert su_client.get(_url("contentpage", "changelist")).status_code == 200
    found = su_client.get(_url("contentpage", "changelist"), {"q": "Закрита"})
    assert found.context["cl"].result_count == 1
    assert su_client.get(_url("contentpage", "add")).status_code == 200
    assert su_client.get(_url("contentpage", "change", page.pk)).status_code == 200

    d0, t0 = _local(timezone.now())
    response = su_client.post(
        _url("contentpage", "add"),
        {
            "kind": "offer",
            "slug": "spring-offer",
            "min_tier": "",
            "published_from_0": d0,
            "published_from_1": t0,
            "published_until_0": "",
            "published_until_1": "",
            "title_uk": "Весняна пропозиція",
            "title_ru": "",
            "title_ro": "",
            "title_en": "",
            "body_uk": "Текст",
            "body_ru": "",
            "body_ro": "",
            "body_en": "",
        },
    )
    assert response.status_code == 302
    assert ContentPage.objects.filter(slug="spring-offer").exists()


# --- attendee list and check-in --------------------------------------------------------


@pytest.fixture
def today(store):
    return make_event(
        store, starts_in=dt.timedelta(minutes=30), capacity=3, checkin_points=40
    )


def test_attendee_list_shows_counts_and_status(su_client, today, store):
    going = MemberFactory(store=store, last_name="Attendeenko")
    event_rsvp(member=going, event_id=today.pk)

    response = su_client.get(_url("event", "attendees", today.pk))

    content = response.content.decode()
    assert response.status_code == 200
    assert "Attendeenko" in content
    assert "Going: 1 of 3 places" in content
    assert "Checked in: 0" in content
    assert f'data-testid="checkin-{going.pk}"' in content


def test_cashier_checks_in_once_and_points_are_earned_once(
    client, cashier, today, store
):
    member = MemberFactory(store=store)
    event_rsvp(member=member, event_id=today.pk)
    client.force_login(cashier)
    url = _url("event", "checkin", today.pk)

    first = client.post(url, {"member": member.pk}, follow=True)
    second = client.post(url, {"member": member.pk}, follow=True)

    assert "is checked in. +40 points." in first.content.decode()
    assert "was already checked in." in second.content.decode()
    account = PointsAccount.objects.get(member=member)
    assert account.balance == sum(
        LedgerEntry.objects.filter(account=account).values_list("points", flat=True)
    )
    assert (
        LedgerEntry.objects.filter(
            idempotency_key=f"event-checkin:{today.pk}:{member.pk}"
        ).count()
        == 1
    )
    assert "Checked in: 1" in second.content.decode()


def test_cashier_finds_a_walk_in_by_phone_and_checks_them_in(
    client, cashier, today, store
):
    walk_in = MemberFactory(store=store)
    client.force_login(cashier)

    found = client.get(_url("event", "attendees", today.pk), {"q": walk_in.phone})
    assert f'data-testid="checkin-found-{walk_in.pk}"' in found.content.decode()
    assert "Not signed up (walk-in)" in found.content.decode()

    response = client.post(
        _url("event", "checkin", today.pk), {"member": walk_in.pk}, follow=True
    )

    assert "Let in as a walk-in." in response.content.decode()
    assert EventRsvp.objects.get(member=walk_in).walk_in


def test_checkin_refusal_is_shown_not_a_500(client, cashier, store):
    event = make_event(store)  # three days ahead
    member = MemberFactory(store=store)
    client.force_login(cashier)

    response = client.post(
        _url("event", "checkin", event.pk), {"member": member.pk}, follow=True
    )
    assert "on the day of the event only" in response.content.decode()
    bad = client.post(_url("event", "checkin", event.pk), {"member": "x"}, follow=True)
    assert "Choose a member." in bad.content.decode()


def test_marketer_without_the_counter_right_cannot_check_in(
    client, marketer, today, member
):
    client.force_login(marketer)
    assert client.get(_url("event", "attendees", today.pk)).status_code == 200
    response = client.post(_url("event", "checkin", today.pk), {"member": member.pk})
    assert response.status_code == 403
    assert not EventRsvp.objects.exists()


@pytest.mark.parametrize("role", ["manager", "marketer"])
def test_managers_and_marketers_write_events_and_pages(client, request, role, store):
    client.force_login(request.getfixturevalue(role))
    assert client.get(_url("event", "add")).status_code == 200
    assert client.get(_url("contentpage", "add")).status_code == 200


def test_cashier_sees_events_but_cannot_write_them(client, cashier, today):
    client.force_login(cashier)
    assert client.get(_url("event", "changelist")).status_code == 200
    assert client.get(_url("event", "add")).status_code == 403
    assert client.get(_url("contentpage", "changelist")).status_code == 403
