"""One channel rule for every sender (members.messages.member_channel).

SENDERS lists every place in the apps that writes or sends a message to a
member, each with how to make it send to one member. The walk sends from each
of them to a member who prefers SMS, one who prefers email (both with an email
address and a phone) and one with only a phone, and checks the channel and the
address. `test_every_sending_place_is_listed` reads the apps' source and fails
when a place that sends (a call of message_send, send_mail, sms_send, an
EmailMessage, a Message row written) is in neither SENDERS nor NOT_TO_A_MEMBER,
so a sender added later is walked too.

The password reset email is in NOT_TO_A_MEMBER: it goes to the login's own
address (an email by nature: the link resets the login that address names).
"""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path
from unittest import mock

import pytest
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core import mail
from django.utils import timezone

from campaigns.events.services import (
    event_cancel,
    event_cancelled_notify,
    event_reminders_send_due,
    event_rsvp,
    event_rsvp_cancel,
)
from campaigns.feedback.services import complaint_file, complaint_staff_reply
from campaigns.feedback.surveys import survey_invites_send
from campaigns.journeys.services import journey_message_send, membership_reminder_send
from campaigns.models import (
    CampaignChunk,
    Journey,
    JourneyKind,
    Message,
)
from campaigns.sending.chunks import campaign_chunk_send
from campaigns.sending.services import campaign_send_now
from campaigns.tests.events.test_services import make_event
from campaigns.tests.factories import (
    campaign_make,
    purchase_make,
    segment_of,
    survey_make,
)
from members.audit import StaffActor
from members.messages import member_channel
from members.models import Channel, Member
from members.services import member_signup
from members.tests.factories import MemberFactory
from rewards.services import subscription_sell
from rewards.services.memberships import membership_reminder_email_or_sms
from rewards.tests.factories import MembershipPlanFactory

pytestmark = pytest.mark.django_db

EMAIL, SMS = Channel.EMAIL.value, Channel.SMS.value


def _message(member) -> tuple[str, str]:
    message = Message.objects.filter(member=member).latest("pk")
    return message.channel, message.to


# --- how each sender is made to send to `member` ------------------------------------


def _campaign(member, store, request):
    campaign = campaign_make(segment=segment_of([member]), channel="preferred")
    with mock.patch("campaigns.sending.services._chunks_queue"):
        run = campaign_send_now(campaign=campaign)
    for chunk in CampaignChunk.objects.filter(run=run):
        campaign_chunk_send(chunk_id=chunk.pk)
    return _message(member)


def _birthday_journey(member, store, request):
    journey = Journey.objects.create(
        kind=JourneyKind.BIRTHDAY,
        enabled=True,
        subject_en="Happy birthday",
        body_en="Hi",
    )
    assert journey.channel == ""  # the default: the member's preferred channel
    journey_message_send(
        journey=journey, member=member, key="journey:birthday:2030", extras={}
    )
    return _message(member)


def _subscription(member, store):
    plan = MembershipPlanFactory(name="Club")
    start = timezone.now() - relativedelta(months=1) + dt.timedelta(days=3)
    sub, _replayed = subscription_sell(
        member=member, plan=plan, store=store, receipt_id="M-1", at=start
    )
    return sub


def _renewal_builtin(member, store, request):
    # No renewal journey row: the built-in text goes through message_send.
    membership_reminder_send(subscription=_subscription(member, store))
    return _message(member)


def _renewal_without_log(member, store, request):
    # The sender LOYALTY_MEMBERSHIP_REMINDER_SENDER may name instead: no Message.
    from members import sms

    sub = _subscription(member, store)
    mail.outbox.clear()
    sms.outbox.clear()
    membership_reminder_email_or_sms(subscription=sub)
    if mail.outbox:
        return EMAIL, mail.outbox[-1].to[0]
    return SMS, sms.outbox[-1]["to"]


def _event_reminder(member, store, request):
    event = make_event(store, starts_in=dt.timedelta(hours=30), reminder_hours=24)
    event_rsvp(member=member, event_id=event.pk)
    assert event_reminders_send_due(now=timezone.now() + dt.timedelta(hours=7)) == 1
    return _message(member)


def _event_place(member, store, request):
    event = make_event(store, capacity=1)
    first = MemberFactory(store=store)
    event_rsvp(member=first, event_id=event.pk)
    event_rsvp(member=member, event_id=event.pk, waitlist=True)
    event_rsvp_cancel(member=first, event_id=event.pk)
    return _message(member)


def _event_cancelled(member, store, request):
    event = make_event(store)
    event_rsvp(member=member, event_id=event.pk)
    event_cancel(event_id=event.pk)
    event_cancelled_notify(event_id=event.pk)
    return _message(member)


