"""Customer pages: /events/ (sign up, cancel, reasons shown) and /members-only/
(pages and offers by tier, a direct address included)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.events.services import content_page_save, event_rsvp
from campaigns.models import ContentKind, ContentPage, EventRsvp, RsvpStatus
from campaigns.tests.events.test_services import make_event, set_tier
from members.tests.factories import MemberFactory, UserFactory
from rewards.tests.factories import TierFactory

pytestmark = pytest.mark.django_db

EVENTS = reverse("campaigns:events")
MEMBERS_ONLY = reverse("campaigns:members_only")


@pytest.fixture
def logged_in(client, customer):
    user, member = customer
    client.force_login(user)
    return client, member


@pytest.fixture
def gold():
    return TierFactory(name="Gold", rank=3)


def _rsvp_url(event):
    return reverse("campaigns:event_rsvp", args=[event.pk])


def _cancel_url(event):
    return reverse("campaigns:event_rsvp_cancel", args=[event.pk])


def test_events_need_a_login(client):
    response = client.get(EVENTS)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_list_shows_places_left_and_the_rsvp_button(logged_in, store):
    client, _member = logged_in
    event = make_event(store, capacity=5)
    event_rsvp(member=MemberFactory(store=store), event_id=event.pk)

    content = client.get(EVENTS).content.decode()

    assert "Cheese tasting" in content
    assert "4 places left" in content
    assert _rsvp_url(event) in content


def test_rsvp_then_list_says_youre_going_and_offers_cancel(logged_in, store):
    client, member = logged_in
    event = make_event(store)

    response = client.post(_rsvp_url(event), follow=True)

    content = response.content.decode()
    assert "You&#x27;re going to “Cheese tasting”." in content
    assert "You&#x27;re going" in content
    assert _cancel_url(event) in content
    assert EventRsvp.objects.get(member=member).status == RsvpStatus.GOING


def test_cancel_from_the_page(logged_in, store):
    client, member = logged_in
    event = make_event(store)
    event_rsvp(member=member, event_id=event.pk)

    response = client.post(_cancel_url(event), follow=True)

    assert (
        "Your sign-up for “Cheese tasting” is cancelled." in response.content.decode()
    )
    assert EventRsvp.objects.get(member=member).status == RsvpStatus.CANCELLED


def test_cancel_cannot_touch_another_members_signup(logged_in, store):
    client, _member = logged_in
    event = make_event(store)
    other = MemberFactory(store=store)
    event_rsvp(member=other, event_id=event.pk)

    response = client.post(_cancel_url(event), follow=True)

    assert "You are not signed up for “Cheese tasting”." in response.content.decode()
    assert EventRsvp.objects.get(member=other).status == RsvpStatus.GOING


def test_list_never_shows_who_else_is_going(logged_in, store):
    client, _member = logged_in
    event = make_event(store)
    other = MemberFactory(store=store, first_name="Zinoviy", last_name="Secretenko")
    event_rsvp(member=other, event_id=event.pk)

    content = client.get(EVENTS).content.decode()

    assert "Secretenko" not in content and other.card_number not in content
    assert "You&#x27;re going" not in content


def test_gold_only_event_says_so_and_offers_no_button(logged_in, store, gold):
    client, _member = logged_in
    event = make_event(store, min_tier=gold)

    content = client.get(EVENTS).content.decode()

    assert "Gold members only" in content
    assert _rsvp_url(event) not in content


def test_posting_to_a_gold_event_is_refused_with_the_reason(logged_in, store, gold):
    client, member = logged_in
    event = make_event(store, min_tier=gold)

    response = client.post(_rsvp_url(event), follow=True)

    assert "is for Gold members only." in response.content.decode()
    assert not EventRsvp.objects.filter(member=member).exists()


def test_full_event_offers_the_waitlist(logged_in, store):
    client, member = logged_in
    event = make_event(store, capacity=1)
    event_rsvp(member=MemberFactory(store=store), event_id=event.pk)

    assert "Join the waitlist" in client.get(EVENTS).content.decode()
    response = client.post(_rsvp_url(event), {"waitlist": "1"}, follow=True)

    assert "You are on the waitlist" in response.content.decode()
    assert EventRsvp.objects.get(member=member).status == RsvpStatus.WAITLIST


def test_rsvp_needs_post(logged_in, store):
    client, _member = logged_in
    assert client.get(_rsvp_url(make_event(store))).status_code == 405


def test_rsvp_to_an_unknown_event_says_so(logged_in):
    client, _member = logged_in
    response = client.post(reverse("campaigns:event_rsvp", args=[99999]), follow=True)
    assert "There is no such event." in response.content.decode()


def test_drafts_and_past_events_are_not_listed(logged_in, store):
    client, _member = logged_in
    make_event(store, title_en="Secret draft", status="draft")
    make_event(
        store,
        title_en="Last week",
        starts_at=timezone.now() - dt.timedelta(days=7),
    )

    content = client.get(EVENTS).content.decode()

    assert "Secret draft" not in content and "Last week" not in content


def test_events_page_query_count_does_not_grow(
    logged_in, store, gold, django_assert_max_num_queries
):
    client, member = logged_in
    make_event(store)
    with django_assert_max_num_queries(12) as few:
        client.get(EVENTS)
    for i in range(10):
        event = make_event(store, min_tier=gold if i % 2 else None)
        if i % 3 == 0 and not i % 2:
            event_rsvp(member=member, event_id=event.pk)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(EVENTS)
    assert len(response.context["rows"]) == 11


# --- members-only pages ----------------------------------------------------------------


def make_page(slug, *, min_tier=None, days_ago=1, until=None, **fields) -> ContentPage:
    now = timezone.now()
    page = ContentPage(
        slug=slug,
        kind=fields.pop("kind", ContentKind.PAGE),
        title_uk=fields.pop("title_uk", f"Сторінка {slug}"),
        title_en=fields.pop("title_en", f"Page {slug}"),
        body_uk=fields.pop("body_uk", "Текст"),
        body_en=fields.pop("body_en", "Text for members"),
        min_tier=min_tier,
        published_from=now - dt.timedelta(days=days_ago)
        if days_ago is not None
        else None,
        published_until=until,
        **fields,
    )
    return content_page_save(page=page)


def _page_url(slug):
    return reverse("campaigns:members_only_page", args=[slug])


def test_members_only_lists_what_the_tier_reaches(logged_in, gold):
    client, member = logged_in
    make_page("for-all")
    make_page("gold-offer", min_tier=gold, kind=ContentKind.OFFER)

    content = client.get(MEMBERS_ONLY).content.decode()
    assert "Page for-all" in content and "Page gold-offer" not in content

    set_tier(member, gold)
    content = client.get(MEMBERS_ONLY).content.decode()
    assert "Page for-all" in content and "Page gold-offer" in content


def test_direct_address_above_the_tier_is_404(logged_in, gold):
    client, member = logged_in
    make_page("gold-offer", min_tier=gold)
    set_tier(member, TierFactory(name="Silver", rank=2))

    assert client.get(_page_url("gold-offer")).status_code == 404
    set_tier(member, gold)
    assert client.get(_page_url("gold-offer")).status_code == 200


def test_unpublished_and_ended_pages_are_404(logged_in):
    client, _member = logged_in
    make_page("draft", days_ago=None)
    make_page("future", days_ago=-2)
    make_page("ended", days_ago=10, until=timezone.now() - dt.timedelta(days=1))

    for slug in ("draft", "future", "ended", "no-such-page"):
        assert client.get(_page_url(slug)).status_code == 404, slug
    assert "Page ended" not in client.get(MEMBERS_ONLY).content.decode()


def test_page_body_is_escaped_with_line_breaks_kept(logged_in):
    client, _member = logged_in
    make_page("safe", body_en="Line one\nLine <script>alert(1)</script> two")

    content = client.get(_page_url("safe")).content.decode()

    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert "Line one<br>" in content


def test_page_is_in_the_members_language_with_fallback(logged_in):
    client, _member = logged_in
    make_page("lang", title_en="", title_uk="Лише українською")

    content = client.get(_page_url("lang")).content.decode()

    assert "Лише українською" in content


def test_members_only_needs_a_member(client):
    staff = UserFactory(username="staffer", is_staff=True)
    client.force_login(staff)
    assert client.get(MEMBERS_ONLY).status_code == 403


def test_members_only_query_count_does_not_grow(
    logged_in, gold, django_assert_max_num_queries
):
    client, member = logged_in
    set_tier(member, gold)
    make_page("p0")
    with django_assert_max_num_queries(12) as few:
        client.get(MEMBERS_ONLY)
    for i in range(1, 12):
        make_page(f"p{i}", min_tier=gold if i % 2 else None)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(MEMBERS_ONLY)
    assert len(response.context["pages"]) == 12


def test_a_cancelled_event_stays_listed_for_those_who_signed_up(logged_in, store):
    from campaigns.events.services import event_cancel

    client, member = logged_in
    mine = make_event(store, title_en="Mine, cancelled")
    other = make_event(store, title_en="Not mine, cancelled")
    event_rsvp(member=member, event_id=mine.pk)
    event_cancel(event_id=mine.pk)
    event_cancel(event_id=other.pk)

    content = client.get(EVENTS).content.decode()

    assert "Mine, cancelled" in content and "Not mine, cancelled" not in content
    assert "Cancelled" in content
    assert _cancel_url(mine) not in content
