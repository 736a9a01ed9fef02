"""Earning rules: saving, activating a draft (replacing the rule it changes),
pausing; the program settings and the one-row settings tables."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from members.audit import StaffActor, audited_save
from members.errors import InvalidInput
from members.models import Store
from members.singletons import singleton_ensure
from rewards.earn_config import earn_config_changed
from rewards.locks import earning_rule_lock
from rewards.models import EarningRule, ProgramSettings, RuleKind, RuleStatus
from rewards.selectors.program import program_settings_get


def program_settings_ensure() -> ProgramSettings:
    """The program settings row, created with the defaults when it does not exist
    yet (migration 0002 creates it; a transactional test empties the table).
    Locks nothing; queues nothing."""
    return singleton_ensure(ProgramSettings, currency=settings.LOYALTY_CURRENCY)


def program_settings_save(
    *, settings_row: ProgramSettings, actor: StaffActor | None = None
) -> ProgramSettings:
    """Save the program settings row as a Manager edited it (the admin):
    validated, with the audit row of `actor`; applies from the next write.
    Locks nothing; queues nothing (the earning cache hears the save)."""
    return audited_save(obj=settings_row, actor=actor)


def settings_row_update(row, **values):
    """Set fields of a one-row settings table (bonus or program settings) from
    seed data or scripts: only editable fields, validated, one save."""
    model = type(row)
    unknown = set(values) - {f.name for f in model._meta.concrete_fields if f.editable}
    if unknown:
        raise InvalidInput(
            f"Not fields of {model.__name__}: {', '.join(sorted(unknown))}"
        )
    for name, value in values.items():
        setattr(row, name, value)
    row.full_clean()
    row.save()
    return row


def program_settings_update(**values) -> ProgramSettings:
    """Set the earning and burning settings (rates, minimum, expiry, pending days)
    from seed data or scripts; staff use the admin. Applies from the next write."""
    return settings_row_update(program_settings_get(), **values)


def earning_rule_check(rule: EarningRule) -> None:
    """What the admin form and the service both refuse (InvalidInput naming the field)."""
    if rule.kind == RuleKind.FIXED and not rule.points_per_unit:
        raise InvalidInput(
            _("Give the bonus points per unit."), field="points_per_unit"
        )
    if rule.kind in (RuleKind.MULTIPLIER, RuleKind.PROMOTION) and rule.multiplier == 1:
        raise InvalidInput(
            _("A multiplier of 1 changes nothing; give another one."),
            field="multiplier",
        )
    if rule.replaces_id and rule.replaces_id == rule.pk:
        raise InvalidInput(_("A rule cannot replace itself."), field="replaces")


def earning_rule_save(
    *, rule: EarningRule, stores: Iterable[Store] | None = None
) -> EarningRule:
    """Validate and write a rule and its stores. Applies from the next purchase;
    past purchases keep what they earned. Locks and queues nothing."""
    earning_rule_check(rule)
    rule.weekdays = "".join(sorted(set(rule.weekdays or "") & set("0123456")))
    rule.full_clean()
    with transaction.atomic():
        rule.save()
        if stores is not None:
            rule.stores.set(stores)
    return rule


def earning_rule_activate(*, rule: EarningRule) -> EarningRule:
    """Put a draft or paused rule into force; a draft that replaces a rule pauses
    that rule in the same transaction, so the two never apply together."""
    with transaction.atomic():
        rule = earning_rule_lock(rule_id=rule.pk)
        if rule.replaces_id:
            EarningRule.objects.filter(pk=rule.replaces_id).update(
                status=RuleStatus.PAUSED
            )
            earn_config_changed()  # update() sends no signal
        rule.status = RuleStatus.ACTIVE
        rule.save(update_fields=["status", "updated_at"])
    return rule


def earning_rule_pause(*, rule: EarningRule) -> EarningRule:
    """Stop a rule from applying to new purchases (it can be activated again)."""
    with transaction.atomic():
        EarningRule.objects.filter(pk=rule.pk).update(status=RuleStatus.PAUSED)
        earn_config_changed()  # update() sends no signal
    rule.status = RuleStatus.PAUSED
    return rule
