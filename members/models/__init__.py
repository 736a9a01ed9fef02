"""People and places: staff users, partners, stores, members, consent, one-time
codes, API tokens, the staff audit log and erasures. One module per area;
everything is importable from here (and Django finds the models through it)."""

from members.models.audit import (  # noqa: F401
    AuditAction,
    AuditAppendOnlyError,
    StaffAuditEvent,
    StaffAuditEventQuerySet,
)
from members.models.branding import Branding  # noqa: F401
from members.models.churn import LeaveAnswer, LeaveReason, LeaveTrigger  # noqa: F401
from members.models.codes import ApiToken, OneTimeCode  # noqa: F401
from members.models.interests import Interest, InterestQuerySet  # noqa: F401
from members.models.members import (  # noqa: F401
    Channel,
    ConsentEvent,
    ConsentSource,
    Gender,
    Member,
    MemberSource,
    member_timezone_default,
    timezone_validate,
)
from members.models.privacy import ErasureSource, MemberErasure  # noqa: F401
from members.models.push import PushSubscription  # noqa: F401
from members.models.stores import Partner, Store  # noqa: F401
from members.models.users import User  # noqa: F401
from members.models.webhooks import (  # noqa: F401
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
    WebhookSequence,
)
