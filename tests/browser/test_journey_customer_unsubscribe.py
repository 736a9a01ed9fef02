"""A customer unsubscribes from an offer email with its link, in a real Chromium
under the Content Security Policy, and finds email offers switched off on the
preferences page."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse
from playwright.sync_api import expect

from campaigns.messaging.services import message_send
from members.models import ConsentSource, Member
from members.tests.factories import MemberFactory, StoreFactory, UserFactory
from tests.browser._journey import portal_login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_customer_unsubscribes_from_an_email_then_sees_it_in_preferences(
    page, live_server, settings
):
    settings.SITE_URL = live_server.url
    csp_errors: list[str] = []
    page.on(
        "console",
        lambda msg: (
            csp_errors.append(msg.text)
            if "Content Security Policy" in msg.text
            else None
        ),
    )
    page.set_default_timeout(5_000)
    store = StoreFactory(code="unsub", name="Unsubscribe Street")
    user = UserFactory(username="unsub@example.com")
    member = MemberFactory(
        store=store,
        user=user,
        email="unsub@example.com",
        first_name="Iryna",
        email_consent=True,
        sms_consent=True,
        language="en",
    )
    # Autocommit: the delivery queued on commit runs at once (eager Celery).
    message_send(
        member=member,
        key="campaign:browser",
        kind="campaign",
        subject="Spring sale",
        body="Iryna, 20% off this week.",
        marketing=True,
    )
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    link = email.extra_headers["List-Unsubscribe"].strip("<>")
    assert link in email.body

    page.goto(link)  # no login
    expect(page.get_by_role("heading", name="Unsubscribe from offers?")).to_be_visible()
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    # SMS offers are still on: no leaving question.
    expect(page.get_by_text("Why are you leaving?")).to_have_count(0)

    page.get_by_role("link", name="My preferences").click()
    preferences = reverse("portal:preferences")
    expect(page).to_have_url(f"{live_server.url}{reverse('login')}?next={preferences}")
    portal_login(
        page, live_server.url, "unsub@example.com", next_name="portal:preferences"
    )
    expect(page.get_by_label("Send me offers by email")).not_to_be_checked()
    expect(page.get_by_label("Send me offers by SMS")).to_be_checked()
    expect(page.locator(".consent-history")).to_contain_text("Unsubscribe link")

    member = Member.objects.get(pk=member.pk)
    assert member.email_consent is False
    assert member.email_consent_source == ConsentSource.UNSUBSCRIBE
    assert csp_errors == []
