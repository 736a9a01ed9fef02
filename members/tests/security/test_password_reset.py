"""Password reset: throttled per address and per client, sent by a task, and the
same work in the request whether the address has an account or not."""

import re

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from members.password_reset import client_ip
from members.tasks import password_reset_email_send
from members.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

KNOWN = "customer@example.com"
UNKNOWN = "nobody@example.com"


def _ask(client, email, ip="198.51.100.7"):
    response = client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=ip)
    return response.status_code, response.get("Location")


def test_nine_requests_for_one_address_send_at_most_the_limit(
    client, customer, settings, django_capture_on_commit_callbacks
):
    assert settings.PASSWORD_RESET_LIMIT_PER_EMAIL == 3
    with django_capture_on_commit_callbacks(execute=True):
        # From nine addresses: the per-address limit holds on its own.
        answers = {_ask(client, KNOWN, ip=f"198.51.100.{i}") for i in range(9)}

    assert len(mail.outbox) == 3
    # Over the limit the page answers exactly as within it.
    assert answers == {(302, reverse("password_reset_done"))}


def test_the_limit_counts_the_address_whatever_its_case(
    client, customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for email in [KNOWN, KNOWN.upper(), " Customer@Example.com", KNOWN, KNOWN]:
            _ask(client, email)

    assert len(mail.outbox) == 3


def test_one_client_address_is_limited_across_addresses(
    client, settings, django_capture_on_commit_callbacks
):
    settings.PASSWORD_RESET_LIMIT_PER_IP = 2
    for i in range(3):
        UserFactory(username=f"user{i}@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        answers = {_ask(client, f"user{i}@example.com") for i in range(3)}
        _ask(client, "user2@example.com", ip="203.0.113.9")  # another client

    assert sorted(m.to[0] for m in mail.outbox) == [
        "user0@example.com",
        "user1@example.com",
        "user2@example.com",
    ]
    assert [m.to[0] for m in mail.outbox].count("user2@example.com") == 1
    assert answers == {(302, reverse("password_reset_done"))}


def test_known_and_unknown_addresses_do_the_same_work_in_the_request(
    client, customer, django_capture_on_commit_callbacks
):
    answers, queries, queued = [], [], []
    for email in (KNOWN, UNKNOWN):
        with (
            django_capture_on_commit_callbacks(execute=False) as callbacks,
            CaptureQueriesContext(connection) as captured,
        ):
            answers.append(_ask(client, email))
        queries.append([q["sql"] for q in captured.captured_queries])
        queued.append(len(callbacks))

    # No user looked up, no token made, no email built or sent in the request:
    # only the queued task will.
    assert mail.outbox == []
    assert answers[0] == answers[1]
    assert queries[0] == queries[1]
    assert not any("members_user" in sql for sql in queries[0])
    assert queued == [1, 1]


def test_the_task_emails_a_link_on_site_url_that_sets_a_new_password(
    client, customer, settings
):
    settings.SITE_URL = "http://127.0.0.1:8301"

    assert password_reset_email_send(email=KNOWN, language="en") == 1

    (message,) = mail.outbox
    assert message.to == [KNOWN]
    assert "127.0.0.1:8301" in message.body  # the site named, and the link
    path = re.search(r"http://127\.0\.0\.1:8301(/accounts/reset/\S+/)", message.body)
    form_url = client.get(path.group(1)).url
    response = client.post(
        form_url, {"new_password1": "n3w-pass-word!", "new_password2": "n3w-pass-word!"}
    )
    assert response.url == reverse("password_reset_complete")


def test_the_task_sends_nothing_for_an_unknown_or_inactive_address(customer):
    user, _member = customer
    assert password_reset_email_send(email=UNKNOWN, language="en") == 0
    user.is_active = False
    user.save()
    assert password_reset_email_send(email=KNOWN, language="en") == 0
    assert mail.outbox == []


def test_the_client_address_behind_the_proxy_is_the_last_forwarded_one(rf, settings):
    request = rf.post(
        "/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 192.0.2.10"
    )
    settings.SECURE_PROXY_SSL_HEADER = None
    assert client_ip(request) == "127.0.0.1"  # no proxy: the header is the client's
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert client_ip(request) == "192.0.2.10"  # what our proxy appended


def test_a_broker_that_is_down_does_not_change_the_answer(
    client, customer, monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    from members import password_reset

    def down(name):
        raise OperationalError("connection refused")

    monkeypatch.setattr(password_reset, "_task_by_name", down)
    with django_capture_on_commit_callbacks(execute=True):
        answer = _ask(client, KNOWN)

    assert answer == (302, reverse("password_reset_done"))
    assert mail.outbox == []
