"""What each staff role may do in the back office (the groups of migration 0002)."""

import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from members.models import ApiToken, Member
from members.services import api_token_check
from rewards.models import LedgerEntry, Purchase
from rewards.selectors.program import program_settings_get

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def _login(client, user):
    client.force_login(user)
    return client


def _adjust(client, member, points="10", reason="ticket 1"):
    return client.post(
        reverse("admin:members_member_adjust_points", args=[member.pk]),
        {"points": points, "reason": reason, "idempotency_key": "perm-test"},
    )


def _settings_post(client):
    row = program_settings_get()
    return client.post(
        reverse("admin:rewards_programsettings_change", args=[row.pk]),
        {
            "currency": "UAH",
            "points_per_unit": "2",
            "min_purchase": "0",
            "point_value": "0.1",
            "pending_days": "0",
            "backdate_days": "30",
        },
    )


def test_migration_creates_the_three_groups():
    names = set(Group.objects.values_list("name", flat=True))
    assert {"Cashier", "Manager", "Marketer"} <= names


@pytest.mark.parametrize(
    ("group", "perm", "granted"),
    [
        ("Cashier", "rewards.add_purchase", True),
        ("Cashier", "members.add_member", True),
        ("Cashier", "rewards.view_ledgerentry", True),
        ("Cashier", "rewards.adjust_points", False),
        ("Cashier", "members.change_member", False),
        ("Cashier", "rewards.change_programsettings", False),
        ("Manager", "rewards.adjust_points", True),
        ("Manager", "rewards.add_purchase", True),
        ("Manager", "members.add_apitoken", True),
        ("Manager", "members.view_consentevent", True),
        ("Manager", "members.delete_store", False),
        ("Marketer", "members.view_member", True),
        ("Marketer", "members.view_consentevent", True),
        ("Marketer", "rewards.add_purchase", False),
        ("Marketer", "rewards.adjust_points", False),
    ],
)
def test_group_permissions(group, perm, granted):
    app_label, codename = perm.split(".")
    has = (
        Group.objects.get(name=group)
        .permissions.filter(content_type__app_label=app_label, codename=codename)
        .exists()
    )
    assert has is granted


class TestCashier:
    def test_can_use_the_counter(self, client, cashier, member):
        _login(client, cashier)
        assert client.get(reverse("admin:counter")).status_code == 200
        assert (
            client.get(reverse("admin:counter_member", args=[member.pk])).status_code
            == 200
        )
        response = client.post(
            reverse("admin:counter_purchase", args=[member.pk]),
            {"purchase-total": "10", "purchase-receipt_id": "C-1"},
        )
        assert response.status_code == 302
        assert Purchase.objects.count() == 1

    def test_can_enroll_at_the_counter_and_in_admin(self, client, cashier):
        _login(client, cashier)
        client.post(reverse("admin:counter_enroll"), {"phone": "0501112233"})
        assert client.get(reverse("admin:members_member_add")).status_code == 200
        client.post(
            reverse("admin:members_member_add"),
            {"phone": "0501112244", "language": "uk", "gender": ""},
        )
        assert set(Member.objects.values_list("phone", flat=True)) == {
            "+380501112233",
            "+380501112244",
        }

    def test_cannot_adjust_points(self, client, cashier, member):
        _login(client, cashier)
        change = client.get(reverse("admin:members_member_change", args=[member.pk]))
        assert b"adjust-points" not in change.content
        url = reverse("admin:members_member_adjust_points", args=[member.pk])
        assert client.get(url).status_code == 403
        assert _adjust(client, member).status_code == 403
        assert not LedgerEntry.objects.exists()

    def test_cannot_edit_a_member(self, client, cashier, member):
        _login(client, cashier)
        url = reverse("admin:members_member_change", args=[member.pk])
        assert client.get(url).status_code == 200  # view only
        assert client.post(url, {"first_name": "Changed"}).status_code == 403

    def test_cannot_edit_program_settings(self, client, cashier):
        _login(client, cashier)
        assert (
            client.get(reverse("admin:rewards_programsettings_changelist")).status_code
            == 403
        )
        assert _settings_post(client).status_code == 403
        assert program_settings_get().points_per_unit == 1

    def test_cannot_manage_api_tokens(self, client, cashier, store):
        _login(client, cashier)
        assert (
            client.get(reverse("admin:members_apitoken_changelist")).status_code == 403
        )
        response = client.post(
            reverse("admin:members_apitoken_add"), {"store": store.pk, "name": "x"}
        )
        assert response.status_code == 403
        assert not ApiToken.objects.exists()


