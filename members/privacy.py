"""A member's own data: the export behind "Download my data", and erasure.

Erasure is done at once, not after a staff review: the customer proves who
they are with their password, and the law asks for it without undue delay.
The member row stays, with its ledger, purchases, returns, vouchers and tier
history, so balances, receipts and the figures stay right; what identifies the
person (name, email, phone, birthday, device, interests, login) is blanked, and
the card number and referral code are replaced so the old card stops working.

The apps above members keep data about the member too, so both take parts
from them: each app registers its parts from its AppConfig.ready() (see
rewards/privacy.py, campaigns/privacy.py), the way apps register ModelAdmins.

Export parts run in ascending `position`; their keys follow the export's
header ("format", "version", "exported_at") in that order:

    100  members   member, login
    200  rewards   points_account
    300  members   consent_history
    310  members   leaving_answers
    320  members   push_subscriptions (without their keys)
    400  rewards   ledger_entries, purchases, returns, redemptions, vouchers,
                   tier_history, referrals_made, referred_by, payments,
                   subscriptions, stamp_cards, promo_code_uses
    500  campaigns messages, complaints, survey_invitations, survey_responses,
                   event_rsvps

Every model that points at a member is either exported or named, with the
reason, in members/tests/privacy/test_parts.py (a test walks them all).

Erasure parts run in ascending `position` inside member_anonymize's
transaction, after the member row is blanked and its one-time codes deleted,
before the login is scrubbed and the erasure row and audit event written:

    100  rewards    the member's phone on the referral that brought them
    120  rewards    the wallet pass and its Apple devices (the pass stops updating)
    150  members    the old card number in their webhook events (member.enrolled)
    170  members    their web push subscriptions (deleted)
    200  campaigns  the texts of messages, outbox copies, complaints, surveys
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members.audit import StaffActor, staff_audit_record, staff_audit_write
from members.cards import card_number_new
from members.errors import Conflict, Forbidden
from members.locks import login_user_lock, member_lock_or_none
from members.models import (
    AuditAction,
    Channel,
    ConsentSource,
    ErasureSource,
    LeaveAnswer,
    Member,
    MemberErasure,
    OneTimeCode,
    WebhookEvent,
    WebhookEventType,
)

EXPORT_VERSION = 1
ANONYMIZE_PERMISSION = "members.add_membererasure"
# Internal columns that say nothing about the person and only confuse a reader.
_NEVER_EXPORTED = {
    "search_text",
    "fingerprint",
    "idempotency_key",
    "code_hash",
    "password",
}


def export_value(value):
    """A column's value as JSON has it: dates as ISO text, decimals as text."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def export_row(obj: models.Model, *, exclude: tuple[str, ...] = ()) -> dict:
    """Every concrete column of `obj` (foreign keys as ids, choices as stored)."""
    data = {}
    for field in obj._meta.concrete_fields:
        if field.name in _NEVER_EXPORTED or field.name in exclude:
            continue
        data[field.attname] = export_value(field.value_from_object(obj))
    return data


@dataclass(frozen=True)
class ExportPart:
    """Keys of the export that an app fills: `build(member)` returns them."""

    name: str
    position: int
    build: Callable[[Member], dict[str, Any]]


@dataclass(frozen=True)
class ErasurePart:
    """What an app erases of a member: `erase(member)` runs in the erasure's
    transaction, with the member row locked."""

    name: str
    position: int
    erase: Callable[[Member], None]


_export_parts: dict[str, ExportPart] = {}
_erasure_parts: dict[str, ErasurePart] = {}


def export_part_register(
    *, name: str, position: int, build: Callable[[Member], dict[str, Any]]
) -> None:
    """Add keys to every member's export, at `position` (the module docstring
    lists the positions in use). Registering a name again replaces it."""
    _export_parts[name] = ExportPart(name=name, position=position, build=build)


def erasure_part_register(
    *, name: str, position: int, erase: Callable[[Member], None]
) -> None:
    """Run `erase(member)` in every erasure, at `position` (the module docstring
    lists the positions in use). Registering a name again replaces it."""
    _erasure_parts[name] = ErasurePart(name=name, position=position, erase=erase)


def _in_order(parts: dict) -> list:
    return sorted(parts.values(), key=lambda part: (part.position, part.name))


def _profile_export(member: Member) -> dict[str, Any]:
    user = member.user
    row = export_row(member)
    row["picked_interests"] = list(
        member.picked_interests.values_list("code", flat=True)
    )
    return {
        "member": row,
        "login": (
            {
                "username": user.username,
                "email": user.email,
                "date_joined": export_value(user.date_joined),
                "last_login": export_value(user.last_login),
            }
            if user is not None
            else None
        ),
    }


def _consent_export(member: Member) -> dict[str, Any]:
    return {"consent_history": [export_row(e) for e in member.consent_events.all()]}


export_part_register(name="members.profile", position=100, build=_profile_export)
export_part_register(name="members.consent", position=300, build=_consent_export)


def _leave_answers_export(member: Member) -> dict[str, Any]:
    answers = member.leave_answers.select_related("reason").order_by("answered_at")
    return {
        "leaving_answers": [
            {**export_row(a, exclude=("member",)), "reason": a.reason.code}
            for a in answers
        ]
    }


export_part_register(
    name="members.leave_answers", position=310, build=_leave_answers_export
)


def _webhook_card_erase(member: Member) -> None:
    """The old card number leaves the member.enrolled events (sent or still to
    be sent); the rest of an event names the member by id only."""
    for event in WebhookEvent.objects.filter(
        member=member, type=WebhookEventType.MEMBER_ENROLLED
    ):
        event.data = {**event.data, "card_number": None}
        event.save(update_fields=["data"])


