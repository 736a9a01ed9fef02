"""Back office for people and places: staff users, stores, members, tokens, consent.

Members are enrolled and changed through members.services; the admin never
saves them itself. rewards.admin.members extends the member admin with the
points ledger, the adjustment page and the CSV import.
"""

from members.admin import branding, members, records, staff, webhooks  # noqa: F401
from members.admin.members import MemberAdmin

__all__ = ["MemberAdmin"]
