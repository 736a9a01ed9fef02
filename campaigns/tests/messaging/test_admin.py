"""Admin pages of delivery: the message log, the Outbox, journeys and the delivery
settings: changelist, search, add and change smoke tests, query counts, rights."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from campaigns.messaging.backends.email import OutboxEmailBackend
from campaigns.messaging.backends.sms import OutboxSmsBackend
from campaigns.messaging.delivery import email_build, message_deliver
from campaigns.messaging.services import message_send
from campaigns.models import (
    DeliverySettings,
    Journey,
    JourneyKind,
    Message,
    OutboxEntry,
)
from members.models import Channel
from members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def su_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _url(model: str, view: str, *args) -> str:
    return reverse(f"admin:campaigns_{model}_{view}", args=args)


@pytest.fixture
def messages(store):
    made = []
    for n in range(4):
        member = MemberFactory(store=store, email_consent=n % 2 == 0)
        message = message_send(
            member=member,
            key=f"offer:{n}",
            kind="campaign",
            subject=f"Offer {n}",
            body="Hello",
            marketing=True,
        )
        message_deliver(message_id=message.pk)
        made.append(message)
    return made


class TestMessageAdmin:
    def test_changelist_filters_and_search(
        self, su_client, messages, django_assert_max_num_queries
    ):
        with django_assert_max_num_queries(12):
            response = su_client.get(_url("message", "changelist"))
        assert response.status_code == 200
        assert "No email marketing consent" in response.content.decode()

        sent = su_client.get(_url("message", "changelist"), {"status__exact": "sent"})
        assert sent.context["cl"].result_count == 2
        sms = su_client.get(_url("message", "changelist"), {"channel__exact": "sms"})
        assert sms.context["cl"].result_count == 0
        by_kind = su_client.get(_url("message", "changelist"), {"kind": "campaign"})
        assert by_kind.status_code == 200
        found = su_client.get(_url("message", "changelist"), {"q": "offer:3"})
        assert found.context["cl"].result_count == 1

    def test_change_page_is_read_only_and_add_is_refused(self, su_client, messages):
        response = su_client.get(_url("message", "change", messages[0].pk))
        assert response.status_code == 200
        assert b'name="status"' not in response.content
        assert su_client.get(_url("message", "add")).status_code == 403


class TestOutbox:
    def test_email_backend_keeps_text_html_and_headers(self, fan_message):
        email = email_build(fan_message)

        assert OutboxEmailBackend().send_messages([email]) == 1

        entry = OutboxEntry.objects.get()
        assert (entry.channel, entry.to, entry.subject) == (
            Channel.EMAIL,
            fan_message.to,
            "Offer",
        )
        assert entry.body.startswith("Hello https://example.com/x")
        assert "/o/" in entry.html
        assert entry.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert entry.reference == fan_message.token

    def test_sms_backend_keeps_the_text(self):
        reference = OutboxSmsBackend().send(
            to="+380671234567", text="Hi", reference="t"
        )

        entry = OutboxEntry.objects.get()
        assert (entry.channel, entry.to, entry.body) == (
            Channel.SMS,
            "+380671234567",
            "Hi",
        )
        assert reference == f"outbox-{entry.pk}"

    def test_outbox_page_lists_emails_and_sms(
        self, su_client, fan_message, django_assert_max_num_queries
    ):
        OutboxEmailBackend().send_messages([email_build(fan_message)])
        OutboxSmsBackend().send(to="+380671234567", text="Your code 1234")

        with django_assert_max_num_queries(12):
            response = su_client.get(_url("outboxentry", "changelist"))
        page = response.content.decode()
        assert "Offer" in page and "Your code 1234" in page
        searched = su_client.get(_url("outboxentry", "changelist"), {"q": "code"})
        assert searched.context["cl"].result_count == 1
        entry = OutboxEntry.objects.filter(channel=Channel.EMAIL).get()
        detail = su_client.get(_url("outboxentry", "change", entry.pk))
        assert "List-Unsubscribe" in detail.content.decode()
        assert su_client.get(_url("outboxentry", "add")).status_code == 403


@pytest.fixture
def fan_message(store):
    member = MemberFactory(store=store, email_consent=True)
    return message_send(
        member=member,
        key="o",
        kind="campaign",
        subject="Offer",
        body="Hello https://example.com/x",
        marketing=True,
    )


JOURNEY_FORM = {
    "kind": "birthday",
    "enabled": "on",
    "channel": "",
    "days": "7",
    "subject_en": "Happy birthday, {{ first_name }}",
    "body_en": "Have {{ balance }} points on us.",
    "subject_uk": "З днем народження",
    "body_uk": "Вітаємо, {{ first_name }}!",
}


class TestJourneyAdmin:
    def test_add_with_texts_in_two_languages(self, su_client):
        response = su_client.post(_url("journey", "add"), JOURNEY_FORM)

        assert response.status_code == 302, response.context["errors"]
        journey = Journey.objects.get(kind=JourneyKind.BIRTHDAY)
        assert journey.enabled
        assert sorted(journey.languages()) == ["en", "uk"]
        assert journey.text_in("uk") == (
            "З днем народження",
            "Вітаємо, {{ first_name }}!",
        )

    def test_unknown_variable_is_refused_naming_it(self, su_client):
        form = {**JOURNEY_FORM, "body_en": "Your {{ voucher_code }}"}

        response = su_client.post(_url("journey", "add"), form)

        assert response.status_code == 200
        assert "Unknown variables: voucher_code" in response.content.decode()
        assert not Journey.objects.exists()

    def test_a_text_the_sandbox_cannot_read_is_refused(self, su_client):
        form = {**JOURNEY_FORM, "body_en": "{% load static %}{{ first_name.upper }}"}

        response = su_client.post(_url("journey", "add"), form)

        assert response.status_code == 200
        assert not Journey.objects.exists()
        assert "load" in response.content.decode()

    def test_filters_are_accepted_and_listed_in_the_help(self, su_client):
        form = {**JOURNEY_FORM, "body_en": "{{ balance|points }} on us."}
        assert su_client.post(_url("journey", "add"), form).status_code == 302
        journey = Journey.objects.get()

        page = su_client.get(_url("journey", "change", journey.pk)).content.decode()

        assert "{{ balance|points }}" in page
        assert "Filters you can use:" in page

    def test_changelist_search_change_and_switch_off(
        self, su_client, django_assert_max_num_queries
    ):
        journey = Journey.objects.create(
            kind=JourneyKind.WELCOME, enabled=True, body_en="Hi"
        )
        Journey.objects.create(kind=JourneyKind.WIN_BACK)

        with django_assert_max_num_queries(12):
            listing = su_client.get(_url("journey", "changelist"))
        assert listing.status_code == 200
        found = su_client.get(_url("journey", "changelist"), {"q": "welcome"})
        assert found.context["cl"].result_count == 1
        change = su_client.get(_url("journey", "change", journey.pk))
        assert "{{ first_name }}" in change.content.decode()

        su_client.post(
            _url("journey", "changelist"),
            {"action": "switch_off", "_selected_action": [journey.pk]},
        )
        journey.refresh_from_db()
        assert journey.enabled is False


class TestDeliverySettingsAdmin:
    def test_changelist_opens_the_single_row_and_saves(self, su_client):
        response = su_client.get(_url("deliverysettings", "changelist"))
        assert response.status_code == 302
        row = DeliverySettings.objects.get()

        saved = su_client.post(
            _url("deliverysettings", "change", row.pk),
            {
                "frequency_cap": "5",
                "quiet_start": "22:00",
                "quiet_end": "08:00",
                "max_attempts": "4",
            },
        )

        assert saved.status_code == 302
        row.refresh_from_db()
        assert (row.frequency_cap, row.max_attempts) == (5, 4)
        assert su_client.get(_url("deliverysettings", "add")).status_code == 403


class TestRights:
    def test_marketer_reads_messages_and_edits_journeys(self, client, marketer):
        client.force_login(marketer)

        assert client.get(_url("message", "changelist")).status_code == 200
        assert client.get(_url("outboxentry", "changelist")).status_code == 200
        assert client.get(_url("journey", "add")).status_code == 200
        assert client.get(_url("deliverysettings", "changelist")).status_code == 302

    def test_manager_has_the_same(self, client, manager):
        client.force_login(manager)

        assert client.get(_url("journey", "changelist")).status_code == 200

    def test_cashier_has_none(self, client, cashier):
        client.force_login(cashier)

        assert client.get(_url("message", "changelist")).status_code == 403


def test_make_run_keeps_email_in_the_outbox(settings, fan_message):
    settings.EMAIL_BACKEND = "campaigns.messaging.backends.email.OutboxEmailBackend"
    message_deliver(message_id=fan_message.pk)

    assert mail.outbox == []
    assert OutboxEntry.objects.get().reference == fan_message.token
    assert Message.objects.get(pk=fan_message.pk).status == "sent"


def test_a_message_left_sending_by_a_dead_worker_is_listed_and_shown(
    su_client, messages
):
    Message.objects.filter(pk=messages[0].pk).update(
        status="sending", claim="0123456789abcdef0123456789abcdef"
    )

    listed = su_client.get(_url("message", "changelist"), {"status__exact": "sending"})
    assert listed.context["cl"].result_count == 1
    assert "Sending" in listed.content.decode()
    page = su_client.get(_url("message", "change", messages[0].pk)).content.decode()
    assert "0123456789abcdef0123456789abcdef" in page
