"""Sign-up online, one-time codes, and claiming a membership staff enrolled."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from members.branding import branding_get
from members.errors import InvalidInput, NotFound
from members.locks import member_lock, one_time_code_lock
from members.messages import message_send
from members.models import Channel, ConsentSource, Member, OneTimeCode, User
from members.phones import phone_normalize
from members.services.enrolment import email_normalize, member_enroll, referrer_get
from members.services.hooks import enrolment_refused_run
from members.services.sources import FirstTouch

OTP_MAX_ATTEMPTS = 5
OTP_MAX_PER_HOUR = (
    3  # codes sent to one member per hour: bounds guessing and SMS flooding
)
# The Message kind of a one-time code; campaigns.messaging.services blanks the code out
# of the stored text once the message has left (see SECRET_KINDS there).
OTP_MESSAGE_KIND = "one-time-code"


@dataclass
class SignupResult:
    user: User | None
    member: Member
    pending_code: OneTimeCode | None  # set when the membership must be proven first


def _hash_code(code: str) -> str:
    return make_password(code)


def otp_send(*, member: Member, channel: str, payload: dict) -> OneTimeCode:
    """Create a one-time code and send it after commit by SMS or email.

    The code goes out as a service (non-marketing) Message through
    `members.messages.message_send` (campaigns plugs in), keyed per issued code, so it is in the
    message log and a retried delivery never sends it twice; that queues
    `campaigns.tasks.message_deliver` on commit. The raw code leaves only
    through the message (whose stored text loses it once sent); the code row
    keeps a hash. A new code voids the member's earlier unused ones (sets their
    used_at), and at most OTP_MAX_PER_HOUR codes go to one member in an hour.

    Locks the member row (members.locks) for the rest of the caller's
    transaction, so concurrent sign-ups claiming one membership count and void
    one after the other; a unique constraint keeps one unused code per member.
    """
    field = "phone" if channel == Channel.SMS else "email"
    code = f"{secrets.randbelow(10**6):06d}"
    code_hash = _hash_code(code)  # slow on purpose: not while holding the lock
    with transaction.atomic():
        member_lock(member_id=member.pk)
        now = timezone.now()
        recent = OneTimeCode.objects.filter(
            member=member, created_at__gte=now - dt.timedelta(hours=1)
        )
        if recent.count() >= OTP_MAX_PER_HOUR:
            raise InvalidInput(
                _(
                    "Too many codes were sent for this membership; try again in an hour."
                ),
                field=field,
            )
        OneTimeCode.objects.filter(member=member, used_at__isnull=True).update(
            used_at=now
        )
        destination = member.phone if channel == Channel.SMS else member.email
        otp = OneTimeCode.objects.create(
            member=member,
            purpose=OneTimeCode.Purpose.CLAIM,
            channel=channel,
            destination=destination,
            code_hash=code_hash,
            payload=payload,
            created_at=now,
            expires_at=now + dt.timedelta(minutes=settings.LOYALTY_OTP_TTL_MINUTES),
        )
        with translation.override(member.language):
            # The short name: an SMS has little room (members.branding).
            text = _(
                "Your %(program)s confirmation code: %(code)s. "
                "It is valid for %(minutes)s minutes."
            ) % {
                "program": branding_get().short_name,
                "code": code,
                "minutes": settings.LOYALTY_OTP_TTL_MINUTES,
            }
            subject = _("Your confirmation code")
        message_send(
            member=member,
            key=f"one-time-code:{otp.pk}",
            kind=OTP_MESSAGE_KIND,
            subject=subject if channel == Channel.EMAIL else "",
            body=text,
            channel=channel,
            marketing=False,
            to=destination,
        )
    return otp


@transaction.atomic
def member_signup(
    *,
    email: str,
    password: str,
    phone: str,
    first_name: str = "",
    last_name: str = "",
    language: str | None = None,
    referral_code: str | None = None,
    first_touch: FirstTouch | None = None,
) -> SignupResult:
    """Sign a customer up online.

    A new member's source is online (or referral, with a friend's code) with
    the UTM parameters of the first visit, `first_touch`; a claimed
    membership keeps the source it was enrolled with.

    A new phone and email: create the login and the membership at once.
    A phone or email that staff enrolled at the counter without a login: send a
    code to that phone (or email) and create the login only when the code is
    entered (`member_claim_verify`). A membership that has a login already: refused.
    """
    email = email_normalize(email)
    if not email:
        raise InvalidInput(_("Enter an email address."), field="email")
    phone = phone_normalize(phone)
    if (
        User.objects.filter(username__iexact=email).exists()
        or User.objects.filter(email__iexact=email).exists()
    ):
        raise InvalidInput(
            _("An account with this email exists already; log in instead."),
            field="email",
        )
    by_phone = Member.objects.filter(phone=phone).first()
    by_email = Member.objects.filter(email__iexact=email).first()
    if by_phone and by_email and by_phone.pk != by_email.pk:
        raise InvalidInput(
            _(
                "This phone and this email belong to two different memberships; ask at the counter."
            ),
            field="email",
        )
    referrer = referrer_get(referral_code)
    existing = by_phone or by_email
    if existing:
        if existing.user_id:
            raise InvalidInput(
                _("This membership already has an online account; log in instead."),
                field="phone" if by_phone else "email",
            )
        if referrer is not None:
            enrolment_refused_run(referrer=referrer, existing=existing)
        channel = Channel.SMS if by_phone else Channel.EMAIL
        payload = {
            "email": email,
            "password_hash": make_password(password),
            "first_name": first_name,
            "last_name": last_name,
            "language": language or "",
        }
        otp = otp_send(member=existing, channel=channel, payload=payload)
        return SignupResult(user=None, member=existing, pending_code=otp)
    user = User.objects.create_user(
        username=email,
        email=email,
        password=password,
        first_name=first_name,
        last_name=last_name,
    )
    member = member_enroll(
        phone=phone,
        email=email,
        first_name=first_name,
        last_name=last_name,
        language=language,
        user=user,
        source=ConsentSource.PORTAL,
        referral_code=referral_code,
        first_touch=first_touch,
    )
    return SignupResult(user=user, member=member, pending_code=None)


class WrongCode(InvalidInput):
    """The code did not match; the failed attempt has been counted."""


def member_claim_verify(*, otp_id: int, code: str) -> User:
    """Check a claim code; on success create the login and link the membership.

    Locks the member, then the code row (the order of members.locks, which
    otp_send keeps too), so that two submissions cannot both succeed and a
    submission racing a new code cannot deadlock with it. A wrong code is
    counted (committed) before WrongCode is raised.
    """
    member_id = (
        OneTimeCode.objects.filter(pk=otp_id)
        .values_list("member_id", flat=True)
        .first()
    )
    with transaction.atomic():
        if member_id is not None:
            member_lock(member_id=member_id)
        otp = one_time_code_lock(otp_id=otp_id) if member_id is not None else None
        if otp is None or otp.used_at is not None:
            raise NotFound(
                _("This code is no longer valid; start again."), field="code"
            )
        if otp.expires_at < timezone.now():
            raise InvalidInput(_("This code has expired; start again."), field="code")
        if otp.attempts >= OTP_MAX_ATTEMPTS:
            raise InvalidInput(_("Too many wrong codes; start again."), field="code")
        if check_password((code or "").strip(), otp.code_hash):
            return _claim_complete(otp)
        otp.attempts += 1
        otp.save(update_fields=["attempts"])
    left = OTP_MAX_ATTEMPTS - otp.attempts
    raise WrongCode(
        _("Wrong code. Attempts left: %(left)s.") % {"left": left}, field="code"
    )


def _claim_complete(otp: OneTimeCode) -> User:
    member = Member.objects.get(pk=otp.member_id)  # locked by the caller
    if member.user_id:
        raise InvalidInput(
            _("This membership already has an online account; log in instead."),
            field="code",
        )
    data = otp.payload
    if User.objects.filter(username__iexact=data["email"]).exists():
        raise InvalidInput(
            _("An account with this email exists already; log in instead."),
            field="code",
        )
    user = User(
        username=data["email"],
        email=data["email"],
        first_name=data.get("first_name") or member.first_name,
        last_name=data.get("last_name") or member.last_name,
        password=data["password_hash"],
    )
    user.save()
    member.user = user
    update = ["user"]
    if not member.email:
        member.email = data["email"]
        update.append("email")
    for name in ("first_name", "last_name"):
        if data.get(name) and not getattr(member, name):
            setattr(member, name, data[name])
            update.append(name)
    if data.get(
        "language"
    ):  # chosen by the customer now, so it beats the enrollment default
        member.language = data["language"]
        update.append("language")
    member.save(update_fields=update)
    otp.used_at = timezone.now()
    otp.save(update_fields=["used_at"])
    return user


def otp_purge_expired(*, older_than: dt.timedelta = dt.timedelta(days=1)) -> int:
    """Delete one-time codes that expired more than `older_than` ago."""
    deleted, _rows = OneTimeCode.objects.filter(
        expires_at__lt=timezone.now() - older_than
    ).delete()
    return deleted
