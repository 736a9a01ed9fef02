"""The interests list: the admin (tabs per language), the profile checkboxes,
the service keeping inactive picks, matching free text, erasure."""

from __future__ import annotations

import pytest
from django.urls import reverse

from members.audit import StaffActor
from members.models import ErasureSource, Interest
from members.privacy import member_anonymize, member_data_export
from members.services import (
    interests_match_text,
    member_interests_set,
    member_update_profile,
)
from members.tests.factories import InterestFactory, MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def listed(db):
    Interest.objects.all().delete()  # the seeded list: tested in the migration test
    return {
        "coffee": InterestFactory(code="coffee", name="Кава", name_en="Coffee"),
        "tea": InterestFactory(code="tea", name="Чай", name_en="Tea"),
        "old": InterestFactory(code="old", name="Старе", active=False),
    }


def test_admin_lists_searches_adds_and_changes(admin_client, listed):
    url = reverse("admin:members_interest_changelist")
    assert admin_client.get(url).status_code == 200
    found = admin_client.get(url, {"q": "Tea"})
    assert list(found.context["cl"].result_list) == [listed["tea"]]
    add = admin_client.get(reverse("admin:members_interest_add"))
    assert b"name_ro" in add.content and b"translation_tabs" in add.content
    response = admin_client.post(
        reverse("admin:members_interest_add"),
        {
            "code": "brunch",
            "name_uk": "Бранч",
            "name_ru": "Бранч",
            "name_ro": "Brunch",
            "name_en": "Brunch",
            "active": "on",
            "order": "5",
            "purchase_categories": "bakery, coffee",
        },
    )
    assert response.status_code == 302
    brunch = Interest.objects.get(code="brunch")
    assert brunch.categories() == ["bakery", "coffee"]
    change = reverse("admin:members_interest_change", args=[brunch.pk])
    assert admin_client.get(change).status_code == 200


def test_admin_refuses_a_duplicate_code(admin_client, listed):
    response = admin_client.post(
        reverse("admin:members_interest_add"),
        {"code": "tea", "name_uk": "Ще чай", "order": "0"},
    )
    assert response.status_code == 200
    assert "code" in response.context["adminform"].form.errors


def test_profile_shows_active_interests_as_checkboxes_and_saves(
    client, customer, listed
):
    user, member = customer
    client.force_login(user)
    page = client.get(reverse("portal:profile"))
    body = page.content.decode()
    assert 'name="picked_interests"' in body and 'type="checkbox"' in body
    assert f'value="{listed["coffee"].pk}"' in body
    assert f'value="{listed["old"].pk}"' not in body  # inactive: not offered
    response = client.post(
        reverse("portal:profile"),
        {
            "email": member.email,
            "language": "uk",
            "picked_interests": [listed["coffee"].pk, listed["tea"].pk],
            "interests": "books",
        },
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert set(member.picked_interests.all()) == {listed["coffee"], listed["tea"]}
    assert member.interests == ["books"]
    bad = client.post(
        reverse("portal:profile"),
        {"email": member.email, "language": "uk", "picked_interests": ["nope"]},
    )
    assert bad.status_code == 200 and "picked_interests" in bad.context["form"].errors


def test_setting_interests_keeps_an_inactive_pick(listed):
    member = MemberFactory()
    member_interests_set(member=member, interests=[listed["coffee"], listed["old"]])
    member_update_profile(member=member, picked_interests=[listed["tea"]])
    assert set(member.picked_interests.all()) == {listed["tea"], listed["old"]}


def test_free_text_matches_codes_and_names_in_any_language(listed):
    picked, rest = interests_match_text([" COFFEE ", "чай", "books", "Кава"])
    assert picked == [listed["coffee"], listed["tea"]]
    assert rest == ["books"]


def test_export_lists_and_erasure_clears_the_picks(admin_user, listed):
    member = MemberFactory()
    member_interests_set(member=member, interests=[listed["coffee"]])
    assert member_data_export(member=member)["member"]["picked_interests"] == ["coffee"]
    member_anonymize(
        member=member, actor=StaffActor(user=admin_user), source=ErasureSource.ADMIN
    )
    assert not member.picked_interests.exists()


def test_staff_pick_interests_in_the_member_admin(admin_client, member, listed):
    from members.tests.admin.test_admin import _member_change_data

    url = reverse("admin:members_member_change", args=[member.pk])
    page = admin_client.get(url)
    assert 'name="picked_interests"' in page.content.decode()
    response = admin_client.post(
        url,
        _member_change_data(
            member, timezone=member.timezone, picked_interests=[listed["tea"].pk]
        ),
    )
    assert response.status_code == 302
    assert list(member.picked_interests.all()) == [listed["tea"]]
