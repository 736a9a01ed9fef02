"""Reads of the staff controls (the limits on what staff may do with points)."""

from __future__ import annotations

from rewards.models import StaffControls


def staff_controls_get() -> StaffControls:
    """The one StaffControls row (created with the default limits)."""
    obj, _created = StaffControls.objects.get_or_create(pk=1)
    return obj
