"""Back office for campaigns: each area registers its ModelAdmins in its own
module, imported here so Django's admin autodiscovery finds them."""

from campaigns import (  # noqa: F401
    admin_campaigns,
    admin_delivery,
    admin_events,
    admin_feedback,
    admin_segments,
)
