"""seed_demo writes the leaving-question demo: answers of lapsed members with
every trigger but deletion, spread over months, "Other" with words, and a
complaint about prices."""

from io import StringIO

import pytest
from django.core.management import call_command

from campaigns.models import Complaint
from members.models import LeaveAnswer, LeaveReason

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_groups")]


def test_seed_demo_writes_asked_churn_reasons():
    out = StringIO()
    call_command("seed_demo", members=40, months=6, stdout=out)
    assert "Churn reasons, asked:" in out.getvalue()
    answers = LeaveAnswer.objects.select_related("reason")
    assert answers.count() >= 5
    assert {a.trigger for a in answers} >= {"win_back", "unsubscribed"}
    assert len({a.answered_at.strftime("%Y-%m") for a in answers}) >= 2
    assert all(a.text == "" for a in answers if not a.reason.asks_text)
    assert all(a.store_id for a in answers)
    assert Complaint.objects.filter(topic="price").exists()
    # The reasons members chose from are in all four languages.
    assert not LeaveReason.objects.filter(name_ru__isnull=True).exists()
    assert not LeaveReason.objects.filter(name_ro="").exists()
