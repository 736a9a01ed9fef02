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


PLUGGED = [c for c in CHANNELS if c not in (Channel.EMAIL, Channel.SMS)]


@pytest.mark.parametrize("channel", PLUGGED)
def test_its_outbox_is_offered_only_under_debug(channel, settings):
    """One availability rule for every plugged-in channel: its development
    Outbox is offered under `make run` (DEBUG) and never to real customers;
    another backend only when its provider is configured."""
    assert channel in messages._AVAILABLE, f"register availability for {channel}"
    backend_setting, configured = messages._AVAILABLE[channel]
    outbox = getattr(settings, backend_setting).rpartition(".")[0] + ".OutboxBackend"
    setattr(settings, backend_setting, outbox)
    settings.DEBUG = True
    assert messages.channel_available(channel)
    settings.DEBUG = False
    assert not messages.channel_available(channel)
    setattr(settings, backend_setting, outbox.replace("Outbox", "Provider"))
    assert messages.channel_available(channel) == bool(configured())
