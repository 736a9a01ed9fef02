"""Consent per channel (member_consent_set): every change is a history row."""

from __future__ import annotations

import pytest
from django.utils import translation

from members.errors import InvalidInput
from members.models import Channel, ConsentSource
from members.services import member_consent_set
from members.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


# --- consent ---------------------------------------------------------------------------


class TestConsent:
    def test_consent_change_is_kept_in_history(self, member):
        staff = UserFactory(is_staff=True)

        changed = member_consent_set(
            member=member,
            channel=Channel.EMAIL,
            granted=True,
            source=ConsentSource.ADMIN,
            changed_by=staff,
        )

        assert changed is True
        member.refresh_from_db()
        assert member.email_consent is True
        assert member.email_consent_source == ConsentSource.ADMIN
        assert member.email_consent_at is not None
        event = member.consent_events.get()
        assert (event.channel, event.granted, event.changed_by) == (
            Channel.EMAIL,
            True,
            staff,
        )

    def test_setting_the_same_value_writes_nothing(self, member):
        member_consent_set(
            member=member, channel="sms", granted=True, source=ConsentSource.PORTAL
        )
        member.refresh_from_db()
        at = member.sms_consent_at

        changed = member_consent_set(
            member=member, channel="sms", granted=True, source=ConsentSource.ADMIN
        )

        assert changed is False
        member.refresh_from_db()
        assert member.sms_consent_at == at
        assert member.sms_consent_source == ConsentSource.PORTAL
        assert member.consent_events.count() == 1

    def test_withdrawal_is_a_new_history_row(self, member):
        for granted in (True, False, False, True):
            member_consent_set(
                member=member,
                channel="email",
                granted=granted,
                source=ConsentSource.UNSUBSCRIBE,
            )

        assert list(
            member.consent_events.order_by("id").values_list("granted", flat=True)
        ) == [True, False, True]

    def test_unknown_channel_is_refused(self, member):
        with pytest.raises(InvalidInput, match=r"^Unknown channel\.$"):
            member_consent_set(
                member=member, channel="fax", granted=True, source=ConsentSource.ADMIN
            )
