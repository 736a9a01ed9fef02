"""seed_demo writes the feedback demo: surveys with answers, complaints in
every state (one with a reply to the demo customer, one with goodwill)."""

from io import StringIO

import pytest
from django.core.management import call_command

from campaigns.models import Complaint, ComplaintStatus, Survey, SurveyResponse
from demo.data import DEMO_EMAIL

# seed_demo needs the staff groups, which a transactional test may have emptied.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_groups")]


def test_seed_demo_writes_surveys_answers_and_complaints():
    out = StringIO()
    call_command("seed_demo", members=30, months=3, stdout=out)
    assert "Feedback: 2 surveys" in out.getvalue()
    nps = Survey.objects.get(kind="nps")
    assert nps.post_purchase and nps.active
    assert SurveyResponse.objects.filter(survey=nps).count() >= 30
    months = {r.created_at.month for r in SurveyResponse.objects.filter(survey=nps)}
    assert len(months) >= 2
    assert SurveyResponse.objects.filter(survey__kind="satisfaction").exists()
    statuses = set(Complaint.objects.values_list("status", flat=True))
    assert statuses >= {
        ComplaintStatus.NEW,
        ComplaintStatus.WAITING,
        ComplaintStatus.IN_PROGRESS,
        ComplaintStatus.RESOLVED,
        ComplaintStatus.CLOSED,
    }
    demo = Complaint.objects.get(member__email=DEMO_EMAIL)
    assert demo.messages.filter(sender="staff").exists()
    # Posted at once; the approvals demo adds one waiting above the threshold.
    goodwill = Complaint.objects.get(goodwill_adjustment__status="approved")
    assert goodwill.goodwill_points == 50
    assert goodwill.goodwill_adjustment.ledger_entry.reason == (
        f"Goodwill for complaint #{goodwill.pk}"
    )
