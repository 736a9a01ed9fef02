"""Back office for analytics: each area registers its ModelAdmins and views in
its own module, imported here so Django's admin autodiscovery finds them."""

from analytics.admin import (  # noqa: F401
    dashboards,
    inputs,
    member360,
    recommend,
    rfm,
)
