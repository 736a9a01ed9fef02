"""The program's settings row and its active earning rules."""

from __future__ import annotations

from django.conf import settings

from members.singletons import singleton_read
from rewards.models import EarningRule, ProgramSettings, RuleStatus


def program_settings_get() -> ProgramSettings:
    """The program settings row. Before it exists (migration 0002 creates it; a
    transactional test empties the table), an unsaved row with the defaults:
    a selector never writes, program_settings_ensure creates the row."""
    return singleton_read(ProgramSettings, currency=settings.LOYALTY_CURRENCY)


def earning_rules_active(*, status: str = RuleStatus.ACTIVE) -> list[EarningRule]:
    """The rules purchases earn by, each with `store_ids` (empty = every store)."""
    rules = list(EarningRule.objects.filter(status=status).prefetch_related("stores"))
    for rule in rules:
        rule.store_ids = {store.pk for store in rule.stores.all()}
    return rules
