"""Every write to members, consent, logins and API tokens goes through here."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from members.cards import card_number_new
from members.errors import Conflict, InvalidInput, NotFound
from members.models import (
    ApiToken,
    Channel,
    ConsentEvent,
    ConsentSource,
    Member,
    OneTimeCode,
    Store,
    User,
)
from members.phones import phone_normalize
from members.sms import sms_send

PROFILE_FIELDS = (
    "first_name",
    "last_name",
    "birthday",
    "gender",
    "interests",
    "language",
    "home_store",
)
OTP_MAX_ATTEMPTS = 5
OTP_MAX_PER_HOUR = (
    3  # codes sent to one member per hour: bounds guessing and SMS flooding
)


class MemberAlreadyEnrolled(Conflict):
    """The phone (or email) belongs to a member already; `member` is that one."""

    def __init__(self, message: str, *, member: Member, field: str) -> None:
        super().__init__(message, field=field, card_number=member.card_number)
        self.member = member


def _normalize_email(email: str | None) -> str | None:
    email = (email or "").strip()
    return email.lower() or None


def member_enroll(
    *,
    phone: str,
    email: str | None = None,
    first_name: str = "",
    last_name: str = "",
    birthday: dt.date | None = None,
    gender: str = "",
    language: str | None = None,
    store: Store | None = None,
    enrolled_by: User | None = None,
    user: User | None = None,
    email_consent: bool = False,
    sms_consent: bool = False,
    source: str = ConsentSource.COUNTER,
    enrolled_at: dt.datetime | None = None,
) -> Member:
    """Enroll a customer: a card number, a points account, consent history.

    Raises MemberAlreadyEnrolled when the phone or email is taken. Locks nothing
    (the unique constraints decide races); queues nothing.
    """
    phone = phone_normalize(phone)
    email = _normalize_email(email)
    existing = Member.objects.filter(phone=phone).first()
    if existing:
        raise MemberAlreadyEnrolled(
            _("This phone is already enrolled with card %(card)s.")
            % {"card": existing.card_number},
            member=existing,
            field="phone",
        )
    if email:
        existing = Member.objects.filter(email__iexact=email).first()
        if existing:
            raise MemberAlreadyEnrolled(
                _("This email is already enrolled with card %(card)s.")
                % {"card": existing.card_number},
                member=existing,
                field="email",
            )
    language = language or settings.LANGUAGE_CODE
    if language not in dict(settings.LANGUAGES):
        raise InvalidInput(
            _("Unknown language “%(lang)s”.") % {"lang": language}, field="language"
        )
    now = enrolled_at or timezone.now()
    from rewards.services import (
        points_account_create,  # rewards depends on members, not back
    )

    for _attempt in range(5):
        try:
            with transaction.atomic():
                member = Member.objects.create(
                    user=user,
                    card_number=card_number_new(),
                    phone=phone,
                    email=email,
                    first_name=first_name.strip(),
                    last_name=last_name.strip(),
                    birthday=birthday,
                    gender=gender or "",
                    language=language,
                    home_store=store,
                    enrolled_store=store,
                    enrolled_at=now,
                    enrolled_by=enrolled_by,
                )
                points_account_create(member=member)
                for channel, granted in (
                    (Channel.EMAIL, email_consent),
                    (Channel.SMS, sms_consent),
                ):
                    if granted:
                        _consent_write(
                            member=member,
                            channel=channel,
                            granted=True,
                            source=source,
                            changed_by=enrolled_by,
                            at=now,
                        )
                return member
        except IntegrityError:
            if Member.objects.filter(phone=phone).exists():
                existing = Member.objects.get(phone=phone)
                raise MemberAlreadyEnrolled(
                    _("This phone is already enrolled with card %(card)s.")
                    % {"card": existing.card_number},
                    member=existing,
                    field="phone",
                ) from None
            if email and Member.objects.filter(email__iexact=email).exists():
                existing = Member.objects.get(email__iexact=email)
                raise MemberAlreadyEnrolled(
                    _("This email is already enrolled with card %(card)s.")
                    % {"card": existing.card_number},
                    member=existing,
                    field="email",
                ) from None
            # Otherwise the random card number collided: draw another.
    raise Conflict(_("Could not allocate a card number; try again."))


@transaction.atomic
def member_update_profile(*, member: Member, **fields) -> Member:
    """Change a member's profile fields (not phone, card or consent).

    A new email moves the web login with it (customers log in with their email),
    so log-in and password reset follow the address the member gave.
    """
    unknown = set(fields) - set(PROFILE_FIELDS) - {"email"}
    if unknown:
        raise InvalidInput(f"Not profile fields: {', '.join(sorted(unknown))}")
    user = member.user
    if "email" in fields:
        email = _normalize_email(fields["email"])
        if (
            email
            and Member.objects.filter(email__iexact=email)
            .exclude(pk=member.pk)
            .exists()
        ):
            raise InvalidInput(_("Another member uses this email."), field="email")
        if user is not None:
            if not email:
                raise InvalidInput(
                    _("Your online account needs an email address."), field="email"
                )
            taken = User.objects.filter(
                Q(username__iexact=email) | Q(email__iexact=email)
            )
            if taken.exclude(pk=user.pk).exists():
                raise InvalidInput(_("Another account uses this email."), field="email")
        fields["email"] = email
    for name, value in fields.items():
        setattr(member, name, value)
    member.save(update_fields=list(fields))
    if user is not None and "email" in fields and user.email != fields["email"]:
        # Staff log in with a username of their own; only customer logins are emails.
        if user.username.lower() == (user.email or "").lower():
            user.username = fields["email"]
        user.email = fields["email"]
        user.save(update_fields=["username", "email"])
    return member


def _consent_write(
    *,
    member: Member,
    channel: str,
    granted: bool,
    source: str,
    changed_by: User | None,
    at,
) -> None:
    setattr(member, f"{channel}_consent", granted)
    setattr(member, f"{channel}_consent_at", at)
    setattr(member, f"{channel}_consent_source", source)
    member.save(
        update_fields=[
            f"{channel}_consent",
            f"{channel}_consent_at",
            f"{channel}_consent_source",
        ]
    )
    ConsentEvent.objects.create(
        member=member,
        channel=channel,
        granted=granted,
        source=source,
        changed_by=changed_by,
        created_at=at,
    )


@transaction.atomic
def member_consent_set(
    *,
    member: Member,
    channel: str,
    granted: bool,
    source: str,
    changed_by: User | None = None,
) -> bool:
    """Set consent for one channel and keep the change in history.

    Returns True when something changed; setting the current value again writes nothing.
    """
    if channel not in Channel.values:
        raise InvalidInput(_("Unknown channel."), field="channel")
    if getattr(member, f"{channel}_consent") == granted:
        return False
    _consent_write(
        member=member,
        channel=channel,
        granted=granted,
        source=source,
        changed_by=changed_by,
        at=timezone.now(),
    )
    return True


# --- Sign-up and claiming a counter membership ------------------------------------


@dataclass
class SignupResult:
    user: User | None
    member: Member
    pending_code: OneTimeCode | None  # set when the membership must be proven first


def _hash_code(code: str) -> str:
    return make_password(code)


def otp_send(*, member: Member, channel: str, payload: dict) -> OneTimeCode:
    """Create a one-time code and send it after commit by SMS or email.

    The raw code leaves only through the message; the row keeps a hash. A new
    code voids the member's earlier unused ones, and at most OTP_MAX_PER_HOUR
    codes go to one member in an hour.
    """
    now = timezone.now()
    recent = OneTimeCode.objects.filter(
        member=member, created_at__gte=now - dt.timedelta(hours=1)
    )
    if recent.count() >= OTP_MAX_PER_HOUR:
        raise InvalidInput(
            _("Too many codes were sent for this membership; try again in an hour."),
            field="phone" if channel == Channel.SMS else "email",
        )
    OneTimeCode.objects.filter(member=member, used_at__isnull=True).update(used_at=now)
    code = f"{secrets.randbelow(10**6):06d}"
    destination = member.phone if channel == Channel.SMS else member.email
    otp = OneTimeCode.objects.create(
        member=member,
        purpose=OneTimeCode.Purpose.CLAIM,
        channel=channel,
        destination=destination,
        code_hash=_hash_code(code),
        payload=payload,
        expires_at=timezone.now()
        + dt.timedelta(minutes=settings.LOYALTY_OTP_TTL_MINUTES),
    )
    with translation.override(member.language):
        text = _(
            "Your loyalty confirmation code: %(code)s. It is valid for %(minutes)s minutes."
        ) % {
            "code": code,
            "minutes": settings.LOYALTY_OTP_TTL_MINUTES,
        }
        subject = _("Your confirmation code")
    if channel == Channel.SMS:
        transaction.on_commit(lambda: sms_send(to=destination, text=text))
    else:
        transaction.on_commit(lambda: send_mail(subject, text, None, [destination]))
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
) -> SignupResult:
    """Sign a customer up online.

    A new phone and email: create the login and the membership at once.
    A phone or email that staff enrolled at the counter without a login: send a
    code to that phone (or email) and create the login only when the code is
    entered (`member_claim_verify`). A membership that has a login already: refused.
    """
    email = _normalize_email(email)
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
    existing = by_phone or by_email
    if existing:
        if existing.user_id:
            raise InvalidInput(
                _("This membership already has an online account; log in instead."),
                field="phone" if by_phone else "email",
            )
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
    )
    return SignupResult(user=user, member=member, pending_code=None)


class WrongCode(InvalidInput):
    """The code did not match; the failed attempt has been counted."""


def member_claim_verify(*, otp_id: int, code: str) -> User:
    """Check a claim code; on success create the login and link the membership.

    Locks the code row, then the member, so that two submissions cannot both
    succeed. A wrong code is counted (committed) before WrongCode is raised.
    """
    with transaction.atomic():
        otp = OneTimeCode.objects.select_for_update().filter(pk=otp_id).first()
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
    member = Member.objects.select_for_update().get(pk=otp.member_id)
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


# --- API tokens ----------------------------------------------------------------------


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


def api_token_check(raw: str) -> ApiToken | None:
    """The active token whose hash matches `raw`, or None."""
    if not raw:
        return None
    token = (
        ApiToken.objects.select_related("store")
        .filter(
            key_hash=api_token_hash(raw), revoked_at__isnull=True, store__is_active=True
        )
        .first()
    )
    if token is None or not hmac.compare_digest(token.key_hash, api_token_hash(raw)):
        return None
    return token


def store_get_or_create(
    *,
    code: str,
    name: str | None = None,
    address: str = "",
    timezone_name: str | None = None,
) -> tuple[Store, bool]:
    """The store with this code, created with the given details when missing."""
    return Store.objects.get_or_create(
        code=code,
        defaults={
            "name": name or code,
            "address": address,
            "timezone": timezone_name or settings.TIME_ZONE,
        },
    )
