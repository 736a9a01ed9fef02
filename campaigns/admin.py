"""Back office for campaigns: each area registers its ModelAdmins in its own
module, imported here so Django's admin autodiscovery finds them."""

from campaigns import admin_delivery  # noqa: E402, F401
