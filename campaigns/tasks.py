"""The Celery tasks of the campaigns app, one module per area. Celery
autodiscovers `campaigns.tasks`, and CampaignsConfig.ready imports it so every
process knows the tasks that services queue by name (campaigns.queueing). The
task names are those the beat schedule (settings.CELERY_BEAT_SCHEDULE) and
queued messages use: campaigns.tasks.* and campaigns.tasks_feedback.*."""

from campaigns.events.tasks import (  # noqa: F401
    event_cancelled_notify,
    event_reminders_send_due,
)
from campaigns.feedback.tasks import (  # noqa: F401
    survey_invites_send,
    survey_invites_send_due,
)
from campaigns.journeys.tasks import (  # noqa: F401
    journey_birthday_due,
    journey_points_expiring_due,
    journey_send_chunk,
    journey_tier_change_due,
    journey_voucher_reminder_due,
    journey_welcome_due,
    journey_win_back_due,
)
from campaigns.messaging.tasks import (  # noqa: F401
    message_deliver,
    messages_requeue_due,
    viber_statuses_poll,
)
from campaigns.sending.tasks import (  # noqa: F401
    campaign_bonuses_grant_due,
    campaign_chunk_send,
    campaigns_dispatch_due,
)
from campaigns.telegram.tasks import telegram_answers_send  # noqa: F401
