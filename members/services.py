"""Every write to members, consent, logins and API tokens goes through here."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from members.audit import StaffActor, audited_delete, audited_save, staff_audit_record
from members.cards import card_number_is_valid, card_number_new
from members.errors import Conflict, InvalidInput, NotFound, ServiceError
from members.locks import member_lock, one_time_code_lock
from members.messages import message_send
from members.models import (
    ApiToken,
    AuditAction,
    BonusSettings,
    Channel,
    ConsentEvent,
    ConsentSource,
    Member,
    OneTimeCode,
    Partner,
    Referral,
    ReferralStatus,
    RefusalReason,
    StaffControls,
    Store,
    User,
)
from members.phones import phone_normalize
from members.selectors import bonus_settings_get, referral_get_by_code

PROFILE_FIELDS = (
    "first_name",
    "last_name",
    "birthday",
    "gender",
    "interests",
    "language",
    "home_store",
    "preferred_channel",
    "preferred_send_hour",
    "timezone",
)
OTP_MAX_ATTEMPTS = 5
CARD_MAX_LENGTH = 20  # Member.card_number
OTP_MAX_PER_HOUR = (
    3  # codes sent to one member per hour: bounds guessing and SMS flooding
)
# The Message kind of a one-time code; campaigns.messaging.services blanks the code out
# of the stored text once the message has left (see SECRET_KINDS there).
OTP_MESSAGE_KIND = "one-time-code"


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


def _phone_taken(existing: Member) -> MemberAlreadyEnrolled:
    return MemberAlreadyEnrolled(
        _("This phone is already enrolled with card %(card)s.")
        % {"card": existing.card_number},
        member=existing,
        field="phone",
    )


def _email_taken(existing: Member) -> MemberAlreadyEnrolled:
    return MemberAlreadyEnrolled(
        _("This email belongs to another member."), member=existing, field="email"
    )


def _card_taken(card_number: str) -> Conflict:
    return Conflict(
        _("Card %(card)s belongs to another member.") % {"card": card_number},
        field="card_number",
    )


def _already_enrolled(*, phone: str, email: str | None) -> MemberAlreadyEnrolled | None:
    """The error naming the member who has this phone (or else this email), if any."""
    existing = Member.objects.filter(phone=phone).first()
    if existing:
        return _phone_taken(existing)
    existing = email and Member.objects.filter(email__iexact=email).first()
    if existing:
        return _email_taken(existing)
    return None


def _card_number_clean(card_number: str | None) -> str | None:
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


def _language_clean(language: str | None) -> str:
    language = language or settings.LANGUAGE_CODE
    if language not in dict(settings.LANGUAGES):
        raise InvalidInput(
            _("Unknown language “%(lang)s”.") % {"lang": language}, field="language"
        )
    return language


def _member_build(
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
) -> Member:
    """The new member row, unsaved: member_enroll saves it, members_enroll_many
    bulk-creates it."""
    member = Member(
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
    referral_code: str | None = None,
    device_id: str = "",
    card_number: str | None = None,
    actor: StaffActor | None = None,
) -> Member:
    """Enroll a customer: a card number, a referral code, a points account,
    consent history, the welcome bonus and, with a friend's referral code, the
    referral and its bonus for the new member. Enrolled by staff (`actor`),
    also the audit row.

    Raises MemberAlreadyEnrolled when the phone or email is taken (a referral
    code given with it is kept as a refused referral). `card_number`, when
    given (a card from an earlier system, see members.imports), is kept if its
    check digit is right, else InvalidInput; Conflict if another member has it.
    With a referral code, locks the referrer's member row (their referral caps
    are counted under it), then the new account for the bonuses; the unique
    constraints decide races; queues nothing.
    """
    phone = phone_normalize(phone)
    email = _normalize_email(email)
    device_id = (device_id or "").strip()[:64]
    referrer = _referrer_get(referral_code)
    taken = _already_enrolled(phone=phone, email=email)
    if taken is not None:
        if referrer is not None:
            _referral_refuse_enrolled(referrer=referrer, existing=taken.member)
        raise taken
    card_number = _card_number_clean(card_number)
    language = _language_clean(language)
    now = enrolled_at or timezone.now()
    from rewards.services import (
        points_account_create,  # rewards depends on members, not back
    )

    for _attempt in range(5):
        try:
            with transaction.atomic():
                member = _member_build(
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
                )
                member.save(force_insert=True)
                points_account_create(member=member)
                for channel, granted in (
                    (Channel.EMAIL, email_consent),
                    (Channel.SMS, sms_consent),
                ):
                    if granted:
                        consent_write(
                            member=member,
                            channel=channel,
                            granted=True,
                            source=source,
                            changed_by=enrolled_by,
                            at=now,
                        )
                _enroll_bonuses(member=member, referrer=referrer, now=now)
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
                raise _card_taken(card_number) from None
            # Otherwise a random card number or referral code collided: draw again.
    raise Conflict(_("Could not allocate a card number; try again."))


# --- Bulk enrollment (CSV import) ----------------------------------------------------

CARD_DRAWS = 5  # rounds of redrawing card numbers or referral codes that collided


@dataclass(frozen=True)
class EnrollInput:
    """One customer for members_enroll_many: the arguments of member_enroll that
    a file of members gives (no login, device or referral code)."""

    phone: str
    email: str | None = None
    first_name: str = ""
    last_name: str = ""
    birthday: dt.date | None = None
    language: str | None = None
    store: Store | None = None
    card_number: str | None = None
    email_consent: bool = False
    sms_consent: bool = False


@dataclass(frozen=True)
class EnrollOutcome:
    """What became of one EnrollInput: the new member, or the error member_enroll
    raises for it (MemberAlreadyEnrolled, Conflict, InvalidInput)."""

    member: Member | None = None
    error: ServiceError | None = None


def members_enroll_many(
    *, rows: list[EnrollInput], source: str, enrolled_by: User | None = None
) -> list[EnrollOutcome]:
    """Enroll many customers at once (members.imports): what member_enroll does
    for each row, with its checks, messages and bonuses, in one transaction and
    a fixed number of statements whatever the number of rows.

    The rows are checked in order as if enrolled one after the other: a phone
    or email already enrolled, or taken by an earlier row, is refused with
    member_enroll's error, as are a bad card number or language and a card
    another member (or an earlier row) has. One query each looks up the phones,
    the emails, the card numbers (given and drawn) and the drawn referral
    codes; then one bulk_create each writes the members, their points accounts,
    the welcome and profile bonuses (entries, lots, cached balances, with
    member_enroll's idempotency keys: rerunning a file pays nothing twice, as
    its phones are enrolled) and the consent history.

    The unique constraints still decide races: if one fires (a member enrolled
    meanwhile), the transaction rolls back and every row goes through
    member_enroll, one by one, so the outcomes are exactly member_enroll's.
    Returns one outcome per row, in order. Locks nothing (the rows are new);
    queues nothing.
    """
    outcomes: list[EnrollOutcome | None] = [None] * len(rows)
    phones: dict[int, str] = {}
    emails: dict[int, str | None] = {}
    for index, row in enumerate(rows):
        try:
            phones[index] = phone_normalize(row.phone)
        except ServiceError as exc:
            outcomes[index] = EnrollOutcome(error=exc)
        emails[index] = _normalize_email(row.email)
    if not phones:
        return outcomes
    by_phone = {
        member.phone: member
        for member in Member.objects.filter(phone__in=set(phones.values())).only(
            "pk", "phone", "card_number"
        )
    }
    wanted_emails = {email for email in emails.values() if email}
    by_email = {}
    if wanted_emails:
        for member in (
            Member.objects.annotate(email_folded=Lower("email"))
            .filter(email_folded__in=wanted_emails)
            .only("pk", "email", "card_number")
        ):
            by_email.setdefault(member.email_folded, member)
    given = {(rows[index].card_number or "").strip() for index in phones} - {""}
    drawn = _draw_unused(
        card_number_new,
        count=sum(rows[index].card_number is None for index in phones),
        in_use=lambda cards: set(
            Member.objects.filter(card_number__in=cards).values_list(
                "card_number", flat=True
            )
        ),
        check_too=given,
    )
    if drawn is None:
        return _members_enroll_each(rows=rows, source=source, enrolled_by=enrolled_by)
    drawn, cards_taken = drawn
    now = timezone.now()
    conf = bonus_settings_get()
    # The phones, emails and cards of the earlier rows of this batch.
    claimed_phones: dict[str, Member] = {}
    claimed_emails: dict[str, Member] = {}
    claimed_cards: set[str] = set()
    new: list[tuple[int, Member]] = []
    for index, phone in phones.items():
        row, email = rows[index], emails[index]
        try:
            existing = by_phone.get(phone) or claimed_phones.get(phone)
            if existing:
                raise _phone_taken(existing)
            existing = email and (by_email.get(email) or claimed_emails.get(email))
            if existing:
                raise _email_taken(existing)
            card = _card_number_clean(row.card_number)
            language = _language_clean(row.language)
            if card and (card in cards_taken or card in claimed_cards):
                raise _card_taken(card)
        except ServiceError as exc:
            outcomes[index] = EnrollOutcome(error=exc)
            continue
        member = _member_build(
            phone=phone,
            email=email,
            first_name=row.first_name,
            last_name=row.last_name,
            birthday=row.birthday,
            gender="",
            language=language,
            store=row.store,
            enrolled_by=enrolled_by,
            user=None,
            device_id="",
            card_number=card or drawn.pop(),
            referral_code="",  # drawn below for the rows that get this far
            now=now,
        )
        for channel, granted in (
            (Channel.EMAIL, row.email_consent),
            (Channel.SMS, row.sms_consent),
        ):
            if granted:
                _consent_apply(
                    member, channel=channel, granted=True, source=source, at=now
                )
        if conf.profile_points and _profile_bonus_due(member):
            member.profile_bonus_at = now
        claimed_phones[phone] = member
        if email:
            claimed_emails[email] = member
        claimed_cards.add(member.card_number)
        new.append((index, member))
    if not new:
        return outcomes
    members = [member for _index, member in new]
    codes = _draw_unused(
        referral_code_new,
        count=len(members),
        in_use=lambda codes: set(
            Member.objects.filter(referral_code__in=codes).values_list(
                "referral_code", flat=True
            )
        ),
    )
    if codes is None:
        return _members_enroll_each(rows=rows, source=source, enrolled_by=enrolled_by)
    for member, code in zip(members, codes[0], strict=True):
        member.referral_code = code
    from rewards.services import (  # rewards depends on members, not back
        BonusInput,
        points_accounts_open,
    )

    try:
        with transaction.atomic(durable=True):
            Member.objects.bulk_create(members)
            bonuses: dict[int, list[BonusInput]] = {}
            for member in members:
                planned = bonuses[member.pk] = []
                if conf.welcome_points:
                    planned.append(
                        BonusInput(
                            conf.welcome_points, WELCOME_REASON, _welcome_key(member)
                        )
                    )
                if member.profile_bonus_at is not None:
                    planned.append(
                        BonusInput(
                            conf.profile_points, PROFILE_REASON, _profile_key(member)
                        )
                    )
            points_accounts_open(members=members, bonuses=bonuses)
            ConsentEvent.objects.bulk_create(
                ConsentEvent(
                    member=member,
                    channel=channel,
                    granted=True,
                    source=source,
                    changed_by=enrolled_by,
                    created_at=now,
                )
                for member in members
                for channel in (Channel.EMAIL, Channel.SMS)
                if getattr(member, f"{channel}_consent")
            )
    except IntegrityError:
        # A phone, email or card enrolled since the lookups (or a key paid):
        # member_enroll decides each row, as it would have alone.
        for member in members:
            member.pk = None
        return _members_enroll_each(rows=rows, source=source, enrolled_by=enrolled_by)
    for index, member in new:
        outcomes[index] = EnrollOutcome(member=member)
    return outcomes


def _draw_unused(
    draw: Callable[[], str],
    *,
    count: int,
    in_use: Callable[[set[str]], set[str]],
    check_too: set[str] = frozenset(),
) -> tuple[list[str], set[str]] | None:
    """`count` distinct values from `draw()` (card numbers, referral codes) that
    no member has and that are not in `check_too`, with one query normally:
    `in_use(values)` returns those taken, and `check_too` (the cards a file
    gives) is checked in the same query. The few that collide are drawn again.
    Returns (values, which of `check_too` are taken), or None when collisions
    keep coming (the caller falls back to member_enroll, which retries alone)."""
    values: set[str] = set()
    too_taken: set[str] | None = None
    for _round in range(CARD_DRAWS):
        while len(values) < count:
            value = draw()
            if value not in check_too:
                values.add(value)
        if too_taken is None:
            found = in_use(values | check_too)
            too_taken = found & check_too
        else:
            found = in_use(values)
        values -= found
        if len(values) == count:
            return list(values), too_taken
    return None


def _members_enroll_each(
    *, rows: list[EnrollInput], source: str, enrolled_by: User | None = None
) -> list[EnrollOutcome]:
    """members_enroll_many's fallback: member_enroll for each row, in order."""
    outcomes = []
    for row in rows:
        try:
            member = member_enroll(
                phone=row.phone,
                email=row.email,
                first_name=row.first_name,
                last_name=row.last_name,
                birthday=row.birthday,
                language=row.language,
                store=row.store,
                card_number=row.card_number,
                email_consent=row.email_consent,
                sms_consent=row.sms_consent,
                source=source,
                enrolled_by=enrolled_by,
            )
        except ServiceError as exc:
            outcomes.append(EnrollOutcome(error=exc))
        else:
            outcomes.append(EnrollOutcome(member=member))
    return outcomes


