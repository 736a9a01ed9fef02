"""seed_demo adds the demo campaigns: sent with figures, A/B, scheduled, draft."""

from io import StringIO

import pytest
from django.core.management import call_command

from campaigns.models import Campaign, CampaignStatus, Message
from campaigns.sending.selectors import campaign_latest_run, run_figures
from campaigns.sending.services import recipient_group
from members.models import Member

# seed_demo needs the staff groups, which a transactional test may have emptied.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_groups")]


def test_seed_demo_writes_the_demo_campaigns():
    out = StringIO()
    call_command("seed_demo", members=20, months=2, stdout=out)

    assert "Campaigns: 4" in out.getvalue()
    by_name = {c.name: c for c in Campaign.objects.all()}
    assert by_name["Points reminder"].status == CampaignStatus.SENT
    assert by_name["Weekend bonus A/B"].status == CampaignStatus.SENT
    assert by_name["Spring news"].status == CampaignStatus.SCHEDULED
    assert by_name["Draft: birthday month"].status == CampaignStatus.DRAFT
    sent = by_name["Points reminder"]
    assert Message.objects.filter(campaign=sent, opened_at__isnull=False).exists()
    figures = run_figures(
        run=campaign_latest_run(campaign=by_name["Weekend bonus A/B"])
    )
    assert [g.name for g in figures.variants] == ["A", "B"]
    assert (
        figures.recipients.members + figures.holdout.members == Member.objects.count()
    )
    # The holdout is drawn by a hash of (campaign, member): with 20 members it
    # may be empty (0.9^20 = 12 %), and the ids differ from run to run. So
    # count it the same way rather than hope it is not empty.
    weekend = by_name["Weekend bonus A/B"]
    held = sum(
        recipient_group(weekend, pk)[0]
        for pk in Member.objects.values_list("pk", flat=True)
    )
    assert figures.holdout.members == held
