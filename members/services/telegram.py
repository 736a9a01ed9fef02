"""Linking a member's Telegram chat: a one-time code shown on the portal, which
the bot receives as `/start <code>` (campaigns.telegram), and unlinking (from
the portal, the bot's /stop, or a chat that blocked the bot).

The code is a OneTimeCode (purpose telegram): random, expiring, used once, one
unused per member (a new one voids the earlier), only its hash stored. Unlike a
claim code it arrives without a member to look it under, so its hash is a
plain SHA-256 looked up directly (as API tokens are): the code carries 50
random bits, which no salt or slow hash needs to protect for its minutes of
life. Linking gives no marketing consent: the bot asks, or the member ticks
the box on the portal."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members.errors import InvalidInput, NotFound
from members.locks import member_lock, members_lock, one_time_code_lock
from members.models import Channel, ConsentSource, Member, OneTimeCode, User
from members.services.consent import consent_write
from members.services.signup import OTP_MAX_PER_HOUR

# Unambiguous letters and digits (no 0/O, 1/I/L): a code may be typed by hand.
LINK_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LINK_CODE_LENGTH = 10  # 31**10 ≈ 2**50


def telegram_link_code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def telegram_link_code_issue(*, member: Member) -> tuple[OneTimeCode, str]:
    """A new one-time code linking a Telegram chat to `member`: the row and the
    raw code (shown once). Voids the member's earlier unused codes; at most
    OTP_MAX_PER_HOUR codes of any kind an hour. Locks the member row; queues
    nothing."""
    code = "".join(secrets.choice(LINK_CODE_ALPHABET) for _i in range(LINK_CODE_LENGTH))
    with transaction.atomic():
        member_lock(member_id=member.pk)
        now = timezone.now()
        recent = OneTimeCode.objects.filter(
            member=member, created_at__gte=now - dt.timedelta(hours=1)
        )
        if recent.count() >= OTP_MAX_PER_HOUR:
            raise InvalidInput(
                _(
                    "Too many codes were made for this membership; try again in an hour."
                ),
                field="code",
            )
        OneTimeCode.objects.filter(member=member, used_at__isnull=True).update(
            used_at=now
        )
        otp = OneTimeCode.objects.create(
            member=member,
            purpose=OneTimeCode.Purpose.TELEGRAM,
            channel=Channel.TELEGRAM,
            destination="Telegram",
            code_hash=telegram_link_code_hash(code),
            created_at=now,
            expires_at=now
            + dt.timedelta(minutes=settings.LOYALTY_TELEGRAM_LINK_TTL_MINUTES),
        )
    return otp, code


def telegram_link(*, code: str, chat_id: str) -> Member:
    """Link the Telegram chat `chat_id` to the member whose unused, unexpired
    link code `code` is, and use the code up. A chat is one member's: a member
    it was linked to before loses it (and their Telegram consent, with its
    history row). Gives no consent. Locks the members concerned (pk order),
    then the code. Raises NotFound (unknown or used code) or InvalidInput
    (expired)."""
    code_hash = telegram_link_code_hash(code or "")
    head = (
        OneTimeCode.objects.filter(
            purpose=OneTimeCode.Purpose.TELEGRAM, code_hash=code_hash
        )
        .values_list("pk", "member_id")
        .first()
    )
    if head is None:
        raise NotFound(_("This code is not valid."), field="code")
    otp_id, member_id = head
    with transaction.atomic():
        others = list(
            Member.objects.filter(telegram_chat_id=chat_id)
            .exclude(pk=member_id)
            .values_list("pk", flat=True)
        )
        locked = {m.pk: m for m in members_lock(member_ids=[member_id, *others])}
        otp = one_time_code_lock(otp_id=otp_id)
        if otp is None or otp.used_at is not None:
            raise NotFound(_("This code was used already."), field="code")
        now = timezone.now()
        if otp.expires_at < now:
            raise InvalidInput(_("This code has expired."), field="code")
        for pk in others:
            _unlink(locked[pk], source=ConsentSource.TELEGRAM, changed_by=None, at=now)
        member = locked[member_id]
        member.telegram_chat_id = str(chat_id)
        member.save(update_fields=["telegram_chat_id"])
        otp.used_at = now
        otp.save(update_fields=["used_at"])
    return member


def telegram_unlink(
    *, member: Member, source: str, changed_by: User | None = None
) -> bool:
    """Forget the member's Telegram chat and withdraw their Telegram consent
    (with its history row, from `source`): nothing can reach them there any
    more. True when they had a chat linked. Locks the member row; queues
    nothing."""
    with transaction.atomic():
        locked = member_lock(member_id=member.pk)
        linked = bool(locked.telegram_chat_id)
        _unlink(locked, source=source, changed_by=changed_by, at=timezone.now())
    member.telegram_chat_id = ""
    member.telegram_consent = False
    return linked


def _unlink(member: Member, *, source: str, changed_by: User | None, at) -> None:
    if member.telegram_consent:
        consent_write(
            member=member,
            channel=Channel.TELEGRAM,
            granted=False,
            source=source,
            changed_by=changed_by,
            at=at,
        )
    if member.telegram_chat_id:
        member.telegram_chat_id = ""
        member.save(update_fields=["telegram_chat_id"])
