"""Admin pages for users, stores, members, consent and API tokens."""

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.urls import reverse

from members.models import ApiToken, ConsentEvent, ConsentSource, Member, User
from members.services import api_token_check, api_token_create, member_consent_set
from members.tests.factories import MemberFactory, StoreFactory
from rewards.models import LedgerEntry, LedgerKind
from rewards.services import points_adjust

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"  # assertions read the English messages


@pytest.fixture
def su_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- users ------------------------------------------------------------------------------


class TestUserAdmin:
    def test_changelist(self, su_client, cashier):
        response = su_client.get(reverse("admin:members_user_changelist"))
        assert response.status_code == 200
        assert b"cashier" in response.content

    def test_search(self, su_client, cashier, manager):
        response = su_client.get(
            reverse("admin:members_user_changelist"), {"q": "cashier"}
        )
        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == [cashier]

    def test_add_page(self, su_client):
        response = su_client.get(reverse("admin:members_user_add"))
        assert response.status_code == 200
        assert b'name="store"' in response.content

    def test_add_creates_staff_user_with_store_and_group(self, su_client, store):
        cashiers = Group.objects.get(name="Cashier")
        response = su_client.post(
            reverse("admin:members_user_add"),
            {
                "username": "olena",
                "usable_password": "true",
                "password1": "a-long-Passw0rd!",
                "password2": "a-long-Passw0rd!",
                "email": "olena@example.com",
                "is_staff": "on",
                "store": store.pk,
                "groups": [cashiers.pk],
            },
        )
        assert response.status_code == 302, response.context["adminform"].form.errors
        user = User.objects.get(username="olena")
        assert user.store == store
        assert user.is_staff
        assert list(user.groups.all()) == [cashiers]
        assert user.check_password("a-long-Passw0rd!")

    def test_change_page_shows_store(self, su_client, cashier):
        response = su_client.get(
            reverse("admin:members_user_change", args=[cashier.pk])
        )
        assert response.status_code == 200
        assert b'name="store"' in response.content


# --- stores -----------------------------------------------------------------------------


class TestStoreAdmin:
    def test_changelist(self, su_client, store, other_store):
        response = su_client.get(reverse("admin:members_store_changelist"))
        assert response.status_code == 200
        assert response.context["cl"].result_count == 2

    def test_search(self, su_client, store, other_store):
        response = su_client.get(
            reverse("admin:members_store_changelist"), {"q": "Other"}
        )
        assert list(response.context["cl"].result_list) == [other_store]

    def test_add_page(self, su_client):
        assert su_client.get(reverse("admin:members_store_add")).status_code == 200

    def test_add_creates_store(self, su_client):
        response = su_client.post(
            reverse("admin:members_store_add"),
            {
                "code": "lviv",
                "name": "Lviv Centre",
                "address": "Rynok 1",
                "timezone": "Europe/Kyiv",
                "is_active": "on",
            },
        )
        assert response.status_code == 302
        assert StoreFactory._meta.model.objects.filter(
            code="lviv", name="Lviv Centre"
        ).exists()

    def test_change_page(self, su_client, store):
        response = su_client.get(reverse("admin:members_store_change", args=[store.pk]))
        assert response.status_code == 200


# --- members ----------------------------------------------------------------------------


def _member_add_data(**overrides):
    data = {
        "phone": "067 123 45 67",
        "first_name": "Oksana",
        "last_name": "Kovalenko",
        "email": "",
        "birthday": "",
        "gender": "",
        "language": "uk",
        "home_store": "",
    }
    data.update(overrides)
    return data


def _member_change_data(member, **overrides):
    data = {
        "first_name": member.first_name,
        "last_name": member.last_name,
        "email": member.email or "",
        "birthday": "",
        "gender": member.gender,
        "language": member.language,
        "interests": "[]",
        "home_store": member.home_store_id or "",
    }
    if member.sms_consent:
        data["sms_consent"] = "on"
    if member.email_consent:
        data["email_consent"] = "on"
    data.update(overrides)
    return data


