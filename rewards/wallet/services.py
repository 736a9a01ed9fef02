"""Writes of the wallet passes: making a member's pass, marking it changed,
and the Apple device registrations the pass web service records."""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import secrets
import uuid

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from kombu.exceptions import OperationalError

from members.models import Member
from rewards.models import AppleDeviceRegistration, WalletPass
from rewards.wallet.config import wallet_enabled

logger = logging.getLogger("rewards.wallet")
SYNC_TASK = "rewards.tasks.wallet_pass_sync"


def _whole_second(moment: dt.datetime) -> dt.datetime:
    return moment.replace(microsecond=0)


def wallet_pass_ensure(*, member: Member) -> WalletPass:
    """The member's pass, made on first use with a random serial number and
    authentication token. Two requests at once make one (the member is unique)."""
    found = WalletPass.objects.filter(member_id=member.pk).first()
    if found is not None:
        return found
    now = _whole_second(timezone.now())
    try:
        with transaction.atomic():
            return WalletPass.objects.create(
                member=member,
                serial_number=uuid.uuid4().hex,
                auth_token=secrets.token_urlsafe(32),
                created_at=now,
                updated_at=now,
            )
    except IntegrityError:
        return WalletPass.objects.get(member_id=member.pk)


def wallet_pass_google_saved(*, wallet_pass: WalletPass, object_id: str) -> None:
    """The member opened the Google save link: from now on a change updates
    the object `object_id` too."""
    if wallet_pass.google_object_id != object_id:
        WalletPass.objects.filter(pk=wallet_pass.pk).update(google_object_id=object_id)
        wallet_pass.google_object_id = object_id


def wallet_pass_changed(*, member_id: int) -> None:
    """What the member's pass shows changed (a ledger entry, a tier move): in
    the caller's transaction, after its account lock. One UPDATE when a wallet
    is configured (none otherwise), which finds no row for a member without a
    pass; with a pass, it moves `updated_at` on by at least a second (the
    Last-Modified of the pass), makes the pass due and queues
    rewards.tasks.wallet_pass_sync on commit."""
    if not wallet_enabled():
        return
    now = timezone.now()
    found = WalletPass.objects.filter(member_id=member_id).update(
        content_version=F("content_version") + 1,
        updated_at=Greatest(
            _whole_second(now), F("updated_at") + dt.timedelta(seconds=1)
        ),
        sync_due_at=now,
        sync_attempts=0,
    )
    if found:
        transaction.on_commit(lambda: wallet_pass_sync_queue(member_id=member_id))


def wallet_pass_sync_queue(*, member_id: int) -> None:
    """Queue the sync by name; a broker that is down loses nothing (the
    sweeper finds the pass due)."""
    try:
        importlib.import_module(SYNC_TASK.rpartition(".")[0])
        from celery import current_app

        current_app.tasks[SYNC_TASK].delay(member_id)
    except (OperationalError, OSError):
        logger.exception("Could not queue %s; the sweeper will sync", SYNC_TASK)


def apple_device_register(
    *, wallet_pass: WalletPass, device_library_id: str, push_token: str
) -> bool:
    """Record that a device wants pushes for the pass (a new push token
    replaces the old). True when the device is new for this pass."""
    with transaction.atomic():
        registration, created = AppleDeviceRegistration.objects.get_or_create(
            wallet_pass=wallet_pass,
            device_library_id=device_library_id,
            defaults={"push_token": push_token},
        )
        if not created and registration.push_token != push_token:
            registration.push_token = push_token
            registration.save(update_fields=["push_token"])
    return created


def apple_device_unregister(*, wallet_pass: WalletPass, device_library_id: str) -> bool:
    """The device removed the pass; True when it was registered."""
    deleted, _rows = AppleDeviceRegistration.objects.filter(
        wallet_pass=wallet_pass, device_library_id=device_library_id
    ).delete()
    return bool(deleted)


def apple_registration_forget(*, registration_id: int) -> None:
    """APNs says the device's token is dead: stop pushing to it."""
    AppleDeviceRegistration.objects.filter(pk=registration_id).delete()
