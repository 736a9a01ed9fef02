"""A customer signs up for an event and sees "You're going"; at the event a
cashier finds them in the attendee list and checks them in, which earns the
event's points once."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from campaigns.models import EventRsvp, RsvpStatus
from campaigns.tests.events.test_services import make_event
from members.tests.factories import MemberFactory, UserFactory
from rewards.models import LedgerEntry
from tests.browser._journey import admin_login, portal_login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_customer_rsvps_and_the_cashier_checks_them_in(page, live_server, cashier):
    store = cashier.store
    user = UserFactory(username="oksana@example.com")
    member = MemberFactory(
        store=store, user=user, email="oksana@example.com", first_name="Oksana"
    )
    event = make_event(
        store,
        title_en="Cheese tasting",
        starts_in=dt.timedelta(minutes=45),
        capacity=8,
        checkin_points=25,
    )
    csp: list[str] = []
    page.on(
        "console",
        lambda msg: (
            csp.append(msg.text) if "Content Security Policy" in msg.text else None
        ),
    )
    page.set_default_timeout(5_000)

    portal_login(
        page, live_server.url, "oksana@example.com", next_name="campaigns:events"
    )

    card = page.get_by_test_id(f"event-{event.pk}")
    expect(card.get_by_test_id("event-places")).to_have_text("8 places left")
    card.get_by_role("button", name="I'm going").click()

    expect(page.locator(".alert-success")).to_contain_text(
        "You're going to “Cheese tasting”."
    )
    card = page.get_by_test_id(f"event-{event.pk}")
    expect(card.get_by_test_id("event-status")).to_contain_text("You're going")
    expect(card.get_by_test_id("event-places")).to_have_text("7 places left")
    expect(card.get_by_role("button", name="Cancel my place")).to_be_visible()
    assert EventRsvp.objects.get(member=member).status == RsvpStatus.GOING

    # At the event: the cashier opens the attendee list and checks Oksana in.
    page.context.clear_cookies()
    admin_login(page, live_server.url, "cashier")
    attendees = reverse("admin:campaigns_event_attendees", args=[event.pk])
    page.goto(live_server.url + attendees)
    page.get_by_label("Card number or phone").fill(member.phone)
    page.get_by_role("button", name="Find").click()
    page.get_by_test_id(f"checkin-found-{member.pk}").click()

    expect(page.locator(".messagelist .success")).to_have_text(
        re.compile(r"Oksana .* is checked in\. \+25 points\.")
    )
    expect(page.get_by_test_id("event-counts")).to_contain_text("Checked in: 1")
    expect(page.get_by_test_id(f"checkin-{member.pk}")).to_have_count(0)
    assert (
        LedgerEntry.objects.filter(
            idempotency_key=f"event-checkin:{event.pk}:{member.pk}", points=25
        ).count()
        == 1
    )
    assert csp == []
