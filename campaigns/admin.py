"""Back office for campaigns: each area registers its ModelAdmins in its own
admin module, imported here so Django's admin autodiscovery finds them."""

from campaigns.events import admin as events_admin  # noqa: F401
from campaigns.feedback import admin as feedback_admin  # noqa: F401
from campaigns.feedback import survey_admin  # noqa: F401
from campaigns.journeys import admin as journeys_admin  # noqa: F401
from campaigns.messaging import admin as messaging_admin  # noqa: F401
from campaigns.promocodes import admin as promocodes_admin  # noqa: F401
from campaigns.segments import admin as segments_admin  # noqa: F401
from campaigns.sending import admin as sending_admin  # noqa: F401