@transaction.atomic
def member_update_profile(*, member: Member, **fields) -> Member:
    """Change a member's profile fields (not phone, card or consent).

    The first time first name, last name, birthday and email are all set, the
    profile bonus is credited in the same transaction (locks the account).

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
    if fields.get("birthday") and fields["birthday"] != member.birthday:
        # A birthday entered (or changed) now earns no birthday bonus for 30 days.
        fields["birthday_set_at"] = timezone.now()
    for name, value in fields.items():
        setattr(member, name, value)
    member.save(update_fields=list(fields))
    _profile_bonus_check(member=member)
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

    One transaction; locks the points account when the profile bonus falls
    due; queues nothing.
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


def _consent_apply(
    member: Member, *, channel: str, granted: bool, source: str, at
) -> None:
    """Set the member's current consent for one channel (not saved)."""
    setattr(member, f"{channel}_consent", granted)
    setattr(member, f"{channel}_consent_at", at)
    setattr(member, f"{channel}_consent_source", source)


def consent_write(
    *,
    member: Member,
    channel: str,
    granted: bool,
    source: str,
    changed_by: User | None,
    at,
) -> None:
    _consent_apply(member, channel=channel, granted=granted, source=source, at=at)
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
    consent_write(
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
            text = _(
                "Your loyalty confirmation code: %(code)s. It is valid for %(minutes)s minutes."
            ) % {
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
    referrer = _referrer_get(referral_code)
    existing = by_phone or by_email
    if existing:
        if existing.user_id:
            raise InvalidInput(
                _("This membership already has an online account; log in instead."),
                field="phone" if by_phone else "email",
            )
        if referrer is not None:
            _referral_refuse_enrolled(referrer=referrer, existing=existing)
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


def store_save(*, store: Store, actor: StaffActor | None = None) -> Store:
    """Add or change a store as staff edited it (the admin): validated, saved,
    with the audit row of `actor`. Locks nothing; queues nothing."""
    return audited_save(obj=store, actor=actor)


def store_delete(*, store: Store, actor: StaffActor | None = None) -> None:
    """Delete a store with the audit row of `actor`. Receipts, vouchers and
    the figures protect their store (ProtectedError), so only a store nothing
    happened at goes; its till tokens go with it. Queues nothing."""
    audited_delete(obj=store, actor=actor)


def user_save(*, user: User, actor: StaffActor | None = None) -> User:
    """Add or change a staff or customer login as the admin's user forms left it
    (the password already hashed by the form), with the audit row of `actor`
    naming the fields changed (never their values). Groups and permissions are
    the form's many-to-many, saved after this. Locks nothing; queues nothing."""
    return audited_save(obj=user, actor=actor, clean=False)


def user_delete(*, user: User, actor: StaffActor | None = None) -> None:
    """Delete a login with the audit row of `actor`. Ledger entries, adjustment
    requests and audit rows protect their user (ProtectedError): deactivate
    such a login instead. Queues nothing."""
    audited_delete(obj=user, actor=actor)


# --- Bonuses and referrals -------------------------------------------------------------

REFERRAL_ALPHABET = (
    "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud safely
)
REFERRAL_CODE_LENGTH = 8
BIRTHDAY_NOTICE_DAYS = 30  # a birthday entered closer to it than this earns nothing
# Mail providers whose addresses ignore dots and "+tags" in the local part.
DOTLESS_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def referral_code_new() -> str:
    """A random code such as "K7MPQ2XR"; 31**8 codes make a collision rare, and
    the unique constraint turns one into a retried enrollment."""
    return "".join(
        secrets.choice(REFERRAL_ALPHABET) for _ in range(REFERRAL_CODE_LENGTH)
    )


def _referrer_get(code: str | None) -> Member | None:
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


def _email_canonical(email: str | None) -> str:
    """The mailbox behind an address: "+tags" dropped, and dots where they do not count."""
    local, _sep, domain = (email or "").lower().partition("@")
    local = local.split("+", 1)[0]
    if domain in DOTLESS_DOMAINS:
        local = local.replace(".", "")
    return f"{local}@{domain}" if domain else ""


def _referral_refuse_enrolled(*, referrer: Member, existing: Member) -> Referral:
    """Keep the attempt of an existing member to join with a code, refused."""
    reason = (
        RefusalReason.SELF_REFERRAL
        if existing.pk == referrer.pk
        else RefusalReason.ALREADY_ENROLLED
    )
    return Referral.objects.create(
        referrer=referrer,
        referee=None,
        referee_phone=existing.phone,
        status=ReferralStatus.REFUSED,
        refusal_reason=reason,
    )


def _month_start(moment: dt.datetime) -> dt.datetime:
    local = timezone.localtime(moment)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _referral_decide(
    *, referrer: Member, member: Member, now: dt.datetime, conf
) -> tuple[str, str, str]:
    """(status, refusal reason, review note) for a new member's referral.

    Refused: the same phone, mailbox (see _email_canonical) or device as the
    referrer, or over the referrer's cap this calendar month. Held for review:
    more than `referral_review_per_day` referrals by the referrer within 24
    hours, or the same email domain and last name as the referrer (a family
    member, or one person with two addresses: staff decide).
    """
    same_email = member.email and _email_canonical(member.email) == _email_canonical(
        referrer.email
    )
    same_device = member.device_id and member.device_id == referrer.device_id
    if member.phone == referrer.phone or same_email or same_device:
        return ReferralStatus.REFUSED, RefusalReason.SELF_REFERRAL, ""
    counted = referrer.referrals_made.exclude(status=ReferralStatus.REFUSED)
    if counted.filter(created_at__gte=_month_start(now)).count() >= (
        conf.referral_cap_per_month
    ):
        return ReferralStatus.REFUSED, RefusalReason.OVER_CAP, ""
    if counted.filter(created_at__gt=now - dt.timedelta(days=1)).count() >= (
        conf.referral_review_per_day
    ):
        return (
            ReferralStatus.REVIEW,
            "",
            _("Many referrals by this member in one day."),
        )
    domain = (member.email or "").rpartition("@")[2]
    if (
        domain
        and domain == (referrer.email or "").lower().rpartition("@")[2]
        and member.last_name
        and member.last_name.casefold() == referrer.last_name.casefold()
    ):
        return (
            ReferralStatus.REVIEW,
            "",
            _("Same last name and email domain as the referrer."),
        )
    return ReferralStatus.PENDING, "", ""


def _bonus(member: Member, points: int, reason: str, key: str, at=None) -> None:
    from rewards.services import points_bonus_grant  # rewards depends on members

    if points > 0:
        points_bonus_grant(
            member=member,
            points=points,
            reason=reason,
            idempotency_key=key,
            recorded_at=at,
        )


def _enroll_bonuses(
    *, member: Member, referrer: Member | None, now: dt.datetime
) -> None:
    conf = bonus_settings_get()
    at = now if now < timezone.now() - dt.timedelta(minutes=1) else None
    if referrer is not None:
        # The referrer's caps count their referrals: one enrollment at a time
        # (a member before any account, the order of rewards/locks.py).
        member_lock(member_id=referrer.pk)
    _bonus(member, conf.welcome_points, WELCOME_REASON, _welcome_key(member), at)
    if referrer is not None:
        status, reason, note = _referral_decide(
            referrer=referrer, member=member, now=now, conf=conf
        )
        referral = Referral.objects.create(
            referrer=referrer,
            referee=member,
            referee_phone=member.phone,
            status=status,
            refusal_reason=reason,
            review_note=note,
            created_at=now,
        )
        if status == ReferralStatus.PENDING:
            _referee_bonus(referral, conf, at)
    _profile_bonus_check(member=member, at=at)
    if conf.welcome_points or conf.profile_points or referrer is not None:
        # The bonuses moved the balance on a locked copy of the account row.
        member.account.refresh_from_db(fields=["balance", "updated_at"])


def _referee_bonus(referral: Referral, conf, at=None) -> None:
    _bonus(
        referral.referee,
        conf.referee_points,
        "Bonus for joining with a friend's code",
        f"referral:{referral.pk}:referee",
        at,
    )


WELCOME_REASON = "Welcome bonus"
PROFILE_REASON = "Profile completed"


def _welcome_key(member: Member) -> str:
    return f"welcome:{member.pk}"


def _profile_key(member: Member) -> str:
    return f"profile:{member.pk}"


def _profile_bonus_due(member: Member) -> bool:
    """Not given yet, and the profile is complete."""
    return member.profile_bonus_at is None and all(
        (member.first_name, member.last_name, member.birthday, member.email)
    )


def _profile_bonus_check(*, member: Member, at: dt.datetime | None = None) -> None:
    """Credit the profile bonus once, when the profile is first complete."""
    if not _profile_bonus_due(member):
        return
    points = bonus_settings_get().profile_points
    if not points:
        return  # switched off: a member completing it later may still get it
    _bonus(member, points, PROFILE_REASON, _profile_key(member), at)
    member.profile_bonus_at = at or timezone.now()
    member.save(update_fields=["profile_bonus_at"])


def _birthday_in(year: int, birthday: dt.date) -> dt.date:
    if birthday.month == 2 and birthday.day == 29:
        try:
            return birthday.replace(year=year)
        except ValueError:
            return dt.date(year, 2, 28)
    return birthday.replace(year=year)


def birthday_bonus_grant_due(
    *, today: dt.date | None = None, batch: int = 500, at: dt.datetime | None = None
) -> int:
    """Credit the birthday bonus (points, a gift voucher, or both) to members
    whose birthday month this is.

    Once a year (`Member.birthday_bonus_year` and the idempotency key
    "birthday:<member>:<year>"), and not when the birthday was entered less than
    BIRTHDAY_NOTICE_DAYS before it this year. Members are read in pk-ordered
    chunks of `batch`, one query per chunk; each member is credited in its own
    durable transaction, locking the member row and then the account. Safe to
    run twice. Returns how many bonuses were given.
    """
    today = today or timezone.localdate()
    conf = bonus_settings_get()
    points, reward = conf.birthday_points, conf.birthday_reward
    if not points and reward is None:
        return 0
    due = (
        Member.objects.filter(birthday__month=today.month)
        .exclude(birthday_bonus_year=today.year)
        .order_by("pk")
        .only("pk", "birthday", "birthday_set_at")
    )
    given, last_pk = 0, 0
    while True:
        chunk = list(due.filter(pk__gt=last_pk)[:batch])
        if not chunk:
            return given
        last_pk = chunk[-1].pk
        for member in chunk:
            birthday = _birthday_in(today.year, member.birthday)
            entered = member.birthday_set_at
            if entered is not None and timezone.localdate(entered) > (
                birthday - dt.timedelta(days=BIRTHDAY_NOTICE_DAYS)
            ):
                continue
            with transaction.atomic(durable=True):
                locked = (
                    Member.objects.select_for_update(of=("self",))
                    .filter(pk=member.pk)
                    .first()
                )
                if locked is None or locked.birthday_bonus_year == today.year:
                    continue
                key = f"birthday:{locked.pk}:{today.year}"
                if points:
                    _bonus(locked, points, "Birthday bonus", key, at)
                if reward is not None:
                    from rewards.models import VoucherSource  # no import cycle
                    from rewards.services import voucher_grant

                    voucher_grant(
                        member=locked,
                        reward=reward,
                        source=VoucherSource.BIRTHDAY,
                        idempotency_key=key,
                        at=at,
                    )
                locked.birthday_bonus_year = today.year
                locked.save(update_fields=["birthday_bonus_year"])
                given += 1


def referral_qualify_on_purchase(*, member: Member, purchase) -> Referral | None:
    """Called by purchase_record inside its transaction, after the earn entry.

    The referee's first purchase of at least the minimum qualifies a pending
    referral and credits the referrer's bonus once (key
    "referral:<id>:referrer"). Locks the referral row, then the referrer's
    account (the referee's account is already locked by the caller).
    """
    # Runs on every purchase: a bare indexed lookup first, the lock only for
    # the few members with a pending referral.
    pending = Referral.objects.filter(
        referee_id=member.pk, status=ReferralStatus.PENDING
    ).values_list("pk", flat=True)
    referral_id = pending.order_by().first()
    if referral_id is None:
        return None
    conf = bonus_settings_get()
    if purchase.total < conf.referral_min_purchase:
        return None
    referral = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("referrer")
        .filter(pk=referral_id, status=ReferralStatus.PENDING)
        .first()
    )
    if referral is None:
        return None
    return _referral_qualify(referral, conf, at=purchase.created_at)


def _referral_qualify(referral: Referral, conf, *, at: dt.datetime) -> Referral:
    referral.status = ReferralStatus.QUALIFIED
    referral.qualified_at = at
    referral.save(update_fields=["status", "qualified_at"])
    _bonus(
        referral.referrer,
        conf.referrer_points,
        "Bonus for referring a friend",
        f"referral:{referral.pk}:referrer",
        at if at < timezone.now() - dt.timedelta(minutes=1) else None,
    )
    return referral


def referral_approve(*, referral: Referral, by: User | None) -> Referral:
    """Staff approve a referral from the review queue.

    The new member gets the referee bonus now; when they have already made a
    qualifying purchase the referral qualifies at once and the referrer gets
    theirs. Locks the referral row, then the accounts.
    """
    from rewards.models import Purchase  # rewards depends on members

    with transaction.atomic(durable=True):
        referral = (
            Referral.objects.select_for_update(of=("self",))
            .select_related("referrer", "referee")
            .get(pk=referral.pk)
        )
        if referral.status != ReferralStatus.REVIEW:
            raise Conflict(
                _("Only a referral waiting for review can be approved."),
                field="status",
            )
        conf = bonus_settings_get()
        referral.status = ReferralStatus.PENDING
        referral.decided_by = by
        referral.save(update_fields=["status", "decided_by"])
        _referee_bonus(referral, conf)
        first = (
            Purchase.objects.filter(
                member_id=referral.referee_id, total__gte=conf.referral_min_purchase
            )
            .order_by("created_at", "pk")
            .first()
        )
        if first is not None:
            _referral_qualify(referral, conf, at=timezone.now())
    return referral


def referral_refuse(*, referral: Referral, by: User | None) -> Referral:
    """Staff refuse a referral from the review queue: no bonus to either member."""
    with transaction.atomic(durable=True):
        referral = Referral.objects.select_for_update(of=("self",)).get(pk=referral.pk)
        if referral.status != ReferralStatus.REVIEW:
            raise Conflict(
                _("Only a referral waiting for review can be refused."),
                field="status",
            )
        referral.status = ReferralStatus.REFUSED
        referral.refusal_reason = RefusalReason.STAFF
        referral.decided_by = by
        referral.save(update_fields=["status", "refusal_reason", "decided_by"])
    return referral


def settings_row_update(row, **values):
    """Set fields of a one-row settings table (bonus or program settings) from
    seed data or scripts: only editable fields, validated, one save."""
    model = type(row)
    unknown = set(values) - {f.name for f in model._meta.concrete_fields if f.editable}
    if unknown:
        raise InvalidInput(
            f"Not fields of {model.__name__}: {', '.join(sorted(unknown))}"
        )
    for name, value in values.items():
        setattr(row, name, value)
    row.full_clean()
    row.save()
    return row


def bonus_settings_update(**values) -> BonusSettings:
    """Set bonus and referral amounts on the one settings row (seed data, scripts)."""
    return settings_row_update(bonus_settings_get(), **values)


def bonus_settings_save(
    *, settings_row: BonusSettings, actor: StaffActor | None = None
) -> BonusSettings:
    """Save the one bonus and referral settings row as a Manager edited it (the
    admin): validated, with the audit row of `actor`. Locks nothing; queues
    nothing."""
    return audited_save(obj=settings_row, actor=actor)


def staff_controls_save(
    *, controls: StaffControls, actor: StaffActor | None = None
) -> StaffControls:
    """Save the one StaffControls row (approval threshold, cashier limits,
    anomaly rules) as a Manager edited it: validated, with the audit row of
    `actor`. Locks nothing; queues nothing."""
    return audited_save(obj=controls, actor=actor)


def partner_save(*, partner: Partner, actor: StaffActor | None = None) -> Partner:
    """Add or change a coalition partner as staff edited it (the admin):
    validated, with the audit row of `actor`. Its stores are set on the
    stores. Locks nothing; queues nothing."""
    return audited_save(obj=partner, actor=actor)


def partner_create(
    *,
    name: str,
    stores: list[Store] = (),
    contact_email: str = "",
    contact_phone: str = "",
    point_value=None,
) -> Partner:
    """A coalition partner and the stores that are its tills (seed data, scripts;
    staff use the Partner admin). Validates; one transaction; queues nothing."""
    partner = Partner(
        name=name,
        contact_email=contact_email,
        contact_phone=contact_phone,
        point_value=point_value,
    )
    partner.full_clean()
    with transaction.atomic():
        partner.save()
        Store.objects.filter(pk__in=[s.pk for s in stores]).update(partner=partner)
    return partner
