"""Back office for points, one module per area. Everything but the settings,
the catalog, tiers, earning rules, stamp programs and membership plans is
read-only: receipts come from the tills and the Counter, and the ledger changes
only through the services (a manual correction is the "Adjust points" page of a
member). Importing this package registers every rewards ModelAdmin."""

from rewards.admin import (  # noqa: F401
    catalog,
    controls,
    earning,
    ledger,
    members,
    memberships,
    partners,
    payments,
    promocodes,
    referrals,
    stamps,
    tiers,
    wallet,
)
