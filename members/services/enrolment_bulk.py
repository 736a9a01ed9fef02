"""Bulk enrolment (a file of members): member_enroll's set-based twin."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from members.cards import card_number_new
from members.errors import ServiceError
from members.models import Channel, ConsentEvent, Member, Store, User
from members.phones import phone_normalize
from members.services.consent import consent_apply
from members.services.enrolment import (
    card_number_clean,
    card_taken_error,
    email_normalize,
    email_taken_error,
    language_clean,
    member_build,
    member_enroll,
    phone_taken_error,
    referral_code_new,
)
from members.services.hooks import bulk_enrolment_plans
from members.services.sources import member_source_for
from members.services.webhooks import member_enrolled_events_record_many

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
    # When the consent was given (an earlier system's date); None: now.
    email_consent_at: dt.datetime | None = None
    sms_consent_at: dt.datetime | None = None


@dataclass(frozen=True)
class EnrollOutcome:
    """What became of one EnrollInput: the new member, or the error member_enroll
    raises for it (MemberAlreadyEnrolled, Conflict, InvalidInput)."""

    member: Member | None = None
    error: ServiceError | None = None


# (index of the row, its new member) pairs: what the caller writes with them.
CreatedCallback = Callable[[list[tuple[int, Member]]], None]


def members_enroll_many(
    *,
    rows: list[EnrollInput],
    source: str,
    enrolled_by: User | None = None,
    created: CreatedCallback | None = None,
    durable: bool = True,
) -> list[EnrollOutcome]:
    """Enroll many customers at once (members.imports): what member_enroll does
    for each row, with its checks, messages and hooks, in one transaction and
    a fixed number of statements whatever the number of rows.

    The rows are checked in order as if enrolled one after the other: a phone
    or email already enrolled, or taken by an earlier row, is refused with
    member_enroll's error, as are a bad card number or language and a card
    another member (or an earlier row) has. One query each looks up the phones,
    the emails, the card numbers (given and drawn) and the drawn referral
    codes; then one bulk_create writes the members, the bulk-enrolment hooks
    add theirs (rewards: the points accounts and the welcome and profile
    bonuses, with member_enroll's idempotency keys: rerunning a file pays
    nothing twice, as its phones are enrolled; see BulkEnrolmentPlan), and one
    bulk_create writes the consent history.

    The unique constraints still decide races: if one fires (a member enrolled
    meanwhile), the transaction rolls back and every row goes through
    member_enroll, one by one, so the outcomes are exactly member_enroll's.
    `created`, when given, is called last in the same transaction with the
    (row index, member) pairs written, for the caller's own rows (the import's
    extra columns, members.import_columns); on the one-by-one fallback it is
    called for each member in member_enroll's transaction. `durable=False`
    only inside a caller's transaction that is rolled back (the import's dry
    run). Returns one outcome per row, in order. Locks nothing (the rows are
    new); the webhook events of the members and their bonuses are queued on
    commit.
    """
    each = {"source": source, "enrolled_by": enrolled_by, "created": created}
    outcomes: list[EnrollOutcome | None] = [None] * len(rows)
    phones: dict[int, str] = {}
    emails: dict[int, str | None] = {}
    for index, row in enumerate(rows):
        try:
            phones[index] = phone_normalize(row.phone)
        except ServiceError as exc:
            outcomes[index] = EnrollOutcome(error=exc)
        emails[index] = email_normalize(row.email)
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
        return _members_enroll_each(rows=rows, **each)
    drawn, cards_taken = drawn
    now = timezone.now()
    plans = bulk_enrolment_plans(now=now)
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
                raise phone_taken_error(existing)
            existing = email and (by_email.get(email) or claimed_emails.get(email))
            if existing:
                raise email_taken_error(existing)
            card = card_number_clean(row.card_number)
            language = language_clean(row.language)
            if card and (card in cards_taken or card in claimed_cards):
                raise card_taken_error(card)
        except ServiceError as exc:
            outcomes[index] = EnrollOutcome(error=exc)
            continue
        member = member_build(
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
            member_source=member_source_for(
                consent_source=source, store=row.store, has_referrer=False
            ),
        )
        for channel, granted, at in (
            (Channel.EMAIL, row.email_consent, row.email_consent_at),
            (Channel.SMS, row.sms_consent, row.sms_consent_at),
        ):
            if granted:
                consent_apply(
                    member, channel=channel, granted=True, source=source, at=at or now
                )
        for plan in plans:
            plan.member_prepare(member)
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
        return _members_enroll_each(rows=rows, **each)
    for member, code in zip(members, codes[0], strict=True):
        member.referral_code = code
    try:
        with transaction.atomic(durable=durable):
            Member.objects.bulk_create(members)
            # First in each member's webhook sequence, as in member_enroll.
            member_enrolled_events_record_many(members=members)
            for plan in plans:
                plan.members_created(members)
            if created is not None:
                created(new)
            ConsentEvent.objects.bulk_create(
                ConsentEvent(
                    member=member,
                    channel=channel,
                    granted=True,
                    source=source,
                    changed_by=enrolled_by,
                    created_at=getattr(member, f"{channel}_consent_at"),
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
        return _members_enroll_each(rows=rows, **each)
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
    *,
    rows: list[EnrollInput],
    source: str,
    enrolled_by: User | None = None,
    created: CreatedCallback | None = None,
    durable: bool = True,
) -> list[EnrollOutcome]:
    """members_enroll_many's fallback: member_enroll for each row, in order
    (with `created` for its member in the same transaction). Like
    member_enroll's, each row's transaction nests in the caller's if there is
    one, so `durable` (members_enroll_many's signature) changes nothing."""
    outcomes = []
    for index, row in enumerate(rows):
        try:
            with transaction.atomic():
                member = _member_enroll_one(row, source=source, enrolled_by=enrolled_by)
                if created is not None:
                    created([(index, member)])
        except ServiceError as exc:
            outcomes.append(EnrollOutcome(error=exc))
        else:
            outcomes.append(EnrollOutcome(member=member))
    return outcomes


def _member_enroll_one(
    row: EnrollInput, *, source: str, enrolled_by: User | None
) -> Member:
    return member_enroll(
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
        email_consent_at=row.email_consent_at,
        sms_consent_at=row.sms_consent_at,
        source=source,
        enrolled_by=enrolled_by,
    )
