"""Back office for people and places: staff users, stores, members, tokens, consent.

Members are enrolled and changed through members.services; the admin never
saves them itself. rewards.admin.members extends the member admin with the
points ledger, the adjustment page and the CSV import.
"""

from members.admin import (  # noqa: F401
    branding,
    churn,
    interests,
    members,
    records,
    staff,
    webhooks,
)
from members.admin.members import MemberAdmin

__all__ = ["MemberAdmin"]
