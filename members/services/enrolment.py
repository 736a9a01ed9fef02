"""Enrolment: a new member (one, or a file's worth at once in
members.services.enrolment_bulk) and changes to a member's profile.

What the apps above add to an enrolment (rewards: the points account, bonuses
and referrals) plugs in through members.services.hooks.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from members.audit import StaffActor, staff_audit_record
from members.cards import card_number_is_valid, card_number_new
from members.errors import Conflict, InvalidInput
from members.models import (
    AuditAction,
    Channel,
    ConsentSource,
    Member,
    MemberSource,
    Store,
    User,
)
from members.phones import phone_normalize
from members.selectors import referral_get_by_code
from members.services.consent import consent_write, member_consent_set
from members.services.hooks import (
    enrolment_refused_run,
    enrolment_run,
    member_created_run,
    profile_run,
)
from members.services.interests import member_interests_set
from members.services.sources import (
    FirstTouch,
    member_source_clean,
    member_source_for,
)
from members.services.webhooks import member_enrolled_event_record

PROFILE_FIELDS = (
    "first_name",
    "last_name",
    "birthday",
    "gender",
    "interests",
    "picked_interests",
    "language",
    "home_store",
    "preferred_channel",
    "preferred_send_hour",
    "timezone",
)
CARD_MAX_LENGTH = 20  # Member.card_number

REFERRAL_ALPHABET = (
    "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud safely
)
REFERRAL_CODE_LENGTH = 8


def referral_code_new() -> str:
    """A random code such as "K7MPQ2XR"; 31**8 codes make a collision rare, and
    the unique constraint turns one into a retried enrollment."""
    return "".join(
        secrets.choice(REFERRAL_ALPHABET) for _ in range(REFERRAL_CODE_LENGTH)
    )


def referrer_get(code: str | None) -> Member | None:
    """The member whose referral code was given, None without a code;
    InvalidInput when no member has it."""
    if not (code or "").strip():
        return None
    referrer = referral_get_by_code(code=code)
    if referrer is None:
        raise InvalidInput(
            _("No member has the referral code “%(code)s”.")
            % {"code": code.strip()[:20]},
            field="referral_code",
        )
    return referrer


class MemberAlreadyEnrolled(Conflict):
    """The phone (or email) belongs to a member already; `member` is that one.

    A taken phone names that member's card: whoever holds the phone can look
    the member up by it anyway (Counter, till API), and the till goes on with
    that card. A taken email names no card: nothing else finds a member by
    email, so a till must not learn another member's card from one."""

    def __init__(self, message: str, *, member: Member, field: str) -> None:
        extra = {"card_number": member.card_number} if field == "phone" else {}
        super().__init__(message, field=field, **extra)
        self.member = member


def phone_taken_error(existing: Member) -> MemberAlreadyEnrolled:
    return MemberAlreadyEnrolled(
        _("This phone is already enrolled with card %(card)s.")
        % {"card": existing.card_number},
        member=existing,
        field="phone",
    )


def email_taken_error(existing: Member) -> MemberAlreadyEnrolled:
    return MemberAlreadyEnrolled(
        _("This email belongs to another member."), member=existing, field="email"
    )


def card_taken_error(card_number: str) -> Conflict:
    return Conflict(
        _("Card %(card)s belongs to another member.") % {"card": card_number},
        field="card_number",
    )


def _already_enrolled(*, phone: str, email: str | None) -> MemberAlreadyEnrolled | None:
    """The error naming the member who has this phone (or else this email), if any."""
    existing = Member.objects.filter(phone=phone).first()
    if existing:
        return phone_taken_error(existing)
    existing = email and Member.objects.filter(email__iexact=email).first()
    if existing:
        return email_taken_error(existing)
    return None


def card_number_clean(card_number: str | None) -> str | None:
    """A card from an earlier system, stripped, or InvalidInput; None: draw one."""
    if card_number is None:
        return None
    card_number = card_number.strip()
    if not card_number_is_valid(card_number) or len(card_number) > CARD_MAX_LENGTH:
        raise InvalidInput(
            _("“%(card)s” is not a valid card number.") % {"card": card_number},
            field="card_number",
        )
    return card_number