def _survey_invite(member, store, request):
    survey = survey_make(post_purchase=True, delay_hours=1)
    purchase = purchase_make(member=member, store=store, ago=dt.timedelta(hours=2))
    assert survey_invites_send(survey_id=survey.pk, purchase_ids=[purchase.pk]) == 1
    return _message(member)


def _survey_invite_registration(member, store, request):
    from campaigns.feedback.invites import survey_invites_send_members
    from campaigns.models import SurveyTrigger

    survey = survey_make(after_registration=True, delay_hours=1)
    assert (
        survey_invites_send_members(
            survey_id=survey.pk,
            trigger=SurveyTrigger.REGISTRATION,
            member_ids=[member.pk],
        )
        == 1
    )
    return _message(member)


def _complaint_reply(member, store, request):
    manager = request.getfixturevalue("manager")
    complaint = complaint_file(member=member, topic="service", body="Cold coffee")
    complaint_staff_reply(
        complaint_id=complaint.pk,
        actor=StaffActor(user=manager, ip="10.0.0.1"),
        body="Sorry!",
    )
    return _message(member)


def _one_time_code(member, store, request):
    # Signing up online with the phone staff enrolled: the code verifies that
    # phone, so it goes to that phone whatever the member prefers.
    result = member_signup(
        email="new-login@example.com", password="pass-word-123", phone=member.phone
    )
    assert result.pending_code is not None
    return _message(member)


PREFERRED = {"prefers_sms": SMS, "prefers_email": EMAIL, "phone_only": SMS}

# (file, outermost function holding the call) -> (how to send, expected channel
# per member). A sender whose channel is fixed by its purpose says why.
SENDERS = {
    ("campaigns/sending/chunks.py", "campaign_chunk_send"): (_campaign, PREFERRED),
    ("campaigns/journeys/services.py", "journey_message_send"): (
        _birthday_journey,
        PREFERRED,
    ),
    ("campaigns/journeys/services.py", "membership_reminder_send"): (
        _renewal_builtin,
        PREFERRED,
    ),
    ("rewards/services/memberships.py", "membership_reminder_email_or_sms"): (
        _renewal_without_log,
        PREFERRED,
    ),
    ("campaigns/events/services.py", "_reminder_send"): (_event_reminder, PREFERRED),
    ("campaigns/events/services.py", "_place_send"): (_event_place, PREFERRED),
    ("campaigns/events/services.py", "_cancelled_send"): (_event_cancelled, PREFERRED),
    ("campaigns/feedback/surveys.py", "survey_invites_send"): (
        _survey_invite,
        PREFERRED,
    ),
    # After registration, after a resolved complaint, sent to a segment: one path.
    ("campaigns/feedback/invites.py", "_invite"): (
        _survey_invite_registration,
        PREFERRED,
    ),
    ("campaigns/feedback/services.py", "complaint_staff_reply"): (
        _complaint_reply,
        PREFERRED,
    ),
    # A code verifying a phone goes to that phone (an explicit channel).
    ("members/services/signup.py", "otp_send"): (
        _one_time_code,
        {"prefers_sms": SMS, "prefers_email": SMS, "phone_only": SMS},
    ),
}

# Places that send, but not to a member on a channel of theirs.
NOT_TO_A_MEMBER = {
    # The delivery pipeline itself: message_send applies the rule.
    ("campaigns/messaging/services.py", "message_send"): "writes the row, rule applied",
    ("campaigns/messaging/delivery.py", "email_build"): "builds the email of a row",
    ("members/emails.py", "branded_email"): "the one email layout, for the others",
    ("campaigns/messaging/delivery.py", "sms_hand_over"): "the SMS channel's backend",
    ("campaigns/messaging/backends/telegram.py", "send"): (
        "the Telegram channel's backend (Bot API)"
    ),
    ("campaigns/telegram/bot.py", "telegram_answers_send"): (
        "the bot's answers, in the chat that asked (queued by the webhook)"
    ),
    ("campaigns/management/commands/telegram_poll.py", "handle"): (
        "polls the Bot API for updates (deleteWebhook, getUpdates): sends nothing"
    ),
    ("campaigns/management/commands/telegram_webhook_set.py", "handle"): (
        "registers the webhook and the command menu: sends nothing"
    ),
    ("campaigns/sending/services.py", "campaign_test_send"): (
        "to the staff user who asked, by email"
    ),
    ("rewards/services/anomalies.py", "anomaly_digest_send"): "to staff, by email",
    ("members/password_reset.py", "password_reset_email_send"): (
        "to a login's own address, by email: the link resets the login it names"
    ),
}

SENDING_CALLS = frozenset(
    {
        "message_send",
        "send_mail",
        "send_mass_mail",
        "mail_admins",
        "mail_managers",
        "sms_send",
        "sms_backend_send",
        "telegram_call",  # campaigns.telegram.api: every Bot API call
        "EmailMessage",
        "EmailMultiAlternatives",
        "branded_email",  # members.emails: every email is built there
        "Message",  # a Message row built for bulk_create
    }
)
APPS = ("members", "rewards", "campaigns", "analytics", "loyalty_site", "demo")


