"""API tokens: the tills' credentials for the POS API.

Every till request checks its token. With a cache every process shares
(Redis: settings.API_TOKEN_CACHE), each process keeps the tokens it has found,
with their stores, and uses them again while the cache's token generation is
the one it found them under: one cache read per request instead of a
statement. Any save or delete of a token or a store (signals, cache
invalidation only: members.apps) sets a new generation at once and again when
the transaction commits, so a revocation, a closed store or a store moved to
another partner reaches every process by its next request. A generation the
cache lost (evicted, flushed) is a new one, so it can only make processes read
again. With the database cache (`make run`) or a per-process one it is off: the
statement is the check.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from members.audit import StaffActor, audited_delete
from members.invalidation import forget_now_and_on_commit
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


GENERATION_KEY = "api-tokens:generation"
HELD_MAX = 1024  # tokens one process keeps; past it, it starts again
# key_hash -> (the token with its store, the generation it was read under)
_held: dict[str, tuple[ApiToken, str]] = {}


def api_token_check(raw: str) -> ApiToken | None:
    """The active token whose hash matches `raw`, with its store, or None.
    The same objects may be returned to later requests of this process (see
    the module): callers read them and set nothing on them but
    `last_used_at`."""
    if not raw:
        return None
    # Looked up by its SHA-256: the index compares hashes, never the secret itself.
    key_hash = api_token_hash(raw)
    if not settings.API_TOKEN_CACHE:
        return _token_read(key_hash)
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        generation = uuid.uuid4().hex
        if not cache.add(GENERATION_KEY, generation, None):
            generation = cache.get(GENERATION_KEY)
    held = _held.get(key_hash)
    if held is not None and held[1] == generation:
        return held[0]
    token = _token_read(key_hash)
    if token is not None and generation is not None:
        if len(_held) >= HELD_MAX:
            _held.clear()
        _held[key_hash] = (token, generation)
    return token


def _generation_new() -> None:
    cache.set(GENERATION_KEY, uuid.uuid4().hex, None)


def api_tokens_changed(**_kwargs) -> None:
    """Make every process read its tokens again: now, and when the transaction
    commits (a request that read the old rows in between kept them under the
    generation set now). A signal receiver (members.apps) and a call after a
    queryset update of tokens or stores."""
    if not settings.API_TOKEN_CACHE:
        return
    forget_now_and_on_commit(_generation_new)


def _token_read(key_hash: str) -> ApiToken | None:
    row = row_fetch(_token_sql(connection.vendor), [key_hash, True])
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
