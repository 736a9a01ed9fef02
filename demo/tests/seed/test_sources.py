"""The demo shows where every member came from: each of till, online (with
UTM parameters), referral, partner and import, and acquisition spend per
channel for the Acquisition page."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from analytics.models import MarketingSpend, SpendKind
from members.models import Member, MemberSource

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_groups")]


def test_every_demo_member_has_a_source_and_every_channel_has_spend(client):
    call_command("seed_demo", members=20, months=2, stdout=StringIO())

    sources = set(Member.objects.values_list("source", flat=True))
    assert sources == {
        MemberSource.TILL,
        MemberSource.ONLINE,
        MemberSource.REFERRAL,
        MemberSource.PARTNER,
        MemberSource.IMPORT,
    }
    online = Member.objects.filter(source=MemberSource.ONLINE)
    assert all(m.utm_source and m.first_seen_at < m.enrolled_at for m in online)
    demo = Member.objects.get(user__email="demo@example.com")
    assert (demo.source, demo.utm_source) == (MemberSource.ONLINE, "instagram")
    referred = Member.objects.filter(source=MemberSource.REFERRAL)
    assert referred.exists()
    assert all(m.referred_by_id for m in referred)
    channels = set(
        MarketingSpend.objects.filter(kind=SpendKind.ACQUISITION).values_list(
            "channel", flat=True
        )
    )
    assert {"online", "till", "referral", "partner"} <= channels

    client.login(username="marketer", password="marketer-demo")
    page = client.get(reverse("admin:analytics_acquisition"))
    assert page.status_code == 200
    by_channel = {r["channel"]: r for r in page.context["channel_rows"]}
    assert by_channel["online"]["spend"] > 0
    assert page.context["utm_rows"]
