"""Reads of the bonus and referral settings."""

from __future__ import annotations

from members.singletons import singleton_read
from rewards.models import BonusSettings


def bonus_settings_get() -> BonusSettings:
    """The one BonusSettings row (every bonus off until a Manager sets amounts).
    Before the row exists, an unsaved row with the defaults: a selector never
    writes; bonus_settings_ensure creates the row."""
    return singleton_read(BonusSettings)
