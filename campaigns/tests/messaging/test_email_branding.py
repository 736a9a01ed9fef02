"""Every email the system sends wears the program's branding (members.emails),
and every SMS names the program by its short name (members.sms.sms_signed).

The walk sends from every place in the channel-rule walk's SENDERS (which
`test_every_sending_place_is_listed` keeps complete: a sender added later must
be listed there, and is then walked here too) to a member who prefers email,
and from every place of NOT_TO_A_MEMBER that emails someone else (staff, a
login). Each email must carry the program name set in Branding (From name,
plain text, HTML), the logo as an absolute address, the primary colour, and no
"Loyalty" default. The SMS walk sends from every place of SENDERS to a member
who prefers SMS.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from campaigns.messaging.delivery import message_deliver
from campaigns.models import DeliverySettings, Message, MessageStatus
from campaigns.sending.services import campaign_test_send
from campaigns.tests.factories import campaign_make
from campaigns.tests.messaging.test_channel_rule import (
    EMAIL,
    NOT_TO_A_MEMBER,
    SENDERS,
    _member,
)
from members.branding import branding_cache_clear
from members.password_reset import password_reset_email_send
from members.services import branding_update
from rewards.models import AnomalyFlag, AnomalyRule, AnomalySubject
from rewards.services.anomalies import anomaly_digest_send

pytestmark = pytest.mark.django_db

NAME = "Brewline Coffee"
SHORT = "Brewline"
PRIMARY = "#7a4b2a"


@pytest.fixture(autouse=True)
def brand(settings):
    # Branding is not about quiet hours (delivery's tests are): without this
    # the SMS of a journey or survey is held back when the test runs at night
    # in Kyiv.
    DeliverySettings.objects.update_or_create(
        pk=1, defaults={"quiet_start": dt.time(0), "quiet_end": dt.time(0)}
    )
    settings.SITE_URL = "https://club.example.com"
    settings.DEFAULT_FROM_EMAIL = "Loyalty <loyalty@example.com>"
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (122, 75, 42)).save(out, "PNG")
    branding_cache_clear()
    branding_update(
        program_name=NAME,
        short_name=SHORT,
        primary_color=PRIMARY,
        logo=SimpleUploadedFile("logo.png", out.getvalue(), "image/png"),
    )
    yield
    branding_cache_clear()


def _delivered(member) -> None:
    """Hand the member's queued messages to the backends (their delivery is
    queued on commit, which these tests do not reach)."""
    queued = Message.objects.filter(member=member, status=MessageStatus.QUEUED)
    for message in queued:
        message_deliver(message_id=message.pk)


def assert_branded(email) -> None:
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html"
    assert email.from_email == f"{NAME} <loyalty@example.com>"
    assert f"\n-- \n{NAME}\n" in email.body
    assert NAME in html
    assert f"background:{PRIMARY}" in html
    assert 'src="https://club.example.com/media/branding/logo' in html
    for part in (email.subject, email.body, html, email.from_email):
        assert "Loyalty club" not in part
        assert "Loyalty <" not in part


# Places that are the pipeline every member message goes through, not senders.
PIPELINE = {
    ("campaigns/messaging/services.py", "message_send"),
    ("campaigns/messaging/delivery.py", "email_build"),
    ("campaigns/messaging/delivery.py", "sms_hand_over"),
    ("members/emails.py", "branded_email"),
    # The Telegram channel's backend hands a message row over (the pipeline).
    ("campaigns/messaging/backends/telegram.py", "send"),
}
# Calls of the Telegram Bot API that are not emails: the bot's own answers to
# a chat (in the member's language, without the email layout) and the
# commands that register the webhook and poll for updates.
TELEGRAM_BOT = {
    ("campaigns/telegram/bot.py", "telegram_answers_send"),
    ("campaigns/management/commands/telegram_poll.py", "handle"),
    ("campaigns/management/commands/telegram_webhook_set.py", "handle"),
}


def _campaign_test(request, store):
    manager = request.getfixturevalue("manager")
    manager.email = "boss@example.com"
    manager.save()
    member = _member(store, "prefers_email")
    message = campaign_test_send(campaign=campaign_make(), member=member, user=manager)
    message_deliver(message_id=message.pk)


def _anomaly_digest(request, store, django_capture_on_commit_callbacks):
    manager = request.getfixturevalue("manager")
    manager.email = "boss@example.com"
    manager.save()
    flag = AnomalyFlag(
        rule=AnomalyRule.choices[0][0], subject_kind=AnomalySubject.MEMBER
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert anomaly_digest_send(day=dt.date(2030, 3, 10), flags=[flag]) == 1


def _password_reset(request, store):
    _user, member = request.getfixturevalue("customer")
    assert password_reset_email_send(email=member.email, language="en") == 1


OTHER_EMAILS = {
    ("campaigns/sending/services.py", "campaign_test_send"): _campaign_test,
    ("rewards/services/anomalies.py", "anomaly_digest_send"): _anomaly_digest,
    ("members/password_reset.py", "password_reset_email_send"): _password_reset,
}


def test_every_place_that_sends_is_walked():
    assert set(NOT_TO_A_MEMBER) == PIPELINE | TELEGRAM_BOT | set(OTHER_EMAILS)


EMAIL_SENDERS = [
    p for p, (_send, expected) in SENDERS.items() if expected["prefers_email"] == EMAIL
]


def test_only_phone_codes_never_go_by_email():
    # The rest of SENDERS can email a member; only these are SMS by purpose.
    sms_only = set(SENDERS) - set(EMAIL_SENDERS)
    assert sms_only == {("members/services/signup.py", "otp_send")}


@pytest.mark.parametrize("place", EMAIL_SENDERS, ids="::".join)
def test_every_member_email_wears_the_branding(store, place, request):
    send, _expected = SENDERS[place]
    member = _member(store, "prefers_email")
    mail.outbox.clear()

    send(member, store, request)
    _delivered(member)

    mine = [email for email in mail.outbox if email.to == [member.email]]
    assert mine, f"{place} sent no email"
    for email in mine:
        assert_branded(email)


@pytest.mark.parametrize("place", list(OTHER_EMAILS), ids="::".join)
def test_every_other_email_wears_the_branding(
    store, place, request, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    make = OTHER_EMAILS[place]
    if place[1] == "anomaly_digest_send":
        make(request, store, django_capture_on_commit_callbacks)
    else:
        make(request, store)

    assert mail.outbox
    for email in mail.outbox:
        assert_branded(email)


@pytest.mark.parametrize("place", list(SENDERS), ids="::".join)
def test_every_sms_names_the_program(store, place, request, sms_outbox):
    send, _expected = SENDERS[place]
    member = _member(store, "prefers_sms")
    sms_outbox.clear()

    send(member, store, request)
    _delivered(member)

    mine = [sms["text"] for sms in sms_outbox if sms["to"] == member.phone]
    assert mine, f"{place} sent no SMS"
    for text in mine:
        # Opened with the short name, or naming the program already (the code).
        assert text.startswith(f"{SHORT}: ") or SHORT in text, text
        assert not text.startswith(f"{SHORT}: {SHORT}")
        assert "Loyalty club" not in text


def test_an_sms_is_signed_once_and_only_once_the_program_is_named():
    from members.sms import sms_signed

    assert sms_signed("Free coffee today") == "Brewline: Free coffee today"
    assert sms_signed("Your Brewline code: 1") == "Your Brewline code: 1"
    branding_update(program_name="", short_name="")
    branding_cache_clear()
    assert sms_signed("Free coffee today") == "Free coffee today"
