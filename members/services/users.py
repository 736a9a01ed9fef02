"""Logins (staff and customer users) as the admin's user forms edit them."""

from __future__ import annotations

from members.audit import StaffActor, audited_delete, audited_save
from members.models import User


def user_save(*, user: User, actor: StaffActor | None = None) -> User:
    """Add or change a staff or customer login as the admin's user forms left it
    (the password already hashed by the form), with the audit row of `actor`
    naming the fields changed (never their values). Groups and permissions are
    the form's many-to-many, saved after this. Locks nothing; queues nothing."""
    return audited_save(obj=user, actor=actor, clean=False)


def user_delete(*, user: User, actor: StaffActor | None = None) -> None:
    """Delete a login with the audit row of `actor`. Ledger entries, adjustment
    requests and audit rows protect their user (ProtectedError): deactivate
    such a login instead. Queues nothing."""
    audited_delete(obj=user, actor=actor)
