"""A partner's staff login (User.partner, the Partner role) sees in the back
office only its partner: its settlement, its stores, the rewards it funds and
the vouchers used at its stores, never another partner's or the program's own
data, and no member's personal data. Checked by walking every admin URL of the
resolver and every object of every registered ModelAdmin."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from loyalty_site.roles import ROLES, roles_sync
from members.models import Partner, Store
from members.tests.factories import (
    MemberFactory,
    PartnerFactory,
    StoreFactory,
    UserFactory,
)
from rewards.models import Purchase, Reward, Voucher
from rewards.services import purchase_record, voucher_consume, voucher_grant
from rewards.tests.factories import RewardFactory
from tests.url_walk import url_routes

pytestmark = pytest.mark.django_db

PLACEHOLDER = "999999"
# What the bakery's login must never read: the florist's data, the program's
# own store and reward (neither used at the bakery) and the member's details.
FORBIDDEN = (
    "Florist",  # the other partner's name, its store and reward carry it too
    "florist@example.com",
    "Program Plaza",
    "Program-only prize",
    "Secretname",
    "Hiddensurname",
    "secret.member@example.com",
    "+380671112233",
)
ALLOWED_MODELS = {Partner, Store, Reward, Voucher}


def _buy(member, store, receipt):
    purchase, _r = purchase_record(
        store=store,
        member=member,
        receipt_id=receipt,
        total="300.00",
        occurred_at=timezone.now() - dt.timedelta(hours=2),
        source=Purchase.Source.IMPORT,
    )
    return purchase


def _used_voucher(member, reward, store, key):
    voucher, _r = voucher_grant(
        member=member, reward=reward, source="goodwill", idempotency_key=key
    )
    voucher_consume(code=voucher.code, store=store, receipt_id=f"U-{key}")
    voucher.refresh_from_db()
    return voucher


@pytest.fixture
def world():
    bakery = PartnerFactory(name="Bakery Coop", contact_email="bakery@example.com")
    florist = PartnerFactory(
        name="Florist Guild",
        contact_email="florist@example.com",
        point_value=Decimal("0.30"),
    )
    ours = StoreFactory(code="plaza", name="Program Plaza", address="Main sq 1")
    bakery_store = StoreFactory(
        code="bak", name="Bakery Podil", address="Podil 5", partner=bakery
    )
    florist_store = StoreFactory(
        code="flo", name="Florist Corner", address="Rose st 9", partner=florist
    )
    member = MemberFactory(
        store=ours,
        first_name="Secretname",
        last_name="Hiddensurname",
        email="secret.member@example.com",
        phone="+380671112233",
    )
    for store, receipt in (
        (ours, "O-1"),
        (bakery_store, "B-1"),
        (florist_store, "F-1"),
    ):
        _buy(member, store, receipt)
    croissant = RewardFactory(name="Croissant gift", funded_by=bakery)
    bouquet = RewardFactory(name="Florist bouquet", funded_by=florist)
    prize = RewardFactory(name="Program-only prize")
    objects = {
        "bakery": bakery,
        "bakery_store": bakery_store,
        "croissant": croissant,
        "bakery_voucher": _used_voucher(member, croissant, bakery_store, "b"),
        "florist_voucher": _used_voucher(member, bouquet, florist_store, "f"),
        "program_voucher": _used_voucher(member, prize, ours, "p"),
        # A bakery reward's voucher not used yet: not the bakery's business.
        "unused": voucher_grant(
            member=member, reward=croissant, source="goodwill", idempotency_key="u"
        )[0],
    }
    return objects


@pytest.fixture
def partner_client(client, world):
    roles_sync()
    user = UserFactory(username="bakery-staff", is_staff=True, partner=world["bakery"])
    user.groups.add(Group.objects.get(name="Partner"))
    client.force_login(user)
    return client


def _concrete(route: str) -> str:
    path = re.sub(r"\(\?P<\w+>([^|)]+)[^)]*\)", r"\1", route)
    path = re.sub(r"<[^>]+>", PLACEHOLDER, path)
    return "/" + path.replace("^", "").replace("$", "").replace("\\", "")


def _leaks(text: str) -> list[str]:
    return [word for word in FORBIDDEN if word in text]


def test_the_partner_role_is_view_only():
    assert ROLES["Partner"]
    assert all(".view_" in perm for perm in ROLES["Partner"])


def test_every_admin_url_either_refuses_or_shows_nothing_of_others(partner_client):
    opened, wrong = [], []
    for route, name, _pattern in url_routes():
        if not route.startswith("admin/") or name in ("admin:logout",):
            continue
        path = _concrete(route)
        response = partner_client.get(path)
        if response.status_code == 200:
            opened.append(name)
            body = b"".join(response) if response.streaming else response.content
            leaks = _leaks(body.decode(errors="replace"))
            if leaks:
                wrong.append((path, leaks))
        elif response.status_code >= 500:
            wrong.append((path, response.status_code))
    assert wrong == [], "\n".join(map(str, wrong))
    # Sanity: the walk did reach the pages the partner may open.
    assert {
        "admin:index",
        "admin:members_partner_changelist",
        "admin:members_partner_settlement",
        "admin:members_partner_settlement_csv",
        "admin:members_store_changelist",
        "admin:rewards_reward_changelist",
        "admin:rewards_voucher_changelist",
    } <= set(opened)


def test_every_other_model_admin_is_refused(partner_client):
    wrong = []
    for model in admin.site._registry:
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        status = partner_client.get(changelist).status_code
        expected = 200 if model in ALLOWED_MODELS else 403
        # A singleton's changelist redirects to its one row, which is refused.
        if status == 302:
            status = partner_client.get(changelist, follow=True).status_code
        if status != expected:
            wrong.append((changelist, status))
        add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
        if partner_client.get(add).status_code != 403:
            wrong.append((add, "add"))
    assert wrong == [], "\n".join(map(str, wrong))


def test_every_object_of_every_admin_opens_only_when_it_is_the_partners(
    partner_client, world
):
    mine = {
        world["bakery"],
        world["bakery_store"],
        world["croissant"],
        world["bakery_voucher"],
    }
    wrong, opened = [], set()
    for model in admin.site._registry:
        opts = model._meta
        for obj in model._default_manager.all()[:50]:
            url = reverse(
                f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]
            )
            response = partner_client.get(url)
            if response.status_code == 200:
                opened.add(obj)
                if obj not in mine:
                    wrong.append((url, "opened"))
                leaks = _leaks(response.content.decode())
                if leaks:
                    wrong.append((url, leaks))
                history = partner_client.get(url.replace("/change/", "/history/"))
                if history.status_code != 403:
                    wrong.append((url, "history", history.status_code))
    assert wrong == [], "\n".join(map(str, wrong))
    assert opened == mine


def test_changelists_list_only_the_partners_rows(partner_client, world):
    vouchers = partner_client.get(reverse("admin:rewards_voucher_changelist"))
    page = vouchers.content.decode()
    assert world["bakery_voucher"].code in page
    for other in ("florist_voucher", "program_voucher", "unused"):
        assert world[other].code not in page
    assert list(vouchers.context["cl"].queryset) == [world["bakery_voucher"]]
    rewards = partner_client.get(reverse("admin:rewards_reward_changelist"))
    assert list(rewards.context["cl"].queryset) == [world["croissant"]]
    stores = partner_client.get(reverse("admin:members_store_changelist"))
    assert list(stores.context["cl"].queryset) == [world["bakery_store"]]


def test_search_and_filters_stay_inside_the_partner(partner_client, world):
    url = reverse("admin:rewards_voucher_changelist")
    response = partner_client.get(url, {"q": world["florist_voucher"].code})
    assert list(response.context["cl"].queryset) == []
    florist_store = Store.objects.get(code="flo")
    response = partner_client.get(url, {"used_store__id__exact": florist_store.pk})
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert list(response.context["cl"].queryset) == []


def test_settlement_page_and_csv_show_only_its_own_partner(partner_client, world):
    month = f"{timezone.localdate():%Y-%m}"
    page = partner_client.get(
        reverse("admin:members_partner_settlement"), {"month": month}
    )
    assert page.status_code == 200
    assert [row[0] for row in page.context["rows"]] == ["Bakery Coop"]
    csv_text = b"".join(
        partner_client.get(
            reverse("admin:members_partner_settlement_csv"), {"month": month}
        )
    ).decode()
    assert "Bakery Coop" in csv_text
    assert "Florist" not in csv_text


def test_admin_index_lists_only_the_four_models(partner_client):
    response = partner_client.get(reverse("admin:index"))
    models = {
        (app["app_label"], model["object_name"])
        for app in response.context["app_list"]
        for model in app["models"]
    }
    assert models == {
        ("members", "Partner"),
        ("members", "Store"),
        ("rewards", "Reward"),
        ("rewards", "Voucher"),
    }


def test_a_partner_login_cannot_write_even_with_a_managers_rights(client, world):
    roles_sync()
    user = UserFactory(username="bakery-boss", is_staff=True, partner=world["bakery"])
    user.groups.add(Group.objects.get(name="Manager"))
    client.force_login(user)
    croissant = world["croissant"]

    change = reverse("admin:rewards_reward_change", args=[croissant.pk])
    response = client.post(change, {"name_en": "Hacked", "points_cost": 1})

    assert response.status_code == 403
    croissant.refresh_from_db()
    assert croissant.name_en != "Hacked"
    assert client.get(reverse("admin:rewards_reward_add")).status_code == 403


def test_the_programs_staff_still_see_every_partner(client, world, manager):
    client.force_login(manager)
    response = client.get(reverse("admin:rewards_voucher_changelist"))
    assert response.context["cl"].result_count == 4
    page = client.get(
        reverse("admin:members_partner_settlement"),
        {"month": f"{timezone.localdate():%Y-%m}"},
    )
    assert {row[0] for row in page.context["rows"]} == {"Bakery Coop", "Florist Guild"}


def test_autocomplete_of_every_admin_field_shows_nothing_of_others(partner_client):
    url = reverse("admin:autocomplete")
    wrong, answered = [], 0
    for model, model_admin in admin.site._registry.items():
        for field_name in model_admin.autocomplete_fields:
            response = partner_client.get(
                url,
                {
                    "app_label": model._meta.app_label,
                    "model_name": model._meta.model_name,
                    "field_name": field_name,
                    "term": "",
                },
            )
            if response.status_code == 200:
                answered += 1
                leaks = _leaks(response.content.decode())
                if leaks:
                    wrong.append((model.__name__, field_name, leaks))
    assert wrong == []
    assert answered  # the user admin's store and partner fields at least