class TestMemberAdmin:
    def test_changelist_shows_balance(self, su_client, member):
        points_adjust(member=member, points=42, reason="welcome", created_by=None)
        response = su_client.get(reverse("admin:members_member_changelist"))
        assert response.status_code == 200
        assert member.card_number.encode() in response.content
        assert b'<td class="field-balance">42</td>' in response.content

    def test_changelist_queries_do_not_grow_with_members(
        self, su_client, store, django_assert_max_num_queries
    ):
        MemberFactory.create_batch(15, store=store)
        with django_assert_max_num_queries(12):
            response = su_client.get(reverse("admin:members_member_changelist"))
        assert response.context["cl"].result_count == 15

    def test_search_by_phone_typed_with_spaces_finds_e164(self, su_client, store):
        wanted = MemberFactory(store=store, phone="+380671234567")
        MemberFactory(store=store, phone="+380501112233")
        response = su_client.get(
            reverse("admin:members_member_changelist"), {"q": "067 123 45 67"}
        )
        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == [wanted]

    def test_search_by_card_name_and_email(self, su_client, store):
        wanted = MemberFactory(store=store, first_name="Taras", last_name="Shevchenko")
        MemberFactory(store=store, first_name="Lesya", last_name="Ukrainka")
        url = reverse("admin:members_member_changelist")
        card = wanted.card_number
        for query in (
            card,
            f"{card[:4]} {card[4:8]} {card[8:]}",
            "shevchenko",
            wanted.email,
        ):
            response = su_client.get(url, {"q": query})
            assert list(response.context["cl"].result_list) == [wanted], query

    def test_add_page(self, su_client):
        response = su_client.get(reverse("admin:members_member_add"))
        assert response.status_code == 200
        assert b'name="phone"' in response.content
        assert b'name="card_number"' not in response.content

    def test_add_enrolls_through_the_service(self, su_client, admin_user, store):
        response = su_client.post(
            reverse("admin:members_member_add"),
            _member_add_data(
                home_store=store.pk, email="Oksana@Example.com", sms_consent="on"
            ),
        )
        assert response.status_code == 302
        member = Member.objects.get()
        assert member.phone == "+380671234567"
        assert member.email == "oksana@example.com"
        assert len(member.card_number) == 12
        assert member.account.balance == 0
        assert member.enrolled_by == admin_user
        assert member.enrolled_store == store
        assert member.sms_consent and not member.email_consent
        event = ConsentEvent.objects.get(member=member)
        assert (event.channel, event.granted, event.source) == ("sms", True, "admin")
        assert event.changed_by == admin_user
        assert LogEntry.objects.filter(object_id=str(member.pk)).exists()

    def test_add_rejects_a_bad_phone_as_a_form_error(self, su_client):
        response = su_client.post(
            reverse("admin:members_member_add"), _member_add_data(phone="12")
        )
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert "is not a valid phone number" in errors["phone"][0]
        assert not Member.objects.exists()

    def test_add_rejects_a_phone_already_enrolled(self, su_client, store):
        existing = MemberFactory(store=store, phone="+380671234567")
        response = su_client.post(
            reverse("admin:members_member_add"), _member_add_data()
        )
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["phone"] == [
            f"This phone is already enrolled with card {existing.card_number}."
        ]
        assert Member.objects.count() == 1

    def test_add_rejects_an_email_already_enrolled_in_other_case(
        self, su_client, store
    ):
        MemberFactory(store=store, email="taken@example.com")
        response = su_client.post(
            reverse("admin:members_member_add"),
            _member_add_data(email="TAKEN@example.com"),
        )
        assert response.status_code == 200
        assert "email" in response.context["adminform"].form.errors

    def test_a_refusal_the_form_could_not_foresee_is_a_message_not_a_500(
        self, su_client, monkeypatch
    ):
        from members.admin import members as members_admin
        from members.errors import Conflict

        def refuse(**kwargs):
            raise Conflict("Could not allocate a card number; try again.")

        monkeypatch.setattr(members_admin, "member_enroll", refuse)
        url = reverse("admin:members_member_add")
        response = su_client.post(url, _member_add_data(), follow=True)
        assert response.redirect_chain == [(url, 302)]
        assert "Could not allocate a card number; try again." in _messages(response)
        assert not Member.objects.exists()

    def test_change_page_shows_balance_and_ledger_newest_first(self, su_client, member):
        for i in range(1, 4):
            points_adjust(
                member=member, points=i * 10, reason=f"reason {i}", created_by=None
            )
        response = su_client.get(
            reverse("admin:members_member_change", args=[member.pk])
        )
        assert response.status_code == 200
        content = response.content.decode()
        assert re.search(
            r'field-balance.*?<div class="readonly">60</div>', content, re.S
        )
        assert (
            content.index("reason 3")
            < content.index("reason 2")
            < content.index("reason 1")
        )
        rows = response.context["ledger_rows"]
        assert [entry.points for entry, _text in rows] == [30, 20, 10]

    def test_change_page_ledger_is_limited(self, su_client, member):
        for i in range(25):
            points_adjust(member=member, points=1, reason=f"r{i}", created_by=None)
        response = su_client.get(
            reverse("admin:members_member_change", args=[member.pk])
        )
        assert len(response.context["ledger_rows"]) == 20
        assert b"All entries" in response.content

    def test_change_page_has_no_delete_link(self, su_client, member):
        response = su_client.get(
            reverse("admin:members_member_change", args=[member.pk])
        )
        assert b'class="deletelink"' not in response.content
        delete = su_client.post(
            reverse("admin:members_member_delete", args=[member.pk])
        )
        assert delete.status_code == 403

    def test_change_updates_profile_and_consent_through_services(
        self, su_client, admin_user, member
    ):
        assert not member.email_consent
        response = su_client.post(
            reverse("admin:members_member_change", args=[member.pk]),
            _member_change_data(member, first_name="Iryna", email_consent="on"),
        )
        assert response.status_code == 302
        member.refresh_from_db()
        assert member.first_name == "Iryna"
        assert member.email_consent
        assert member.email_consent_source == ConsentSource.ADMIN
        event = member.consent_events.get(channel="email")
        assert event.granted and event.changed_by == admin_user

    def test_change_without_consent_change_writes_no_consent_event(
        self, su_client, member
    ):
        member_consent_set(member=member, channel="sms", granted=True, source="counter")
        member.refresh_from_db()
        su_client.post(
            reverse("admin:members_member_change", args=[member.pk]),
            _member_change_data(member, last_name="Bondarenko"),
        )
        assert member.consent_events.count() == 1

    def test_change_rejects_an_email_of_another_member(self, su_client, store, member):
        MemberFactory(store=store, email="other@example.com")
        response = su_client.post(
            reverse("admin:members_member_change", args=[member.pk]),
            _member_change_data(member, email="Other@Example.com"),
        )
        assert response.status_code == 200
        assert "email" in response.context["adminform"].form.errors


