"""Enrollment, consent, online sign-up with claiming, and till API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import threading

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation

from members.cards import card_number_is_valid
from members.errors import Conflict, InvalidInput, NotFound
from members.models import (
    ApiToken,
    Channel,
    ConsentEvent,
    ConsentSource,
    Member,
    OneTimeCode,
    User,
)
from members.services import (
    OTP_MAX_ATTEMPTS,
    MemberAlreadyEnrolled,
    WrongCode,
    api_token_check,
    api_token_create,
    api_token_revoke,
    member_claim_verify,
    member_consent_set,
    member_enroll,
    member_signup,
)
from members.tests.factories import MemberFactory, StoreFactory, UserFactory
from rewards.models import PointsAccount

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-42"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def sent_code(message: dict | str) -> str:
    text = message["text"] if isinstance(message, dict) else message
    return re.search(r"\b(\d{6})\b", text).group(1)


# --- enrollment ------------------------------------------------------------------------


class TestEnroll:
    def test_enroll_gives_a_card_an_account_and_a_normal_phone(self, store, settings):
        settings.LANGUAGE_CODE = "ro"  # whatever the program's default is
        staff = UserFactory(is_staff=True)

        member = member_enroll(
            phone="067 123 45 67",
            email="  Olena@Example.COM ",
            first_name=" Olena ",
            store=store,
            enrolled_by=staff,
        )

        member.refresh_from_db()
        assert member.phone == "+380671234567"
        assert member.email == "olena@example.com"
        assert member.first_name == "Olena"
        assert len(member.card_number) == 12
        assert member.card_number.isdigit()
        assert card_number_is_valid(member.card_number)
        assert member.enrolled_store == member.home_store == store
        assert member.enrolled_by == staff
        assert member.language == "ro"
        assert PointsAccount.objects.get(member=member).balance == 0

    def test_card_numbers_are_unique(self, store):
        members = [MemberFactory(store=store) for _ in range(25)]

        assert len({m.card_number for m in members}) == 25

    def test_a_colliding_card_number_is_drawn_again(self, store, monkeypatch):
        taken = MemberFactory(store=store).card_number
        draws = iter([taken, taken, "270000123454"])
        monkeypatch.setattr(
            "members.services.enrolment.card_number_new", lambda: next(draws)
        )

        member = member_enroll(phone="0671234567", store=store)

        assert member.card_number == "270000123454"

    def test_card_number_allocation_gives_up_after_five_collisions(
        self, store, monkeypatch
    ):
        taken = MemberFactory(store=store).card_number
        monkeypatch.setattr("members.services.enrolment.card_number_new", lambda: taken)

        with pytest.raises(
            Conflict, match=r"^Could not allocate a card number; try again\.$"
        ):
            member_enroll(phone="0671234567", store=store)

        assert not Member.objects.filter(phone="+380671234567").exists()

    @pytest.mark.parametrize(
        ("phone", "message"),
        [
            ("", r"^Enter a phone number\.$"),
            ("abc", r"^“abc” is not a phone number\.$"),
            ("12", r"^“12” is not a valid phone number\.$"),
        ],
    )
    def test_invalid_phone_is_refused(self, store, phone, message):
        with pytest.raises(InvalidInput, match=message) as exc:
            member_enroll(phone=phone, store=store)

        assert exc.value.field == "phone"
        assert not Member.objects.exists()

    def test_duplicate_phone_names_the_card(self, store):
        first = member_enroll(phone="+380671234567", store=store)

        with pytest.raises(
            MemberAlreadyEnrolled,
            match=rf"^This phone is already enrolled with card {first.card_number}\.$",
        ) as exc:
            member_enroll(phone="067-123-45-67", store=store)

        assert exc.value.field == "phone"
        assert exc.value.member == first
        assert exc.value.extra == {"card_number": first.card_number}
        assert exc.value.status == 409
        assert Member.objects.count() == 1

    def test_duplicate_email_is_found_whatever_the_case(self, store):
        first = member_enroll(phone="0671234567", email="olena@example.com")

        with pytest.raises(
            MemberAlreadyEnrolled,
            match=r"^This email belongs to another member\.$",
        ) as exc:
            member_enroll(phone="0671234568", email="OLENA@example.com")

        assert exc.value.field == "email"
        assert exc.value.member == first
        assert "card_number" not in exc.value.extra
        assert Member.objects.count() == 1

    def test_unknown_language_is_refused(self, store):
        with pytest.raises(InvalidInput, match=r"^Unknown language “xx”\.$"):
            member_enroll(phone="0671234567", language="xx")

    def test_consent_at_enrollment_is_written_with_history(self, store):
        staff = UserFactory(is_staff=True)

        member = member_enroll(
            phone="0671234567",
            email="a@example.com",
            sms_consent=True,
            enrolled_by=staff,
            source=ConsentSource.COUNTER,
        )

        member.refresh_from_db()
        assert member.sms_consent is True
        assert member.sms_consent_source == ConsentSource.COUNTER
        assert member.sms_consent_at == member.enrolled_at
        assert member.email_consent is False
        assert member.email_consent_at is None
        event = ConsentEvent.objects.get(member=member)
        assert (event.channel, event.granted, event.source, event.changed_by) == (
            Channel.SMS,
            True,
            ConsentSource.COUNTER,
            staff,
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_enrollments_of_one_phone_make_one_member():
    store = StoreFactory(code="race")
    barrier = threading.Barrier(10)
    results: list[object] = [None] * 10

    def enroll(i: int) -> None:
        try:
            with translation.override("en"):
                barrier.wait(timeout=30)
                results[i] = member_enroll(phone="0671234567", store=store)
        except Exception as exc:  # noqa: BLE001 - inspected below
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=enroll, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    made = [r for r in results if isinstance(r, Member)]
    refused = [r for r in results if isinstance(r, MemberAlreadyEnrolled)]
    assert (len(made), len(refused)) == (1, 9), results
    assert {r.member.pk for r in refused} == {made[0].pk}
    assert Member.objects.count() == PointsAccount.objects.count() == 1


# --- consent ---------------------------------------------------------------------------


class TestConsent:
    def test_consent_change_is_kept_in_history(self, member):
        staff = UserFactory(is_staff=True)

        changed = member_consent_set(
            member=member,
            channel=Channel.EMAIL,
            granted=True,
            source=ConsentSource.ADMIN,
            changed_by=staff,
        )

        assert changed is True
        member.refresh_from_db()
        assert member.email_consent is True
        assert member.email_consent_source == ConsentSource.ADMIN
        assert member.email_consent_at is not None
        event = member.consent_events.get()
        assert (event.channel, event.granted, event.changed_by) == (
            Channel.EMAIL,
            True,
            staff,
        )

    def test_setting_the_same_value_writes_nothing(self, member):
        member_consent_set(
            member=member, channel="sms", granted=True, source=ConsentSource.PORTAL
        )
        member.refresh_from_db()
        at = member.sms_consent_at

        changed = member_consent_set(
            member=member, channel="sms", granted=True, source=ConsentSource.ADMIN
        )

        assert changed is False
        member.refresh_from_db()
        assert member.sms_consent_at == at
        assert member.sms_consent_source == ConsentSource.PORTAL
        assert member.consent_events.count() == 1

    def test_withdrawal_is_a_new_history_row(self, member):
        for granted in (True, False, False, True):
            member_consent_set(
                member=member,
                channel="email",
                granted=granted,
                source=ConsentSource.UNSUBSCRIBE,
            )

        assert list(
            member.consent_events.order_by("id").values_list("granted", flat=True)
        ) == [True, False, True]

    def test_unknown_channel_is_refused(self, member):
        with pytest.raises(InvalidInput, match=r"^Unknown channel\.$"):
            member_consent_set(
                member=member, channel="fax", granted=True, source=ConsentSource.ADMIN
            )


# --- online sign-up and claiming -------------------------------------------------------


class TestSignup:
    def test_new_customer_gets_a_login_and_a_membership(self, sms_outbox):
        result = member_signup(
            email="New@Example.com",
            password=PASSWORD,
            phone="067 765 43 21",
            first_name="Taras",
            language="en",
        )

        assert result.pending_code is None
        user = result.user
        assert user.username == user.email == "new@example.com"
        assert user.check_password(PASSWORD)
        member = result.member
        member.refresh_from_db()
        assert member.user == user
        assert member.phone == "+380677654321"
        assert member.email == "new@example.com"
        assert member.language == "en"
        assert PointsAccount.objects.get(member=member).balance == 0
        assert sms_outbox == []

    def test_signup_with_a_taken_login_email_is_refused(self, customer):
        with pytest.raises(
            InvalidInput,
            match=r"^An account with this email exists already; log in instead\.$",
        ) as exc:
            member_signup(
                email="CUSTOMER@example.com", password=PASSWORD, phone="0677654321"
            )
        assert exc.value.field == "email"

    def test_signup_without_email_is_refused(self):
        with pytest.raises(InvalidInput, match=r"^Enter an email address\.$"):
            member_signup(email=" ", password=PASSWORD, phone="0677654321")

    def test_counter_member_gets_a_code_by_sms(
        self, store, sms_outbox, django_capture_on_commit_callbacks
    ):
        member = member_enroll(phone="0671234567", store=store)

        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            result = member_signup(
                email="olena@example.com", password=PASSWORD, phone="+380671234567"
            )
            # Nothing leaves before the transaction commits.
            assert sms_outbox == []

        assert len(callbacks) == 1
        assert result.user is None
        assert result.member == member
        otp = result.pending_code
        assert (otp.channel, otp.destination) == (Channel.SMS, "+380671234567")
        assert len(sms_outbox) == 1
        assert sms_outbox[0]["to"] == "+380671234567"
        code = sent_code(sms_outbox[0])
        # Only a hash of the code, and of the password, is kept.
        assert code not in otp.code_hash
        assert PASSWORD not in str(otp.payload)
        assert not User.objects.filter(email="olena@example.com").exists()

    def test_counter_member_found_by_email_gets_the_code_by_email(
        self, store, sms_outbox, mailoutbox, django_capture_on_commit_callbacks
    ):
        member = member_enroll(phone="0671234567", email="olena@example.com")

        with django_capture_on_commit_callbacks(execute=True):
            result = member_signup(
                email="olena@example.com", password=PASSWORD, phone="0677654321"
            )

        assert result.pending_code.channel == Channel.EMAIL
        assert result.member == member
        assert sms_outbox == []
        assert [m.to for m in mailoutbox] == [["olena@example.com"]]
        assert sent_code(mailoutbox[0].body)

    def test_a_membership_with_a_login_cannot_be_signed_up_again(self, customer):
        _user, member = customer

        with pytest.raises(
            InvalidInput,
            match=r"^This membership already has an online account; log in instead\.$",
        ) as exc:
            member_signup(
                email="new@example.com", password=PASSWORD, phone=member.phone
            )
        assert exc.value.field == "phone"

    def test_phone_and_email_of_two_memberships_are_refused(self, store):
        a = member_enroll(phone="0671234567", email="a@example.com")
        member_enroll(phone="0671234568", email="b@example.com")

        with pytest.raises(
            InvalidInput,
            match=r"^This phone and this email belong to two different memberships; ask at the counter\.$",
        ):
            member_signup(email="b@example.com", password=PASSWORD, phone=a.phone)


@pytest.fixture
def claim(store, sms_outbox, django_capture_on_commit_callbacks):
    """A counter member who signed up online: (member, otp, the code sent by SMS)."""
    member = member_enroll(phone="0671234567", first_name="Olena", store=store)
    with django_capture_on_commit_callbacks(execute=True):
        result = member_signup(
            email="olena@example.com",
            password=PASSWORD,
            phone="0671234567",
            last_name="Kovalenko",
            language="en",
        )
    return member, result.pending_code, sent_code(sms_outbox[-1])


class TestClaimVerify:
    def test_right_code_creates_the_login_and_links_it(self, claim):
        member, otp, code = claim

        user = member_claim_verify(otp_id=otp.pk, code=f" {code} ")

        member.refresh_from_db()
        assert member.user == user
        assert member.email == "olena@example.com"
        assert member.first_name == "Olena"  # kept, not overwritten
        assert member.last_name == "Kovalenko"  # filled in, it was empty
        assert user.username == "olena@example.com"
        assert user.check_password(PASSWORD)
        otp.refresh_from_db()
        assert otp.used_at is not None

    def test_wrong_code_counts_the_attempt_and_says_how_many_are_left(self, claim):
        _member, otp, code = claim
        wrong = "000000" if code != "000000" else "111111"

        with pytest.raises(
            WrongCode, match=r"^Wrong code\. Attempts left: 4\.$"
        ) as exc:
            member_claim_verify(otp_id=otp.pk, code=wrong)

        assert exc.value.field == "code"
        otp.refresh_from_db()
        assert otp.attempts == 1
        assert not User.objects.filter(username="olena@example.com").exists()
        # A wrong code does not burn the right one.
        assert member_claim_verify(otp_id=otp.pk, code=code)

    def test_too_many_attempts_lock_the_code(self, claim):
        _member, otp, code = claim
        wrong = "000000" if code != "000000" else "111111"
        for left in range(OTP_MAX_ATTEMPTS - 1, -1, -1):
            with pytest.raises(
                WrongCode, match=rf"^Wrong code\. Attempts left: {left}\.$"
            ):
                member_claim_verify(otp_id=otp.pk, code=wrong)

        with pytest.raises(
            InvalidInput, match=r"^Too many wrong codes; start again\.$"
        ):
            member_claim_verify(otp_id=otp.pk, code=code)

        otp.refresh_from_db()
        assert otp.attempts == OTP_MAX_ATTEMPTS
        assert otp.used_at is None

    def test_expired_code_is_refused(self, claim):
        _member, otp, code = claim
        OneTimeCode.objects.filter(pk=otp.pk).update(
            expires_at=timezone.now() - dt.timedelta(seconds=1)
        )

        with pytest.raises(
            InvalidInput, match=r"^This code has expired; start again\.$"
        ):
            member_claim_verify(otp_id=otp.pk, code=code)

        assert not User.objects.filter(username="olena@example.com").exists()

    def test_code_cannot_be_used_twice(self, claim):
        _member, otp, code = claim
        member_claim_verify(otp_id=otp.pk, code=code)

        with pytest.raises(
            NotFound, match=r"^This code is no longer valid; start again\.$"
        ):
            member_claim_verify(otp_id=otp.pk, code=code)

        assert User.objects.filter(username="olena@example.com").count() == 1

    def test_unknown_code_id(self, db):
        with pytest.raises(NotFound, match=r"^This code is no longer valid"):
            member_claim_verify(otp_id=987654, code="123456")

    def test_claim_refused_when_the_email_was_taken_meanwhile(self, claim):
        member, otp, code = claim
        UserFactory(username="olena@example.com")

        with pytest.raises(
            InvalidInput,
            match=r"^An account with this email exists already; log in instead\.$",
        ):
            member_claim_verify(otp_id=otp.pk, code=code)

        member.refresh_from_db()
        assert member.user is None
        otp.refresh_from_db()
        assert otp.used_at is None


class TestOneTimeCodes:
    def _again(self, n: int):
        return member_signup(
            email=f"olena{n}@example.com", password=PASSWORD, phone="0671234567"
        ).pending_code

    def test_a_new_code_voids_the_earlier_one(self, claim):
        _member, first, code = claim
        second = self._again(2)

        first.refresh_from_db()
        assert first.used_at is not None
        assert second.used_at is None
        with pytest.raises(NotFound, match=r"^This code is no longer valid"):
            member_claim_verify(otp_id=first.pk, code=code)

    def test_a_fourth_code_in_an_hour_is_refused_naming_the_phone(self, claim):
        member, _first, _code = claim
        self._again(2)
        self._again(3)

        with pytest.raises(
            InvalidInput,
            match=r"^Too many codes were sent for this membership; try again in an hour\.$",
        ) as exc:
            self._again(4)

        assert exc.value.field == "phone"
        assert OneTimeCode.objects.filter(member=member).count() == 3
        assert OneTimeCode.objects.filter(member=member, used_at=None).count() == 1

    def test_codes_older_than_an_hour_do_not_count(self, claim):
        member, _first, _code = claim
        self._again(2)
        OneTimeCode.objects.filter(member=member).update(
            created_at=timezone.now() - dt.timedelta(minutes=61)
        )
        self._again(3)
        self._again(4)
        assert OneTimeCode.objects.filter(member=member, used_at=None).count() == 1

    def test_the_database_refuses_a_second_unused_code(self, claim):
        member, first, _code = claim
        with pytest.raises(IntegrityError), transaction.atomic():
            OneTimeCode.objects.create(
                member=member,
                purpose=first.purpose,
                channel=first.channel,
                destination=first.destination,
                code_hash="x",
                expires_at=first.expires_at,
            )


# --- API tokens ------------------------------------------------------------------------


class TestApiTokens:
    def test_only_the_hash_of_a_token_is_stored(self, store):
        token, raw = api_token_create(store=store, name="Till 2")

        token.refresh_from_db()
        assert len(raw) >= 40
        assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
        assert token.prefix == raw[:8]
        stored = [
            str(getattr(token, f.attname)) for f in ApiToken._meta.concrete_fields
        ]
        assert not any(raw in value for value in stored)

    def test_check_finds_the_active_token(self, store):
        token, raw = api_token_create(store=store, name="Till 2")

        assert api_token_check(raw) == token
        assert api_token_check(raw).store == store
        assert api_token_check(raw + "x") is None
        assert api_token_check("") is None
        assert api_token_check(token.key_hash) is None  # the hash is not a key

    def test_revoked_token_no_longer_works(self, store):
        token, raw = api_token_create(store=store, name="Till 2")

        api_token_revoke(token=token)
        token.refresh_from_db()
        revoked_at = token.revoked_at
        api_token_revoke(token=token)

        assert api_token_check(raw) is None
        token.refresh_from_db()
        assert token.revoked_at == revoked_at is not None
        assert not token.is_active

    def test_token_of_a_closed_store_no_longer_works(self, store):
        _token, raw = api_token_create(store=store, name="Till 2")
        store.is_active = False
        store.save()

        assert api_token_check(raw) is None

    def test_tokens_are_different_each_time(self, store):
        raws = {api_token_create(store=store, name="Till")[1] for _ in range(5)}

        assert len(raws) == 5
