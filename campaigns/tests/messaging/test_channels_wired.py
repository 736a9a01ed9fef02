"""Every channel in members.models.Channel is wired through the whole delivery:
consent fields with their history, the portal's checkbox and its error, the
delivery log's name, a campaign and journey choice, an address and a backend.
It walks Channel, so a channel added later must be wired the same way."""

from __future__ import annotations

import pytest

from campaigns.messaging.backends import channel_backend
from campaigns.messaging.rules import CHANNEL_NAMES
from campaigns.models import CampaignChannel
from campaigns.models.journeys import JourneyChannel
from members import messages
from members.forms import CONSENT_LABELS, NO_ADDRESS_ERRORS
from members.models import Channel, ConsentEvent, Member

CHANNELS = list(Channel.values)


@pytest.mark.parametrize("channel", CHANNELS)
def test_the_member_has_consent_fields_for_it(channel):
    names = {f.name for f in Member._meta.get_fields()}
    assert {
        f"{channel}_consent",
        f"{channel}_consent_at",
        f"{channel}_consent_source",
    } <= names
    assert channel in dict(ConsentEvent._meta.get_field("channel").choices)


@pytest.mark.parametrize("channel", CHANNELS)
def test_the_portal_and_the_log_name_it(channel):
    assert channel in CONSENT_LABELS
    assert channel in NO_ADDRESS_ERRORS
    assert channel in CHANNEL_NAMES
    assert channel in CampaignChannel.values
    assert channel in JourneyChannel.values


@pytest.mark.parametrize("channel", CHANNELS)
def test_it_has_an_address_and_a_backend(channel):
    assert channel in messages._ADDRESSES, f"register an address for {channel}"
    if channel != Channel.EMAIL:  # delivery hands emails over itself
        assert callable(channel_backend(channel))