class TestAdjustPoints:
    def test_change_page_links_to_the_adjustment(self, su_client, member):
        response = su_client.get(
            reverse("admin:members_member_change", args=[member.pk])
        )
        url = reverse("admin:members_member_adjust_points", args=[member.pk])
        assert url.encode() in response.content

    def test_form_page(self, su_client, member):
        response = su_client.get(
            reverse("admin:members_member_adjust_points", args=[member.pk])
        )
        assert response.status_code == 200
        assert b'name="reason"' in response.content

    def test_adjustment_creates_a_ledger_entry_with_the_reason(
        self, su_client, admin_user, member
    ):
        response = su_client.post(
            reverse("admin:members_member_adjust_points", args=[member.pk]),
            {
                "points": "150",
                "reason": "Ticket 4411: lost receipt",
                "idempotency_key": "k1",
            },
            follow=True,
        )
        assert response.redirect_chain[-1][0] == reverse(
            "admin:members_member_change", args=[member.pk]
        )
        entry = LedgerEntry.objects.get(account__member=member)
        assert (entry.kind, entry.points, entry.reason) == (
            LedgerKind.ADJUST,
            150,
            "Ticket 4411: lost receipt",
        )
        assert entry.created_by == admin_user
        assert "The balance is now 150 points." in " ".join(_messages(response))
        member.account.refresh_from_db()
        assert member.account.balance == 150

    def test_adjustment_rejects_an_empty_reason(self, su_client, member):
        response = su_client.post(
            reverse("admin:members_member_adjust_points", args=[member.pk]),
            {"points": "10", "reason": "   ", "idempotency_key": "k1"},
        )
        assert response.status_code == 200
        assert "reason" in response.context["form"].errors
        assert not LedgerEntry.objects.exists()

    def test_adjustment_rejects_zero_points(self, su_client, member):
        response = su_client.post(
            reverse("admin:members_member_adjust_points", args=[member.pk]),
            {"points": "0", "reason": "nothing", "idempotency_key": "k1"},
        )
        assert "points" in response.context["form"].errors

    def test_deduction_below_zero_is_a_form_error(self, su_client, member):
        points_adjust(member=member, points=5, reason="start", created_by=None)
        response = su_client.post(
            reverse("admin:members_member_adjust_points", args=[member.pk]),
            {"points": "-10", "reason": "too much", "idempotency_key": "k1"},
        )
        assert response.status_code == 200
        assert response.context["form"].errors["points"] == [
            "The balance is 5; deducting 10 would take it below zero."
        ]
        assert LedgerEntry.objects.count() == 1

    def test_submitting_the_same_form_twice_adjusts_once(self, su_client, member):
        url = reverse("admin:members_member_adjust_points", args=[member.pk])
        data = {"points": "7", "reason": "goodwill", "idempotency_key": "same-form"}
        su_client.post(url, data)
        su_client.post(url, data)
        assert LedgerEntry.objects.filter(account__member=member).count() == 1