def language_clean(language: str | None) -> str:
    language = language or settings.LANGUAGE_CODE
    if language not in dict(settings.LANGUAGES):
        raise InvalidInput(
            _("Unknown language “%(lang)s”.") % {"lang": language}, field="language"
        )
    return language


def member_build(
    *,
    phone: str,
    email: str | None,
    first_name: str,
    last_name: str,
    birthday: dt.date | None,
    gender: str,
    language: str,
    store: Store | None,
    enrolled_by: User | None,
    user: User | None,
    device_id: str,
    card_number: str,
    referral_code: str,
    now: dt.datetime,
    member_source: str = MemberSource.OTHER,
    referred_by: Member | None = None,
    first_touch: FirstTouch | None = None,
) -> Member:
    """The new member row, unsaved: member_enroll saves it, members_enroll_many
    bulk-creates it. `member_source` (members.services.sources) with the
    referrer and, online, the first visit's UTM parameters."""
    touch = first_touch or FirstTouch()
    member = Member(
        source=member_source,
        referred_by=referred_by,
        utm_source=touch.utm_source,
        utm_medium=touch.utm_medium,
        utm_campaign=touch.utm_campaign,
        first_seen_at=touch.first_seen_at,
        user=user,
        card_number=card_number,
        referral_code=referral_code,
        device_id=device_id,
        birthday_set_at=now if birthday else None,
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
    member.search_text_refresh()
    return member


def email_normalize(email: str | None) -> str | None:
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
    email_consent_at: dt.datetime | None = None,
    sms_consent_at: dt.datetime | None = None,
    source: str = ConsentSource.COUNTER,
    enrolled_at: dt.datetime | None = None,
    referral_code: str | None = None,
    device_id: str = "",
    card_number: str | None = None,
    actor: StaffActor | None = None,
    first_touch: FirstTouch | None = None,
    member_source: str | None = None,
) -> Member:
    """Enroll a customer: a card number, a referral code and consent history,
    plus what the apps above add through members.services.hooks (rewards: a
    points account, the welcome bonus and, with a friend's referral code, the
    referral and its bonus for the new member), all in one transaction.
    Enrolled by staff (`actor`), also the audit row. The member's source
    follows from `source`, the store and the referrer
    (members.services.sources.member_source_for); `first_touch`: the first
    visit's UTM parameters of an online sign-up (or those a till sends).
    `member_source`, when given (a till that knows better, the API's
    `source`), is the member's source as it is: InvalidInput for an unknown one.

    Raises MemberAlreadyEnrolled when the phone or email is taken (the
    enrolment-refused hooks see a referral code given with it: rewards keeps it
    as a refused referral). InvalidInput for a referral code no member has.
    `email_consent_at`/`sms_consent_at`: when a consent given was given (an
    earlier system's date; default now). `card_number`, when given (a card from an earlier system, see
    members.imports), is kept if its check digit is right, else InvalidInput;
    Conflict if another member has it. With a referral code, rewards' hook
    locks the referrer's member row (their referral caps are counted under it),
    then the new account for the bonuses; the unique constraints decide races;
    queues nothing.
    """
    phone = phone_normalize(phone)
    email = email_normalize(email)
    device_id = (device_id or "").strip()[:64]
    referrer = referrer_get(referral_code)
    taken = _already_enrolled(phone=phone, email=email)
    if taken is not None:
        if referrer is not None:
            enrolment_refused_run(referrer=referrer, existing=taken.member)
        raise taken
    card_number = card_number_clean(card_number)
    language = language_clean(language)
    if member_source is not None:
        member_source = member_source_clean(member_source)
    else:
        member_source = member_source_for(
            consent_source=source, store=store, has_referrer=referrer is not None
        )
    now = enrolled_at or timezone.now()
    for _attempt in range(5):
        try:
            with transaction.atomic():
                member = member_build(
                    phone=phone,
                    email=email,
                    first_name=first_name,
                    last_name=last_name,
                    birthday=birthday,
                    gender=gender,
                    language=language,
                    store=store,
                    enrolled_by=enrolled_by,
                    user=user,
                    device_id=device_id,
                    card_number=card_number or card_number_new(),
                    referral_code=referral_code_new(),
                    now=now,
                    member_source=member_source,
                    referred_by=referrer,
                    first_touch=first_touch,
                )
                member.save(force_insert=True)
                member_created_run(member=member)
                for channel, granted, consent_at in (
                    (Channel.EMAIL, email_consent, email_consent_at),
                    (Channel.SMS, sms_consent, sms_consent_at),
                ):
                    if granted:
                        consent_write(
                            member=member,
                            channel=channel,
                            granted=True,
                            source=source,
                            changed_by=enrolled_by,
                            at=consent_at or now,
                        )
                # First in the member's webhook sequence, before the welcome
                # bonus the hooks below pay.
                member_enrolled_event_record(member=member)
                enrolment_run(member=member, referrer=referrer, now=now)
                staff_audit_record(
                    actor=actor,
                    action=AuditAction.MEMBER_ENROLLED,
                    member=member,
                    obj=member,
                )
                return member
        except IntegrityError:
            taken = _already_enrolled(phone=phone, email=email)
            if taken is not None:  # another enrollment won the race
                raise taken from None
            if card_number and Member.objects.filter(card_number=card_number).exists():
                raise card_taken_error(card_number) from None
            # Otherwise a random card number or referral code collided: draw again.
    raise Conflict(_("Could not allocate a card number; try again."))


