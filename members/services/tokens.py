"""API tokens: the tills' credentials for the POS API."""

from __future__ import annotations

import functools
import hashlib
import secrets

from django.db import connection
from django.utils import timezone

from members.audit import StaffActor, audited_delete
from members.models import ApiToken, Store
from members.rows import columns_sql, instance_from_row, row_fetch


def api_token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_create(*, store: Store, name: str) -> tuple[ApiToken, str]:
    """Create a till token; returns the row and the raw token, which is shown once only."""
    raw = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        store=store, name=name or "till", key_hash=api_token_hash(raw), prefix=raw[:8]
    )
    return token, raw


def api_token_revoke(*, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


def api_token_delete(*, token: ApiToken, actor: StaffActor | None = None) -> None:
    """Delete a till token (the admin; revoking keeps it listed), with the audit
    row of `actor`. Locks nothing; queues nothing."""
    audited_delete(obj=token, actor=actor)


def api_token_check(raw: str) -> ApiToken | None:
    """The active token whose hash matches `raw`, with its store, or None."""
    if not raw:
        return None
    # Looked up by its SHA-256: the index compares hashes, never the secret itself.
    row = row_fetch(_token_sql(connection.vendor), [api_token_hash(raw), True])
    if row is None:
        return None
    width = len(ApiToken._meta.concrete_fields)
    token = instance_from_row(ApiToken, row[:width])
    token.store = instance_from_row(Store, row[width:])
    return token


@functools.cache
def _token_sql(vendor: str) -> str:
    """api_token_check's statement, written once: every till request runs it
    (members.rows says why not through the ORM)."""
    quote = connection.ops.quote_name
    return (
        f"SELECT {columns_sql(ApiToken, 't')}, {columns_sql(Store, 's')}"  # noqa: S608 - names from the models
        f" FROM {quote(ApiToken._meta.db_table)} t"
        f" JOIN {quote(Store._meta.db_table)} s ON s.id = t.store_id"
        " WHERE t.key_hash = %s AND t.revoked_at IS NULL AND s.is_active = %s"
    )
