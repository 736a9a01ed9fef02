"""What every purchase reads and staff rarely change, kept in each process.

The program settings, tiers, active earning rules (with their stores) and
active stamp programs (with their stores and reward) are read once per process
and kept until the settings row's `config_version` token changes. Every
purchase reads that token in the statement that locks the member's account, so
a change made by any process reaches every other process at its next purchase,
with no shared cache to configure. The token changes in the same transaction
as the change (signals below, the one place this project uses them: cache
invalidation), and services that change these rows with `QuerySet.update()`,
which sends no signal, call `earn_config_changed()`.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

from django.db.models.signals import m2m_changed, post_delete, post_save

from rewards.models import (
    EarningRule,
    ProgramSettings,
    Reward,
    StampProgram,
    Tier,
)
from rewards.models.program import config_token
from rewards.selectors.program import earning_rules_active, program_settings_get


@dataclass(frozen=True)
class EarnConfig:
    version: str
    settings: ProgramSettings
    tiers: tuple[Tier, ...]
    rules: tuple[EarningRule, ...]
    stamp_programs: tuple[StampProgram, ...]

    def stamp_programs_running(self, *, store_id: int, on: dt.date) -> list:
        """As rewards.services.stamps.stamp_programs_running, from memory."""
        return [
            p
            for p in self.stamp_programs
            if (p.starts_on is None or p.starts_on <= on)
            and (p.ends_on is None or p.ends_on >= on)
            and (not p.store_ids or store_id in p.store_ids)
        ]


_held: EarnConfig | None = None
_lock = threading.Lock()
loads = 0  # how many times this process read the configuration (tests look)


def _load() -> EarnConfig:
    # Labelled with the token read together with the settings; rows read after
    # it can only be newer, and a newer token makes the next purchase reload.
    conf = program_settings_get()
    rules = earning_rules_active()
    programs = list(
        StampProgram.objects.filter(active=True)
        .select_related("reward")
        .prefetch_related("stores")
        .order_by("pk")
    )
    for program in programs:
        program.store_ids = {store.pk for store in program.stores.all()}
    return EarnConfig(
        version=conf.config_version,
        settings=conf,
        tiers=tuple(Tier.objects.filter(is_active=True).order_by("rank")),
        rules=tuple(rules),
        stamp_programs=tuple(programs),
    )


def earn_config_get(version: str | None) -> EarnConfig:
    """The configuration for the settings row's token `version` (None when the row
    does not exist yet), read again only when it moved."""
    global _held, loads
    held = _held
    if held is not None and version is not None and held.version == version:
        return held
    with _lock:
        fresh = _load()
        _held = fresh
        loads += 1
    return fresh


def earn_config_changed(**_signal_kwargs) -> None:
    """A new token: every process reloads at its next purchase."""
    ProgramSettings.objects.filter(pk=1).update(config_version=config_token())


def _reward_saved(*, update_fields=None, **kwargs) -> None:
    # Redemptions and refunds save the stock on every voucher; stamp cards (the
    # only users of the reward held here) take no stock, so that is no change.
    if update_fields is None or not set(update_fields) <= {"stock", "updated_at"}:
        earn_config_changed()


def _settings_saved(*, created=False, **kwargs) -> None:
    if not created:  # a new row comes with a token of its own
        earn_config_changed()


def connect() -> None:
    # The settings row itself: its own save (admin, settings_row_update) gets a
    # new token too, since purchases hold the row.
    post_save.connect(
        _settings_saved, sender=ProgramSettings, dispatch_uid="earn-config-settings"
    )
    for model in (Tier, EarningRule, StampProgram, Reward):
        uid = f"earn-config-{model.__name__}"
        post_delete.connect(earn_config_changed, sender=model, dispatch_uid=uid)
        if model is not Reward:
            post_save.connect(earn_config_changed, sender=model, dispatch_uid=uid)
    post_save.connect(_reward_saved, sender=Reward, dispatch_uid="earn-config-Reward")
    for through in (EarningRule.stores.through, StampProgram.stores.through):
        m2m_changed.connect(
            earn_config_changed, sender=through, dispatch_uid=f"earn-config-{through}"
        )