def _outermost_functions(tree: ast.Module):
    """The module's functions and its classes' methods (a nested function
    counts as part of the one it is in)."""
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            yield from _outermost_functions(node)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _sending_places() -> set[tuple[str, str]]:
    """(file, outermost function) of every call that sends or writes a message."""
    root = Path(settings.BASE_DIR)
    places = set()
    for app in APPS:
        for path in sorted((root / app).rglob("*.py")):
            if {"tests", "migrations"} & set(path.parts):
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for top in _outermost_functions(tree):
                for node in ast.walk(top):
                    if not isinstance(node, ast.Call):
                        continue
                    func = node.func
                    name = getattr(func, "id", None) or getattr(func, "attr", None)
                    created = (
                        isinstance(func, ast.Attribute)
                        and func.attr in ("create", "bulk_create", "get_or_create")
                        and ast.unparse(func.value).split(".")[-2:]
                        == ["Message", "objects"]
                    )
                    if name in SENDING_CALLS or created:
                        places.add((str(path.relative_to(root)), top.name))
    return places


def test_every_sending_place_is_listed():
    found = _sending_places()
    listed = set(SENDERS) | set(NOT_TO_A_MEMBER)
    assert found - listed == set(), "a new sender: add it to SENDERS"
    assert listed - found == set(), "gone: remove it from the lists"


def _member(store, profile: str) -> Member:
    fields = {"email_consent": True, "sms_consent": True, "language": "en"}
    if profile == "phone_only":
        fields["email"] = None
    member = MemberFactory(store=store, **fields)
    preferred = {"prefers_sms": SMS, "prefers_email": EMAIL}.get(profile, "")
    Member.objects.filter(pk=member.pk).update(preferred_channel=preferred)
    member.refresh_from_db()
    return member


@pytest.mark.parametrize("place", list(SENDERS), ids="::".join)
@pytest.mark.parametrize("profile", ["prefers_sms", "prefers_email", "phone_only"])
def test_every_sender_follows_the_channel_rule(store, place, profile, request):
    send, expected = SENDERS[place]
    member = _member(store, profile)

    channel, to = send(member, store, request)

    address = member.phone if expected[profile] == SMS else member.email
    assert (channel, to) == (expected[profile], address)


# --- the rule itself ----------------------------------------------------------------


def _bare(**fields) -> Member:
    values = {
        "email": "m@example.com",
        "phone": "+380670000001",
        "preferred_channel": "",
        "email_consent": True,
        "sms_consent": True,
        **fields,
    }
    return Member(**values)


@pytest.mark.parametrize(
    ("fields", "kwargs", "expected"),
    [
        ({}, {}, EMAIL),
        ({"preferred_channel": SMS}, {}, SMS),
        ({"preferred_channel": EMAIL}, {}, EMAIL),
        # preferred, but no such address: the next one
        ({"preferred_channel": EMAIL, "email": None}, {}, SMS),
        ({"preferred_channel": SMS, "phone": ""}, {}, EMAIL),
        ({"email": None}, {}, SMS),
        ({"email": None, "phone": ""}, {}, None),
        # an explicit channel is kept, with or without the address
        ({"preferred_channel": SMS}, {"channel": EMAIL}, EMAIL),
        ({"email": None}, {"channel": EMAIL}, EMAIL),
        # marketing: the channels the member agreed to first
        ({"preferred_channel": SMS, "sms_consent": False}, {"marketing": True}, EMAIL),
        ({"preferred_channel": SMS, "sms_consent": False}, {}, SMS),
        ({"email_consent": False}, {"marketing": True}, SMS),
        # agreed to none: the usual choice, which delivery then suppresses
        (
            {"preferred_channel": SMS, "email_consent": False, "sms_consent": False},
            {"marketing": True},
            SMS,
        ),
    ],
)
def test_member_channel(fields, kwargs, expected):
    assert member_channel(_bare(**fields), **kwargs) == expected


def test_explicit_channel_without_the_address_is_suppressed_not_moved(store):
    """A message asked for by email reaches a member without an email address
    by nothing else (its text was written for email): the row is written and
    suppressed, for every sender as for a campaign set to one channel."""
    from campaigns.messaging.services import message_send

    member = _member(store, "prefers_email")
    Member.objects.filter(pk=member.pk).update(email=None)
    member.refresh_from_db()
    message = message_send(
        member=member, key="k", kind="x", subject="s", body="b", channel=EMAIL
    )
    assert (message.channel, message.to, message.status) == (EMAIL, "", "suppressed")
    assert message.error == "no address for this channel"
