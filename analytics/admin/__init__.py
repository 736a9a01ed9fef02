"""Back office for analytics: each area registers its ModelAdmins and views in
its own module, imported here so Django's admin autodiscovery finds them."""

from analytics import admin_rfm, admin_views  # noqa: F401
