"""Every action another area writes to the staff audit log is one of the
AuditAction choices, so the admin shows its label rather than the raw code."""

from campaigns.events import checkin
from campaigns.feedback import services as services_feedback
from members.models import AuditAction


def test_actions_written_by_events_and_complaints_are_audit_choices():
    written = {
        checkin.AUDIT_EVENT_CHECKIN,
        services_feedback.AUDIT_COMPLAINT_LOGGED,
        services_feedback.AUDIT_COMPLAINT_REPLIED,
        services_feedback.AUDIT_COMPLAINT_STATUS,
        services_feedback.AUDIT_COMPLAINT_ASSIGNED,
    }
    assert written <= set(AuditAction.values)


def test_the_new_actions_have_their_own_labels():
    labels = dict(AuditAction.choices)
    assert labels["event.checkin"] == "Checked a member in at an event"
    assert labels["complaint.assigned"] == "Assigned a complaint"
    assert all(labels[v] != v for v in AuditAction.values)


def test_campaign_and_back_office_actions_have_their_own_labels():
    labels = dict(AuditAction.choices)
    assert labels["campaign.sent"] == "Sent a campaign"
    assert labels["campaign.scheduled"] == "Scheduled a campaign"
    assert labels["campaign.cancelled"] == "Cancelled a campaign"
    assert labels["record.changed"] == "Changed a back-office record"
    assert max(len(value) for value in AuditAction.values) <= 32  # the column
