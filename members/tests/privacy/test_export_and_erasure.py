"""A customer's own data: "Download my data", "Delete my account", and
member_anonymize keeping the accounts intact."""

import json

import pytest
from django.db.models import Sum
from django.urls import reverse

from members.audit import StaffActor
from members.errors import Forbidden
from members.models import (
    AuditAction,
    ConsentEvent,
    ConsentSource,
    ErasureSource,
    Member,
    MemberErasure,
    OneTimeCode,
    StaffAuditEvent,
    User,
)
from members.privacy import member_anonymize, member_data_export
from members.services import member_consent_set, otp_send
from members.tests.factories import MemberFactory
from rewards.models import LedgerEntry, PointsAccount, Purchase
from rewards.services import (
    points_adjust,
    points_redeem,
    purchase_record,
    purchase_return_record,
    reward_redeem,
)
from rewards.tests.factories import RewardFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"


def _history(member, store, prefix="A"):
    member_consent_set(
        member=member, channel="sms", granted=True, source=ConsentSource.PORTAL
    )
    purchase, _ = purchase_record(
        store=store,
        member=member,
        receipt_id=f"{prefix}-1",
        lines=[
            {"sku": "tea", "name": "Tea", "quantity": "2", "unit_price": "100"},
            {"sku": "cup", "name": "Cup", "quantity": "1", "unit_price": "300"},
        ],
    )
    purchase_return_record(
        purchase=purchase, store=store, receipt_id=f"{prefix}-R1", amount="100"
    )
    points_adjust(member=member, points=400, reason="welcome", created_by=None)
    points_redeem(member=member, store=store, points=50, receipt_id=f"{prefix}-D1")
    reward_redeem(
        member=member,
        reward=RewardFactory(name=f"Coffee {prefix}", points_cost=100, stock=5),
        idempotency_key=f"{prefix}-v",
    )
    return purchase


def _sums(member) -> tuple[int, int]:
    account = PointsAccount.objects.get(member=member)
    total = LedgerEntry.objects.filter(account=account).aggregate(s=Sum("points"))
    return account.balance, total["s"]


class TestExport:
    def test_export_holds_the_members_own_data(self, customer, store):
        _user, member = customer
        _history(member, store)
        data = member_data_export(member=member)
        assert data["member"]["card_number"] == member.card_number
        assert data["member"]["email"] == "customer@example.com"
        assert "search_text" not in data["member"]
        assert data["login"]["username"] == "customer@example.com"
        assert data["points_account"]["balance"] == member.account.balance
        assert [e["points"] for e in data["ledger_entries"]] == list(
            LedgerEntry.objects.filter(account__member=member)
            .order_by("created_at", "id")
            .values_list("points", flat=True)
        )
        assert len(data["purchases"]) == 1
        assert {line["sku"] for line in data["purchases"][0]["lines"]} == {"tea", "cup"}
        assert data["returns"][0]["amount"] == "100.00"
        assert data["redemptions"][0]["points"] == 50
        assert len(data["vouchers"]) == 1
        assert data["consent_history"][0]["granted"] is True
        assert "fingerprint" not in data["purchases"][0]
        json.dumps(data)  # plain JSON all through

    def test_export_download_is_a_json_file_of_own_data_only(
        self, client, customer, store
    ):
        user, member = customer
        other = MemberFactory(store=store, first_name="Stranger", email="x@example.com")
        _history(member, store, prefix="MINE")
        _history(other, store, prefix="THEIRS")
        client.force_login(user)
        response = client.get(reverse("portal:privacy_export"))
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/json")
        assert "attachment;" in response["Content-Disposition"]
        body = response.content.decode()
        data = json.loads(body)
        assert data["member"]["id"] == member.pk
        assert "THEIRS" not in body
        assert other.card_number not in body
        assert "x@example.com" not in body
        assert {p["receipt_id"] for p in data["purchases"]} == {"MINE-1"}
        assert all(p["member_id"] == member.pk for p in data["purchases"])
        event = StaffAuditEvent.objects.get(action=AuditAction.MEMBER_EXPORTED)
        assert (event.actor, event.member_id) == (user, member.pk)

    def test_export_leaves_out_the_referred_friends_phone(self, customer, store):
        _user, member = customer
        MemberFactory(
            store=store, phone="+380501112233", referral_code=member.referral_code
        )
        data = member_data_export(member=member)
        assert len(data["referrals_made"]) == 1
        assert "+380501112233" not in json.dumps(data)

    def test_export_needs_a_login(self, client):
        response = client.get(reverse("portal:privacy_export"))
        assert response.status_code == 302
        assert reverse("login") in response["Location"]

    def test_preferences_page_offers_download_and_delete(self, client, customer):
        client.force_login(customer[0])
        html = client.get(reverse("portal:preferences")).content.decode()
        assert reverse("portal:privacy_export") in html
        assert reverse("portal:privacy_delete") in html


