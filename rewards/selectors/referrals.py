"""Reads of the bonus and referral settings."""

from __future__ import annotations

from rewards.models import BonusSettings


def bonus_settings_get() -> BonusSettings:
    """The one BonusSettings row (every bonus off until a Manager sets amounts)."""
    obj, _created = BonusSettings.objects.get_or_create(pk=1)
    return obj
