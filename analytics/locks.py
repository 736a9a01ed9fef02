"""Row locks on analytics' rows. The order is in rewards/locks.py."""

from __future__ import annotations

from analytics.models import RefreshState


def refresh_state_lock() -> RefreshState:
    """The one RefreshState row (pk 1), taken alone: one snapshot refresh at a time."""
    return RefreshState.objects.select_for_update().get(pk=1)
