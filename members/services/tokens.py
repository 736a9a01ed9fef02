"""API tokens: the tills' credentials for the POS API."""

from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone

from members.audit import StaffActor, audited_delete
from members.models import ApiToken, Store


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
    """The active token whose hash matches `raw`, or None."""
    if not raw:
        return None
    # Looked up by its SHA-256: the index compares hashes, never the secret itself.
    return (
        ApiToken.objects.select_related("store")
        .filter(
            key_hash=api_token_hash(raw), revoked_at__isnull=True, store__is_active=True
        )
        .first()
    )