class TestManager:
    def test_can_adjust_points(self, client, manager, member):
        _login(client, manager)
        change = client.get(reverse("admin:members_member_change", args=[member.pk]))
        assert b"adjust-points" in change.content
        assert _adjust(client, member, points="25").status_code == 302
        entry = LedgerEntry.objects.get()
        assert (entry.points, entry.created_by) == (25, manager)

    def test_can_edit_program_settings(self, client, manager):
        _login(client, manager)
        assert _settings_post(client).status_code == 302
        assert program_settings_get().points_per_unit == 2

    def test_can_create_and_revoke_api_tokens(self, client, manager, store):
        _login(client, manager)
        response = client.post(
            reverse("admin:members_apitoken_add"),
            {"store": store.pk, "name": "Till 3"},
            follow=True,
        )
        token = ApiToken.objects.get()
        message = next(
            str(m) for m in response.context["messages"] if "Till 3" in str(m)
        )
        raw = re.search(r"is (\S+)\. Copy", message).group(1)
        assert api_token_check(raw) == token
        client.post(
            reverse("admin:members_apitoken_changelist"),
            {"action": "revoke", "_selected_action": [token.pk]},
        )
        token.refresh_from_db()
        assert token.revoked_at is not None
        assert api_token_check(raw) is None

    def test_can_edit_a_member(self, client, manager, member):
        _login(client, manager)
        url = reverse("admin:members_member_change", args=[member.pk])
        response = client.post(
            url,
            {
                "first_name": "Renamed",
                "last_name": member.last_name,
                "email": member.email,
                "gender": "",
                "language": member.language,
                "interests": "[]",
                "home_store": member.home_store_id,
            },
        )
        assert response.status_code == 302
        member.refresh_from_db()
        assert member.first_name == "Renamed"

    def test_can_use_the_counter(self, client, manager):
        _login(client, manager)
        assert client.get(reverse("admin:counter")).status_code == 200


class TestMarketer:
    def test_can_view_members(self, client, marketer, member):
        _login(client, marketer)
        assert client.get(reverse("admin:members_member_changelist")).status_code == 200
        change = client.get(reverse("admin:members_member_change", args=[member.pk]))
        assert change.status_code == 200
        assert b'name="_save"' not in change.content

    def test_can_view_consent_history(self, client, marketer):
        _login(client, marketer)
        url = reverse("admin:members_consentevent_changelist")
        assert client.get(url).status_code == 200

    def test_cannot_use_the_counter(self, client, marketer, member):
        _login(client, marketer)
        assert client.get(reverse("admin:counter")).status_code == 403
        assert (
            client.get(reverse("admin:counter_member", args=[member.pk])).status_code
            == 403
        )
        response = client.post(
            reverse("admin:counter_purchase", args=[member.pk]),
            {"purchase-total": "10", "purchase-receipt_id": "C-1"},
        )
        assert response.status_code == 403
        assert not Purchase.objects.exists()
        index = client.get(reverse("admin:index"))
        assert reverse("admin:counter").encode() not in index.content

    def test_cannot_adjust_points(self, client, marketer, member):
        _login(client, marketer)
        assert _adjust(client, member).status_code == 403
        assert not LedgerEntry.objects.exists()

    def test_cannot_enroll(self, client, marketer):
        _login(client, marketer)
        assert client.get(reverse("admin:members_member_add")).status_code == 403


def test_counter_needs_a_staff_login(client, customer):
    response = client.get(reverse("admin:counter"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
    user, _member = customer
    client.force_login(user)
    assert client.get(reverse("admin:counter")).status_code == 302


# --- rights on the models added after the first roles ---------------------------------


@pytest.mark.parametrize(
    ("role", "allowed", "refused"),
    [
        (
            "Cashier",
            ["rewards.view_reward", "rewards.view_voucher"],
            [
                "rewards.change_reward",
                "rewards.change_voucher",
                "rewards.change_referral",
            ],
        ),
        (
            "Manager",
            [
                "rewards.add_reward",
                "rewards.change_voucher",
                "rewards.change_tier",
                "rewards.change_bonussettings",
                "rewards.change_referral",
            ],
            ["rewards.delete_reward", "rewards.delete_tier"],
        ),
        (
            "Marketer",
            ["rewards.view_reward", "rewards.view_tier", "rewards.view_referral"],
            [
                "rewards.change_reward",
                "rewards.change_referral",
                "rewards.add_purchase",
            ],
        ),
    ],
)
def test_roles_have_rights_on_catalog_tiers_and_referrals(
    role, allowed, refused, cashier, manager, marketer
):
    user = {"Cashier": cashier, "Manager": manager, "Marketer": marketer}[role]
    for perm in allowed:
        assert user.has_perm(perm), perm
    for perm in refused:
        assert not user.has_perm(perm), perm


def test_manager_can_open_the_referral_review_queue_and_the_rewards(client, manager):
    client.force_login(manager)
    for url in (
        "/admin/rewards/referral/",
        "/admin/rewards/reward/",
        "/admin/rewards/tier/",
    ):
        assert client.get(url).status_code == 200, url
