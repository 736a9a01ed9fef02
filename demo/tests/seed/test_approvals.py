"""seed_demo leaves work in every approval queue, and two Managers to do it:
each waiting adjustment may be approved by a Manager other than who asked."""

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import translation

from campaigns.models import Complaint, ComplaintStatus
from demo.data import LOGINS
from members.audit import StaffActor
from members.models import User
from rewards.models import AdjustmentRequest, AdjustmentStatus
from rewards.services import adjustment_approve

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_groups")]

# A status whose label reads so is a queue a Manager works (adjustments,
# anomaly flags, referrals held for review, and whatever comes next).
QUEUE_LABELS = {"Waiting for approval", "Waiting for review"}


def _queue_states() -> list[tuple[type, str]]:
    found = []
    with translation.override("en"):
        for model in apps.get_models():
            for field in model._meta.concrete_fields:
                if field.name != "status" or not field.choices:
                    continue
                for value, label in field.choices:
                    if str(label) in QUEUE_LABELS:
                        found.append((model, value))
    return found


def test_every_approval_queue_has_work_and_two_managers_can_do_it():
    out = StringIO()
    call_command("seed_demo", members=30, months=3, stdout=out)

    states = _queue_states()
    assert {model.__name__ for model, _v in states} >= {
        "AdjustmentRequest",
        "AnomalyFlag",
        "Referral",
    }
    for model, value in states:
        assert model.objects.filter(status=value).exists(), (model.__name__, value)
    # The complaints queue: a new one, and a compensation waiting for approval.
    assert Complaint.objects.filter(status=ComplaintStatus.NEW).exists()
    compensation = Complaint.objects.get(goodwill_adjustment__status="pending")
    assert compensation.status == ComplaintStatus.RESOLVED
    assert "Approvals waiting: 3 adjustments" in out.getvalue()

    managers = list(User.objects.filter(groups__name="Manager", is_active=True))
    assert len(managers) == 2
    logins = {login for _who, login, _pw, _path in LOGINS}
    assert {m.username for m in managers} <= logins
    for request in AdjustmentRequest.objects.filter(status=AdjustmentStatus.PENDING):
        other = next(m for m in managers if m.pk != request.requested_by_id)
        approved, _replayed = adjustment_approve(
            adjustment_id=request.pk, actor=StaffActor(user=other)
        )
        assert approved.status == AdjustmentStatus.APPROVED
        assert approved.ledger_entry is not None
