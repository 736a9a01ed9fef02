"""Models of the campaigns app: segments, messages (and, as they arrive, campaigns,
journeys, surveys, complaints and events)."""

from campaigns.models.campaigns import (
    CONTENT_LANGUAGES,
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
from campaigns.models.messages import Message, MessageStatus
from campaigns.models.segments import Segment, SegmentKind, SegmentStaticMember

__all__ = [
    "ContentKind",
    "ContentPage",
    "Event",
    "EventKind",
    "EventRsvp",
    "EventStatus",
    "RsvpStatus",
    "CONTENT_LANGUAGES",
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
    "Message",
    "MessageStatus",
    "Segment",
    "SegmentKind",
    "SegmentStaticMember",
]
