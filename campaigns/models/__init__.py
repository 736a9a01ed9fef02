"""Models of the campaigns app: segments, messages (and, as they arrive, campaigns,
journeys, surveys, complaints and events)."""

from campaigns.models.feedback import (
    OPEN_STATUSES,
    Complaint,
    ComplaintMessage,
    ComplaintSender,
    ComplaintSource,
    ComplaintStatus,
    ComplaintTopic,
    Survey,
    SurveyInvitation,
    SurveyKind,
    SurveyResponse,
)
from campaigns.models.messages import Message, MessageStatus
from campaigns.models.segments import Segment, SegmentKind, SegmentStaticMember

__all__ = [
    "OPEN_STATUSES",
    "Complaint",
    "ComplaintMessage",
    "ComplaintSender",
    "ComplaintSource",
    "ComplaintStatus",
    "ComplaintTopic",
    "Survey",
    "SurveyInvitation",
    "SurveyKind",
    "SurveyResponse",
    "Message",
    "MessageStatus",
    "Segment",
    "SegmentKind",
    "SegmentStaticMember",
]
