"""Models of the campaigns app: segments, messages (and, as they arrive, campaigns,
journeys, surveys, complaints and events)."""

from campaigns.models.campaigns import (
    Campaign,
    CampaignChannel,
    CampaignChunk,
    CampaignRecipient,
    CampaignRun,
    CampaignStatus,
    CampaignVariant,
    PromotionKind,
    Recurrence,
    RunStatus,
    VariantLabel,
)
from campaigns.models.events import (
    ContentKind,
    ContentPage,
    Event,
    EventKind,
    EventRsvp,
    EventStatus,
    RsvpStatus,
)
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
    SurveyTrigger,
)
from campaigns.models.messages import Message, MessageStatus
from campaigns.models.segments import Segment, SegmentKind, SegmentStaticMember
from campaigns.models.survey_questions import (
    QuestionKind,
    SurveyAnswer,
    SurveyChoice,
    SurveyQuestion,
)

__all__ = [
    "ContentKind",
    "ContentPage",
    "Event",
    "EventKind",
    "EventRsvp",
    "EventStatus",
    "RsvpStatus",
    "Campaign",
    "CampaignChannel",
    "CampaignChunk",
    "CampaignRecipient",
    "CampaignRun",
    "CampaignStatus",
    "CampaignVariant",
    "PromotionKind",
    "Recurrence",
    "RunStatus",
    "VariantLabel",
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
from campaigns.models.delivery import DeliverySettings, OutboxEntry  # noqa: E402
from campaigns.models.journeys import (  # noqa: E402
    SERVICE_JOURNEYS,
    Journey,
    JourneyChannel,
    JourneyKind,
)

__all__ += [
    "SERVICE_JOURNEYS",
    "DeliverySettings",
    "Journey",
    "JourneyChannel",
    "JourneyKind",
    "OutboxEntry",
]
from campaigns.models.promocodes import PromoCodeTargeting  # noqa: E402

__all__ += ["PromoCodeTargeting"]

__all__ += [
    "QuestionKind",
    "SurveyAnswer",
    "SurveyChoice",
    "SurveyQuestion",
    "SurveyTrigger",
]
from campaigns.models.telegram import TelegramUpdate  # noqa: E402

__all__ += ["TelegramUpdate"]