erasure_part_register(
    name="members.webhook_events", position=150, erase=_webhook_card_erase
)


def _leave_answer_text_erase(member: Member) -> None:
    """Their words leave the leaving answers; the reason, trigger, store and
    day stay with the anonymous row, so the churn figures do not change."""
    LeaveAnswer.objects.filter(member=member).exclude(text="").update(text="")


erasure_part_register(
    name="members.leave_answers", position=160, erase=_leave_answer_text_erase
)


def _push_subscriptions_export(member: Member) -> dict[str, Any]:
    return {
        "push_subscriptions": [
            export_row(s, exclude=("member", "p256dh", "auth"))
            for s in member.push_subscriptions.all()
        ]
    }


export_part_register(
    name="members.push_subscriptions", position=320, build=_push_subscriptions_export
)


def _push_subscriptions_erase(member: Member) -> None:
    from members.services.push import push_subscriptions_erase

    push_subscriptions_erase(member)


erasure_part_register(
    name="members.push_subscriptions", position=170, erase=_push_subscriptions_erase
)


def member_data_export(*, member: Member, actor: StaffActor | None = None) -> dict:
    """Everything the program keeps about `member`, as JSON-ready data.

    Only this member's rows: for referrals they made, the friend's phone is
    left out (it is the friend's data). A fixed number of queries. The keys
    after the header come from the export parts, in their order. Downloaded by
    someone (`actor`: the member's own login, or staff), one audit row records
    it. Locks nothing; queues nothing.
    """
    data = {
        "format": "loyalty-member-export",
        "version": EXPORT_VERSION,
        "exported_at": timezone.now().isoformat(),
    }
    for part in _in_order(_export_parts):
        keys = part.build(member)
        clash = data.keys() & keys.keys()
        if clash:
            raise RuntimeError(f"export part {part.name} repeats {sorted(clash)}")
        data.update(keys)
    staff_audit_record(
        actor=actor, action=AuditAction.MEMBER_EXPORTED, member=member, obj=member
    )
    return data


ERASED_TEXT = "[erased]"


def member_anonymize(
    *, member: Member, actor: StaffActor | None, source: str
) -> MemberErasure:
    """Forget who the member is, keep what happened. Returns the erasure row.

    Blanks name, email, birthday, gender, interests and device id, replaces the
    phone (it must stay unique) with "erased-<id>", gives the row a new card
    number and referral code (the old card stops working), withdraws every consent
    (ConsentEvent rows, as for any change), deletes one-time codes, blanks the
    member's phone on the referral that brought them, erases the texts of their
    messages, outbox copies, complaints and survey comments (the rows, scores
    and times stay; these two through the erasure parts of rewards and
    campaigns), and disables and scrubs the web login. Ledger entries,
    purchases, returns, redemptions, vouchers and tier history are not
    touched: the balance and its sum do not change.

    Staff need `members.add_membererasure` (Managers). Idempotent: a second
    call returns the first erasure. Locks the member row; writes the audit
    event in the same transaction; queues nothing.
    """
    staff = source == ErasureSource.ADMIN
    if staff and (actor is None or not actor.user.has_perm(ANONYMIZE_PERMISSION)):
        raise Forbidden(_("Only a Manager may anonymize a member."), field="member")
    with transaction.atomic(durable=True):
        locked = member_lock_or_none(member_id=member.pk)
        if locked is None:
            raise Conflict(_("This member does not exist."), field="member")
        done = MemberErasure.objects.filter(member=locked).first()
        if done is not None:
            return done
        now = timezone.now()
        by = actor.user if actor is not None else None
        for channel in Channel.values:
            if getattr(locked, f"{channel}_consent"):
                from members.services import consent_write  # one consent writer

                consent_write(
                    member=locked,
                    channel=channel,
                    granted=False,
                    source=ConsentSource.ADMIN if staff else ConsentSource.PORTAL,
                    changed_by=by,
                    at=now,
                )
        from members.services import referral_code_new

        # New numbers nobody holds: the plastic card and the shared referral
        # link no longer lead to this history.
        locked.card_number = card_number_new()
        locked.referral_code = referral_code_new()
        locked.first_name = ""
        locked.last_name = ""
        locked.email = None
        locked.phone = f"erased-{locked.pk}"
        locked.birthday = None
        locked.gender = ""
        locked.interests = []
        locked.device_id = ""
        locked.telegram_chat_id = ""
        locked.save(
            update_fields=[
                "card_number",
                "referral_code",
                "first_name",
                "last_name",
                "email",
                "phone",
                "birthday",
                "gender",
                "interests",
                "device_id",
                "telegram_chat_id",
                "search_text",
            ]
        )
        locked.picked_interests.clear()
        OneTimeCode.objects.filter(member=locked).delete()
        for part in _in_order(_erasure_parts):
            part.erase(locked)
        if locked.user_id is not None:
            user = login_user_lock(user_id=locked.user_id)
            user.username = f"erased-{user.pk}"
            user.email = ""
            user.first_name = ""
            user.last_name = ""
            user.is_active = False
            user.set_unusable_password()
            user.save(
                update_fields=[
                    "username",
                    "email",
                    "first_name",
                    "last_name",
                    "is_active",
                    "password",
                ]
            )
        erasure = MemberErasure.objects.create(
            member=locked, source=source, requested_by=by, created_at=now
        )
        staff_audit_write(
            actor=by,
            action=AuditAction.MEMBER_ANONYMIZED,
            member=locked,
            obj=erasure,
            details={"source": source},
            ip=actor.ip if actor is not None else None,
        )
    return erasure
