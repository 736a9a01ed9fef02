"""Keeping the passes in the phones current: after a change, an APNs push to
every Apple device registered for the pass and a PATCH of the Google object.

    wallet_pass_changed ─on commit─▶ wallet_pass_sync (claim ▸ send ▸ record)
    a failure ─▶ logged, retried after WALLET_RETRY_FIRST × 4^(n-1) (≤ 6 h),
                 by the sweeper (CELERY_BEAT_SCHEDULE "wallet-passes-sync-sweep")

As the webhook outbox does (members.services.webhook_delivery), a sync claims
its row briefly, sends outside any transaction and records the outcome under
the lock again; unlike it, the outbox is the pass row itself, so changes that
come while a sync is due or running coalesce into one more push. A retry
sends both again: a second push only makes the device ask once more.
"""

from __future__ import annotations

import datetime as dt
import logging
import ssl
import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rewards.locks import wallet_pass_lock, wallet_passes_due_lock
from rewards.models import AppleDeviceRegistration, WalletPass
from rewards.wallet.apns import ApnsClient
from rewards.wallet.config import apple_wallet_enabled, google_wallet_enabled
from rewards.wallet.content import wallet_card_get
from rewards.wallet.google import GoogleWalletError, loyalty_object_update
from rewards.wallet.services import (
    apple_registration_forget,
    wallet_pass_sync_queue,
)

logger = logging.getLogger("rewards.wallet")
MAX_RETRY_GAP = dt.timedelta(hours=6)


def wallet_retry_delay(attempts: int) -> dt.timedelta:
    """How long after its `attempts`-th failed sync in a row a pass is tried again."""
    first = dt.timedelta(seconds=settings.WALLET_RETRY_FIRST)
    return min(first * 4 ** (attempts - 1), MAX_RETRY_GAP)


def _claim_hold() -> dt.timedelta:
    # Longer than one sync can take; a worker that dies holding it lets go then.
    return dt.timedelta(seconds=settings.WALLET_TIMEOUT * 3 + 60)


def wallet_pass_sync(*, member_id: int, now: dt.datetime | None = None) -> str:
    """Push the member's pass to its Apple devices and update its Google
    object, if it is due and no other worker holds it. Returns "synced",
    "retry", "failed" (gave up until the next change) or "" (not tried).
    Locks the pass row alone, twice briefly (claim, record); sends outside
    any transaction. Queues itself again on commit when the pass changed
    while it was sending. Safe to run twice: the claim lets one of them send."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        row = wallet_pass_lock(member_id=member_id, skip_locked=True)
        if (
            row is None
            or row.sync_due_at is None
            or row.sync_due_at > now
            or (row.sync_claimed_until is not None and row.sync_claimed_until > now)
        ):
            return ""
        row.sync_claimed_until = timezone.now() + _claim_hold()
        row.save(update_fields=["sync_claimed_until"])
    errors = _send(row)
    return _record(member_id=member_id, version=row.content_version, errors=errors)


def _send(wallet_pass: WalletPass) -> list[str]:
    """What failed ([] when everything was delivered)."""
    errors: list[str] = []
    registrations = (
        list(AppleDeviceRegistration.objects.filter(wallet_pass=wallet_pass))
        if apple_wallet_enabled()
        else []
    )
    if registrations:
        try:
            with ApnsClient() as apns:
                for registration in registrations:
                    result = apns.push(registration.push_token)
                    if result.gone:
                        apple_registration_forget(registration_id=registration.pk)
                    elif not result.ok:
                        errors.append(
                            f"APNs {registration.device_library_id}: "
                            f"{result.status or 'no answer'} {result.reason}".strip()
                        )
        except (OSError, ssl.SSLError, ValueError) as exc:  # the certificate files
            errors.append(f"APNs: {exc}")
    if google_wallet_enabled() and wallet_pass.google_object_id:
        member = wallet_pass.member
        try:
            loyalty_object_update(wallet_card_get(member=member), wallet_pass)
        except (GoogleWalletError, OSError, ValueError, KeyError) as exc:
            errors.append(f"Google: {exc}")
    return errors


def _record(*, member_id: int, version: int, errors: list[str]) -> str:
    now = timezone.now()
    with transaction.atomic(durable=True):
        row = wallet_pass_lock(member_id=member_id)
        if row is None:
            return ""
        row.sync_claimed_until = None
        if errors:
            row.sync_attempts += 1
            row.last_sync_error = "; ".join(errors)[:2000]
            if row.sync_attempts >= settings.WALLET_RETRY_MAX_ATTEMPTS:
                row.sync_due_at = None
                outcome = "failed"
                logger.error(
                    "Wallet pass %s: sync failed %s times, waiting for the next "
                    "change: %s",
                    row.serial_number,
                    row.sync_attempts,
                    row.last_sync_error,
                )
            else:
                row.sync_due_at = now + wallet_retry_delay(row.sync_attempts)
                outcome = "retry"
                logger.warning(
                    "Wallet pass %s: sync failed (attempt %s), retry at %s: %s",
                    row.serial_number,
                    row.sync_attempts,
                    row.sync_due_at.isoformat(),
                    row.last_sync_error,
                )
        else:
            outcome = "synced"
            row.sync_attempts = 0
            row.last_sync_error = ""
            row.synced_version = version
            row.synced_at = now
            changed_meanwhile = row.content_version != version
            row.sync_due_at = now if changed_meanwhile else None
            if changed_meanwhile:
                transaction.on_commit(
                    lambda: wallet_pass_sync_queue(member_id=member_id)
                )
        row.save()
    return outcome


def wallet_passes_sync_due(
    *, now: dt.datetime | None = None, batch: int = 100, budget: float = 200.0
) -> int:
    """The sweeper: passes whose retry came due (or whose task was lost), each
    claimed and synced as wallet_pass_sync does, for at most `budget`
    seconds. Returns how many it tried."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        due = wallet_passes_due_lock(now=now, batch=batch)
    stop = time.monotonic() + budget
    tried = 0
    for member_id in due:
        if time.monotonic() > stop:
            break
        tried += bool(wallet_pass_sync(member_id=member_id, now=now))
    return tried
