"""Models of the campaigns app: segments, messages (and, as they arrive, campaigns,
journeys, surveys, complaints and events)."""

from campaigns.models.messages import Message, MessageStatus
from campaigns.models.segments import Segment, SegmentKind, SegmentStaticMember

__all__ = [
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
    JourneyText,
)

__all__ += [
    "SERVICE_JOURNEYS",
    "DeliverySettings",
    "Journey",
    "JourneyChannel",
    "JourneyKind",
    "JourneyText",
    "OutboxEntry",
]