class TestAnonymize:
    def test_anonymize_keeps_ledger_and_purchases_and_their_sums(self, customer, store):
        user, member = customer
        _history(member, store)
        before = _sums(member)
        entries = LedgerEntry.objects.count()
        purchase_total = Purchase.objects.get(member=member).total

        member_anonymize(member=member, actor=StaffActor(user=user), source="portal")

        assert _sums(member) == before
        assert before[0] == before[1]
        assert LedgerEntry.objects.count() == entries
        assert Purchase.objects.get(member=member).total == purchase_total

    def test_anonymize_blanks_personal_data_and_disables_the_login(
        self, customer, store
    ):
        user, member = customer
        Member.objects.filter(pk=member.pk).update(device_id="dev-1")
        member.refresh_from_db()
        member_consent_set(
            member=member, channel="sms", granted=True, source=ConsentSource.PORTAL
        )
        otp_send(member=member, channel="sms", payload={})

        member_anonymize(member=member, actor=StaffActor(user=user), source="portal")

        member.refresh_from_db()
        assert (member.first_name, member.last_name, member.email) == ("", "", None)
        assert member.phone == f"erased-{member.pk}"
        assert member.birthday is None and member.device_id == ""
        assert member.interests == [] and member.search_text == ""
        assert not member.sms_consent and not member.email_consent
        assert ConsentEvent.objects.filter(
            member=member, channel="sms", granted=False
        ).exists()
        assert not OneTimeCode.objects.filter(member=member).exists()
        user = User.objects.get(pk=user.pk)
        assert not user.is_active and not user.has_usable_password()
        assert user.email == "" and user.username == f"erased-{user.pk}"

    def test_anonymize_erases_message_and_feedback_texts_but_keeps_the_rows(
        self, customer, store
    ):
        from campaigns.feedback.services import complaint_file
        from campaigns.feedback.surveys import survey_response_submit
        from campaigns.messaging.services import message_send
        from campaigns.models import (
            ComplaintMessage,
            Message,
            OutboxEntry,
            SurveyResponse,
        )
        from campaigns.tests.factories import survey_make

        user, member = customer
        other = MemberFactory(email="other@example.com")
        mine = message_send(
            member=member,
            key="test:1",
            kind="test",
            subject=f"Hello {member.first_name}",
            body=f"Dear {member.first_name}, your balance...",
            channel="email",
        )
        theirs = message_send(
            member=other, key="test:1", kind="test", subject="Hi", body="Dear Ivan"
        )
        OutboxEntry.objects.create(  # the development outbox's copy of the email
            channel="email",
            to=member.email,
            subject=mine.subject,
            body=mine.body,
            reference=mine.token,
        )
        complaint_file(member=member, topic="service", body="Call me on 0671234567")
        survey_response_submit(
            survey=survey_make(),
            member=member,
            purchase=None,
            score=3,
            comment="Olena here: the queue was long",
        )
        messages_before = Message.objects.count()

        member_anonymize(member=member, actor=StaffActor(user=user), source="portal")

        mine.refresh_from_db()
        assert (mine.to, mine.subject, mine.body) == ("", "", "[erased]")
        copy = OutboxEntry.objects.get(reference=mine.token)
        assert (copy.to, copy.subject, copy.body) == ("", "", "[erased]")
        assert set(
            ComplaintMessage.objects.filter(complaint__member=member).values_list(
                "body", flat=True
            )
        ) == {"[erased]"}
        response = SurveyResponse.objects.get(member=member)
        assert (response.score, response.comment) == (3, "[erased]")
        assert Message.objects.count() == messages_before
        theirs.refresh_from_db()
        assert (theirs.to, theirs.body) == ("other@example.com", "Dear Ivan")

    def test_anonymize_twice_returns_the_first_erasure(self, customer):
        user, member = customer
        first = member_anonymize(
            member=member, actor=StaffActor(user=user), source="portal"
        )
        again = member_anonymize(
            member=member, actor=StaffActor(user=user), source="portal"
        )
        assert first.pk == again.pk
        assert MemberErasure.objects.count() == 1
        assert (
            StaffAuditEvent.objects.filter(action=AuditAction.MEMBER_ANONYMIZED).count()
            == 1
        )

    def test_anonymized_member_is_not_found_by_phone_or_email(self, customer):
        from members.selectors import member_search

        user, member = customer
        phone, card, code = member.phone, member.card_number, member.referral_code
        member_anonymize(member=member, actor=StaffActor(user=user), source="portal")
        member.refresh_from_db()
        assert member.card_number != card and member.referral_code != code
        assert member_search(query=phone) == []
        assert member_search(query=card) == []
        assert member_search(query="customer@example.com") == []

    def test_cashier_cannot_anonymize_from_admin(self, cashier, member):
        with pytest.raises(Forbidden, match="Only a Manager"):
            member_anonymize(
                member=member,
                actor=StaffActor(user=cashier),
                source=ErasureSource.ADMIN,
            )
        assert not MemberErasure.objects.exists()


class TestDeleteAccountPage:
    def test_delete_asks_for_the_password(self, client, customer):
        client.force_login(customer[0])
        response = client.get(reverse("portal:privacy_delete"))
        assert response.status_code == 200
        assert 'type="password"' in response.content.decode()

    def test_wrong_password_deletes_nothing(self, client, customer):
        user, member = customer
        client.force_login(user)
        response = client.post(reverse("portal:privacy_delete"), {"password": "nope"})
        assert response.status_code == 200
        assert response.context["form"].errors["password"] == [
            "The password is not right."
        ]
        assert not MemberErasure.objects.exists()

    def test_right_password_erases_logs_out_and_blocks_login(
        self, client, customer, store
    ):
        user, member = customer
        _history(member, store)
        before = _sums(member)
        client.force_login(user)
        response = client.post(
            reverse("portal:privacy_delete"), {"password": PASSWORD}, follow=True
        )
        # Then the optional leaving question (members/tests/churn).
        assert response.redirect_chain[-1][0].startswith("/leaving/")
        assert "_auth_user_id" not in client.session
        erasure = MemberErasure.objects.get()
        assert (erasure.member_id, erasure.source) == (member.pk, ErasureSource.PORTAL)
        assert _sums(member) == before
        assert not client.login(username="customer@example.com", password=PASSWORD)
