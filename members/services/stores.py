"""Stores and the coalition's partners."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from members.audit import StaffActor, audited_delete, audited_save
from members.models import Partner, Store
from members.services.tokens import api_tokens_changed


def store_get_or_create(
    *,
    code: str,
    name: str | None = None,
    address: str = "",
    timezone_name: str | None = None,
) -> tuple[Store, bool]:
    """The store with this code, created with the given details when missing."""
    return Store.objects.get_or_create(
        code=code,
        defaults={
            "name": name or code,
            "address": address,
            "timezone": timezone_name or settings.TIME_ZONE,
        },
    )


def store_save(*, store: Store, actor: StaffActor | None = None) -> Store:
    """Add or change a store as staff edited it (the admin): validated, saved,
    with the audit row of `actor`. Locks nothing; queues nothing."""
    return audited_save(obj=store, actor=actor)


def store_delete(*, store: Store, actor: StaffActor | None = None) -> None:
    """Delete a store with the audit row of `actor`. Receipts, vouchers and
    the figures protect their store (ProtectedError), so only a store nothing
    happened at goes; its till tokens go with it. Queues nothing."""
    audited_delete(obj=store, actor=actor)


def partner_save(*, partner: Partner, actor: StaffActor | None = None) -> Partner:
    """Add or change a coalition partner as staff edited it (the admin):
    validated, with the audit row of `actor`. Its stores are set on the
    stores. Locks nothing; queues nothing."""
    return audited_save(obj=partner, actor=actor)


def partner_create(
    *,
    name: str,
    stores: list[Store] = (),
    contact_email: str = "",
    contact_phone: str = "",
    point_value=None,
) -> Partner:
    """A coalition partner and the stores that are its tills (seed data, scripts;
    staff use the Partner admin). Validates; one transaction; queues nothing."""
    partner = Partner(
        name=name,
        contact_email=contact_email,
        contact_phone=contact_phone,
        point_value=point_value,
    )
    partner.full_clean()
    with transaction.atomic():
        partner.save()
        Store.objects.filter(pk__in=[s.pk for s in stores]).update(partner=partner)
        api_tokens_changed()  # an update() sends no signal; tills carry the store
    return partner
