"""A member's own data: the export behind "Download my data", and erasure.

Erasure is done at once, not after a staff review: the customer proves who
they are with their password, and the law asks for it without undue delay.
The member row stays, with its ledger, purchases, returns, vouchers and tier
history, so balances, receipts and the figures stay right; what identifies the
person (name, email, phone, birthday, device, interests, login) is blanked, and
the card number and referral code are replaced so the old card stops working.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members.audit import StaffActor, staff_audit_write
from members.cards import card_number_new
from members.errors import Conflict, Forbidden
from members.models import (
    AuditAction,
    Channel,
    ConsentSource,
    ErasureSource,
    Member,
    MemberErasure,
    OneTimeCode,
    User,
)
from rewards.models import Referral

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


def _value(value):
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _row(obj: models.Model, *, exclude: tuple[str, ...] = ()) -> dict:
    """Every concrete column of `obj` (foreign keys as ids, choices as stored)."""
    data = {}
    for field in obj._meta.concrete_fields:
        if field.name in _NEVER_EXPORTED or field.name in exclude:
            continue
        data[field.attname] = _value(field.value_from_object(obj))
    return data


def member_data_export(*, member: Member) -> dict:
    """Everything the program keeps about `member`, as JSON-ready data.

    Only this member's rows: for referrals they made, the friend's phone is
    left out (it is the friend's data). A fixed number of queries.
    """
    from rewards.models import (  # rewards depends on members, not back
        LedgerEntry,
        Purchase,
        PurchaseReturn,
        Redemption,
        TierHistory,
        Voucher,
    )

    user = member.user
    account = getattr(member, "account", None)
    purchases = Purchase.objects.filter(member=member).prefetch_related("lines")
    return {
        "format": "loyalty-member-export",
        "version": EXPORT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "member": _row(member),
        "login": (
            {
                "username": user.username,
                "email": user.email,
                "date_joined": _value(user.date_joined),
                "last_login": _value(user.last_login),
            }
            if user is not None
            else None
        ),
        "points_account": _row(account) if account is not None else None,
        "consent_history": [_row(e) for e in member.consent_events.all()],
        "ledger_entries": [
            _row(e)
            for e in LedgerEntry.objects.filter(account__member=member).order_by(
                "created_at", "id"
            )
        ],
        "purchases": [
            {**_row(p), "lines": [_row(line) for line in p.lines.all()]}
            for p in purchases.order_by("occurred_at", "id")
        ],
        "returns": [
            _row(r)
            for r in PurchaseReturn.objects.filter(purchase__member=member).order_by(
                "created_at", "id"
            )
        ],
        "redemptions": [
            _row(r)
            for r in Redemption.objects.filter(member=member).order_by(
                "created_at", "id"
            )
        ],
        "vouchers": [
            _row(v) for v in Voucher.objects.filter(member=member).order_by("pk")
        ],
        "tier_history": [
            _row(t)
            for t in TierHistory.objects.filter(member=member).order_by(
                "created_at", "id"
            )
        ],
        "referrals_made": [
            _row(r, exclude=("referee_phone", "referee"))
            for r in Referral.objects.filter(referrer=member).order_by("created_at")
        ],
        "referred_by": (
            _row(member.referral, exclude=("referee_phone",))
            if Referral.objects.filter(referee=member).exists()
            else None
        ),
    }


ERASED_TEXT = "[erased]"


def _messages_and_feedback_scrub(member: Member) -> None:
    """The texts that name or quote the member, kept by the campaigns app: the
    messages sent to them (address, subject, text) and their copies in the
    outbox, what was written on their complaints (theirs and staff replies,
    which greet them by name), and their survey comments. The rows stay, so
    message counts, complaint times and NPS scores are unchanged."""
    # campaigns depends on members, not back: imported here, as the services do.
    from campaigns.models import (
        ComplaintMessage,
        Message,
        OutboxEntry,
        SurveyResponse,
    )

    tokens = Message.objects.filter(member=member).values("token")
    OutboxEntry.objects.filter(reference__in=tokens).update(
        to="", subject="", body=ERASED_TEXT, html="", headers={}
    )
    Message.objects.filter(member=member).update(to="", subject="", body=ERASED_TEXT)
    ComplaintMessage.objects.filter(complaint__member=member).update(body=ERASED_TEXT)
    SurveyResponse.objects.filter(member=member).exclude(comment="").update(
        comment=ERASED_TEXT
    )


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
    and times stay), and disables and scrubs the web login. Ledger entries, purchases, returns, redemptions, vouchers
    and tier history are not touched: the balance and its sum do not change.

    Staff need `members.add_membererasure` (Managers). Idempotent: a second
    call returns the first erasure. Locks the member row; writes the audit
    event in the same transaction; queues nothing.
    """
    staff = source == ErasureSource.ADMIN
    if staff and (actor is None or not actor.user.has_perm(ANONYMIZE_PERMISSION)):
        raise Forbidden(_("Only a Manager may anonymize a member."), field="member")
    with transaction.atomic(durable=True):
        locked = (
            Member.objects.select_for_update(of=("self",)).filter(pk=member.pk).first()
        )
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
                "search_text",
            ]
        )
        OneTimeCode.objects.filter(member=locked).delete()
        Referral.objects.filter(referee=locked).update(referee_phone="")
        _messages_and_feedback_scrub(locked)
        if locked.user_id is not None:
            user = User.objects.select_for_update(of=("self",)).get(pk=locked.user_id)
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
