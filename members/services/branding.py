"""The program's branding row (name, logo, colours, favicon)."""

from __future__ import annotations

from members.audit import StaffActor, audited_save
from members.errors import InvalidInput
from members.models import Branding
from members.singletons import singleton_ensure


def branding_ensure() -> Branding:
    """The branding row, created with the defaults when it does not exist yet
    (members migration 0020 creates it; a transactional test empties the
    table). Locks nothing; queues nothing."""
    return singleton_ensure(Branding)


def branding_save(*, branding: Branding, actor: StaffActor | None = None) -> Branding:
    """Save the branding as staff edited it (the admin): validated, with the
    audit row of `actor`. Pages, emails and the app manifest use it from their
    next read (the cached copy is cleared on save, members.branding). Locks
    nothing; queues nothing."""
    return audited_save(obj=branding, actor=actor)


def branding_update(**values) -> Branding:
    """Set branding fields from seed data, scripts or tests: only editable
    fields, validated, one save."""
    row = branding_ensure()
    editable = {f.name for f in Branding._meta.concrete_fields if f.editable}
    unknown = set(values) - editable
    if unknown:
        raise InvalidInput(f"Not fields of Branding: {', '.join(sorted(unknown))}")
    for name, value in values.items():
        setattr(row, name, value)
    return branding_save(branding=row)