# --- consent history --------------------------------------------------------------------


class TestConsentEventAdmin:
    @pytest.fixture
    def event(self, member):
        member_consent_set(
            member=member, channel="email", granted=True, source="portal"
        )
        return member.consent_events.get()

    def test_changelist(self, su_client, event):
        response = su_client.get(reverse("admin:members_consentevent_changelist"))
        assert response.status_code == 200
        assert response.context["cl"].result_count == 1

    def test_search(self, su_client, event, store):
        other = MemberFactory(store=store)
        member_consent_set(member=other, channel="sms", granted=True, source="counter")
        response = su_client.get(
            reverse("admin:members_consentevent_changelist"),
            {"q": event.member.card_number},
        )
        assert list(response.context["cl"].result_list) == [event]

    def test_cannot_be_added(self, su_client):
        assert (
            su_client.get(reverse("admin:members_consentevent_add")).status_code == 403
        )

    def test_change_page_is_read_only(self, su_client, event):
        url = reverse("admin:members_consentevent_change", args=[event.pk])
        response = su_client.get(url)
        assert response.status_code == 200
        assert b'name="_save"' not in response.content
        assert su_client.post(url, {"granted": ""}).status_code == 403


# --- API tokens -------------------------------------------------------------------------


class TestApiTokenAdmin:
    def test_changelist_never_shows_the_hash(self, su_client, store):
        token, _raw = api_token_create(store=store, name="Till 1")
        response = su_client.get(reverse("admin:members_apitoken_changelist"))
        assert response.status_code == 200
        assert b"Till 1" in response.content
        assert token.key_hash.encode() not in response.content

    def test_search(self, su_client, store, other_store):
        # Words, not digits: a random token prefix may contain any digit.
        wanted, _raw = api_token_create(store=store, name="Front till")
        api_token_create(store=other_store, name="Back till")
        response = su_client.get(
            reverse("admin:members_apitoken_changelist"), {"q": "front"}
        )
        assert list(response.context["cl"].result_list) == [wanted]

    def test_add_page_asks_only_store_and_name(self, su_client):
        response = su_client.get(reverse("admin:members_apitoken_add"))
        assert response.status_code == 200
        form = response.context["adminform"].form
        assert set(form.fields) == {"store", "name"}

    def test_add_shows_the_raw_token_once_and_it_authenticates(self, su_client, store):
        response = su_client.post(
            reverse("admin:members_apitoken_add"),
            {"store": store.pk, "name": "Till 2"},
            follow=True,
        )
        assert response.status_code == 200
        token = ApiToken.objects.get()
        text = " ".join(_messages(response))
        raw = re.search(r"The token for Till 2 is (\S+)\.", text).group(1)
        assert raw.startswith(token.prefix)
        assert api_token_check(raw) == token
        again = su_client.get(reverse("admin:members_apitoken_change", args=[token.pk]))
        assert raw.encode() not in again.content
        assert token.key_hash.encode() not in again.content

    def test_existing_token_cannot_be_edited(self, su_client, store):
        token, _raw = api_token_create(store=store, name="Till 1")
        url = reverse("admin:members_apitoken_change", args=[token.pk])
        response = su_client.get(url)
        assert response.status_code == 200
        assert b'name="_save"' not in response.content
        assert su_client.post(url, {"name": "renamed"}).status_code == 403

    def test_revoke_action_revokes_through_the_service(self, su_client, store):
        token, raw = api_token_create(store=store, name="Till 1")
        kept, kept_raw = api_token_create(store=store, name="Till 2")
        response = su_client.post(
            reverse("admin:members_apitoken_changelist"),
            {"action": "revoke", "_selected_action": [token.pk]},
            follow=True,
        )
        assert "1 token revoked." in _messages(response)
        assert api_token_check(raw) is None
        assert api_token_check(kept_raw) == kept


def test_group_admin_changelist(su_client):
    response = su_client.get(reverse("admin:auth_group_changelist"), {"q": "Cash"})
    assert response.status_code == 200
    assert [g.name for g in response.context["cl"].result_list] == ["Cashier"]