@transaction.atomic
def member_update_profile(*, member: Member, **fields) -> Member:
    """Change a member's profile fields (not phone, card or consent).

    The profile hooks run after the save, in the same transaction (rewards
    credits the profile bonus the first time first name, last name, birthday
    and email are all set; it locks the account).

    A new email moves the web login with it (customers log in with their email),
    so log-in and password reset follow the address the member gave.
    """
    unknown = set(fields) - set(PROFILE_FIELDS) - {"email"}
    if unknown:
        raise InvalidInput(f"Not profile fields: {', '.join(sorted(unknown))}")
    user = member.user
    if "email" in fields:
        email = email_normalize(fields["email"])
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
    picked = fields.pop("picked_interests", None)
    if fields.get("birthday") and fields["birthday"] != member.birthday:
        # A birthday entered (or changed) now earns no birthday bonus for 30 days.
        fields["birthday_set_at"] = timezone.now()
    for name, value in fields.items():
        setattr(member, name, value)
    if fields:
        member.save(update_fields=list(fields))
    if picked is not None:
        member_interests_set(member=member, interests=picked)
    profile_run(member=member)
    if user is not None and "email" in fields and user.email != fields["email"]:
        # Staff log in with a username of their own; only customer logins are emails.
        if user.username.lower() == (user.email or "").lower():
            user.username = fields["email"]
        user.email = fields["email"]
        user.save(update_fields=["username", "email"])
    return member


def member_change(
    *,
    member: Member,
    changes: dict,
    source: str = ConsentSource.ADMIN,
    actor: StaffActor | None = None,
) -> Member:
    """Apply a staff form's changes to a member: profile fields and email
    (member_update_profile), consent per channel (member_consent_set, history
    kept), and one audit row naming the changed fields (never their values).

    One transaction; the profile hooks may lock the points account; queues
    nothing.
    """
    consents = {f"{channel}_consent": channel for channel in Channel}
    unknown = set(changes) - set(PROFILE_FIELDS) - {"email"} - set(consents)
    if unknown:
        raise InvalidInput(f"Not member fields: {', '.join(sorted(unknown))}")
    profile = {name: value for name, value in changes.items() if name not in consents}
    with transaction.atomic():
        if profile:
            member_update_profile(member=member, **profile)
        for name, channel in consents.items():
            if name in changes:
                member_consent_set(
                    member=member,
                    channel=channel,
                    granted=changes[name],
                    source=source,
                    changed_by=actor.user if actor is not None else None,
                )
        if changes:
            staff_audit_record(
                actor=actor,
                action=AuditAction.MEMBER_CHANGED,
                member=member,
                obj=member,
                details={"fields": sorted(changes)},
            )
    return member
