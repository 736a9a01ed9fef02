"""Online sign-up (member_signup), claiming a counter membership with a one-time
code (member_claim_verify), and the limits on one-time codes."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from members.errors import InvalidInput, NotFound
from members.models import Channel, OneTimeCode, User
from members.services import (
    OTP_MAX_ATTEMPTS,
    WrongCode,
    member_claim_verify,
    member_enroll,
    member_signup,
)
from members.tests.factories import UserFactory
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
