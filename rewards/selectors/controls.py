"""Reads of the staff controls (the limits on what staff may do with points)."""

from __future__ import annotations

from members.singletons import singleton_read
from rewards.models import StaffControls


def staff_controls_get() -> StaffControls:
    """The one StaffControls row. Before the row exists, an unsaved row with the
    default limits: a selector never writes; staff_controls_ensure creates it."""
    return singleton_read(StaffControls)
