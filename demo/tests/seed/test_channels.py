"""The demo shows every channel: for each one (Channel's choices, so a channel
added later must be seeded too) some members prefer it and agreed to it, and
have what it needs to reach them."""

from io import StringIO

import pytest
from django.core.management import call_command

from members.models import Channel, ConsentEvent, Member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_groups")]

# What each channel needs of a member besides consent.
ADDRESS = {
    Channel.EMAIL: lambda m: bool(m.email),
    Channel.SMS: lambda m: bool(m.phone),
    Channel.VIBER: lambda m: bool(m.phone),
    Channel.TELEGRAM: lambda m: bool(m.telegram_chat_id),
    Channel.PUSH: lambda m: m.push_devices > 0,
}


def test_every_channel_has_demo_members_who_prefer_it_and_agreed():
    out = StringIO()
    call_command("seed_demo", members=20, months=2, stdout=out)

    assert set(ADDRESS) == set(Channel.values)
    for channel in Channel.values:
        preferring = Member.objects.filter(
            preferred_channel__in=[channel]
            + ([""] if channel == Channel.EMAIL else []),  # email: the default
            **{f"{channel}_consent": True},
        )
        members = [m for m in preferring if ADDRESS[channel](m)]
        assert members, f"no demo member prefers and can be reached on {channel}"
        granted = ConsentEvent.objects.filter(
            member__in=members, channel=channel, granted=True
        )
        assert granted.exists(), channel
    demo = Member.objects.get(user__email="demo@example.com")
    assert demo.preferred_channel == ""  # the tour's customer keeps email
    assert "Channels: members who prefer" in out.getvalue()
