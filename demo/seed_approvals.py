"""Work waiting in every approval queue, so a Manager who logs in finds some:
points adjustments above the approval threshold asked for by one Manager and
waiting for the other (one a complaint's compensation), a large adjustment the
second Manager approved, anomaly flags from the nightly scan of the last two
weeks, and (planned with the members, demo.seed_plan) a family referral held
for review. seed_demo calls `seed` after the feedback demo.

Everything goes through the services, as staff would do it. Partner
settlements are computed per month (rewards.selectors.partners) and have no
approval step, so they need nothing here.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from campaigns.feedback.services import complaint_file, complaint_resolve
from members.audit import StaffActor
from members.models import Member
from rewards.models import (
    AdjustmentRequest,
    AdjustmentStatus,
    AnomalyFlag,
    AnomalyStatus,
    Referral,
    ReferralStatus,
)
from rewards.selectors.controls import staff_controls_get
from rewards.services import adjustment_approve, adjustment_request
from rewards.services.anomalies import anomalies_scan

SCAN_DAYS = 14
# (who asks, points above the approval threshold, reason); the other Manager
# approves or refuses.
WAITING = [
    ("manager", 100, "Compensation: a birthday cake order delivered a day late"),
    ("manager2", 250, "Points for a catering order rung up without the card"),
]
COMPLAINT = (
    "Замовлення на 12 осіб привезли холодним, довелося все розігрівати.",
    150,  # goodwill above the threshold: waits for the other Manager
)
# Approved by the second Manager at once; above the anomaly size, so flagged.
LARGE = ("manager", 200, "Points for a corporate order entered by hand")


def _members() -> list[Member]:
    """Customers without a portal login, past the ones the feedback demo uses."""
    return list(Member.objects.filter(user__isnull=True).order_by("pk")[10:14])


def seed(*, command) -> None:
    """Write the queue items (see the module docstring) and say how many wait."""
    staff = command.staff
    managers = {name: StaffActor(user=staff[name]) for name in ("manager", "manager2")}
    controls = staff_controls_get()
    threshold = controls.adjustment_approval_threshold
    members = _members()
    if len(members) < 4 or not threshold:
        command.stdout.write("Approvals: too few members for the queue demo.")
        return
    stamp = f"{command.seed}"
    for (who, over, reason), member in zip(WAITING, members, strict=False):
        adjustment_request(
            member=member,
            points=threshold + over,
            reason=reason,
            actor=managers[who],
            idempotency_key=f"demo-waiting-{who}-{stamp}",
        )

    body, over = COMPLAINT
    complaint = complaint_file(
        member=members[2],
        topic="product",
        body=body,
        at=command.end - dt.timedelta(hours=20),
    )
    complaint_resolve(
        complaint_id=complaint.pk,
        actor=managers["manager"],
        goodwill_points=threshold + over,
    )

    who, over, reason = LARGE
    large = adjustment_request(
        member=members[3],
        points=max(threshold, controls.anomaly_adjustment_points) + over,
        reason=reason,
        actor=managers[who],
        idempotency_key=f"demo-large-{stamp}",
    )
    adjustment_approve(adjustment_id=large.pk, actor=managers["manager2"])

    today = timezone.localdate()
    flagged = 0
    for back in range(SCAN_DAYS, -1, -1):
        flagged += len(anomalies_scan(day=today - dt.timedelta(days=back)))
    command.stdout.write(
        "Approvals waiting: "
        f"{AdjustmentRequest.objects.filter(status=AdjustmentStatus.PENDING).count()} "
        "adjustments, "
        f"{AnomalyFlag.objects.filter(status=AnomalyStatus.OPEN).count()} anomaly "
        f"flags ({flagged} from the scan of the last {SCAN_DAYS} days), "
        f"{Referral.objects.filter(status=ReferralStatus.REVIEW).count()} "
        "referrals to review."
    )
