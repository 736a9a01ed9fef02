"""The Segment admin: builder page, live and no-JS preview, upload, rights."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns.models import Segment, SegmentKind, SegmentStaticMember
from campaigns.segments.services import segment_save
from campaigns.tests.segments.test_conditions import make_member, set_account
from rewards.tests.factories import TierFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:campaigns_segment_changelist"
ADD = "admin:campaigns_segment_add"
PREVIEW = "admin:campaigns_segment_preview"


@pytest.fixture
def gold(db):
    return TierFactory(name="Gold", rank=3)


@pytest.fixture
def gold_members(store, gold):
    members = [make_member(store, first_name=f"Gold{i}") for i in range(3)]
    for member in members:
        set_account(member, tier=gold, balance=120)
    make_member(store, first_name="Plain")
    return members


def _tier_is(tier) -> dict:
    return {
        "op": "and",
        "conditions": [{"field": "tier", "op": "is", "value": [tier.pk]}],
    }


@pytest.fixture
def segment(marketer, gold):
    return segment_save(name="Gold members", definition=_tier_is(gold), by=marketer)


def test_changelist_lists_segments_in_few_queries(
    client, marketer, segment, django_assert_max_num_queries
):
    segment_save(name="Other", definition={}, by=marketer)
    client.force_login(marketer)
    with django_assert_max_num_queries(12):
        response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    assert "Gold members" in response.text and "Other" in response.text


def test_changelist_search_finds_by_name(client, marketer, segment):
    segment_save(name="Lapsed", definition={}, by=marketer)
    client.force_login(marketer)
    response = client.get(reverse(CHANGELIST), {"q": "gold"})
    assert response.status_code == 200
    assert "Gold members" in response.text
    assert "Lapsed" not in response.text


def test_add_page_offers_the_builder_with_stable_ids(client, marketer, gold):
    client.force_login(marketer)
    response = client.get(reverse(ADD))
    assert response.status_code == 200
    html = response.text
    for needle in (
        'id="segment-builder"',
        'id="segment-join"',
        'id="segment-add-row"',
        'id="segment-preview-button"',
        'name="_preview"',
        'id="id_definition"',
        'id="segment-schema"',
        "js/segment_builder.js",
    ):
        assert needle in html, needle
    schema = json.loads(
        html.split('id="segment-schema" type="application/json">')[1].split(
            "</script>"
        )[0]
    )
    tier = next(kind for kind in schema if kind["name"] == "tier")
    assert {"value": gold.pk, "label": "Gold"} in tier["choices"]


def test_marketer_adds_a_rules_segment(client, marketer, gold):
    client.force_login(marketer)
    response = client.post(
        reverse(ADD),
        {
            "name": "Gold members",
            "description": "",
            "kind": "rules",
            "definition": json.dumps(
                {"conditions": [{"field": "tier", "op": "is", "value": str(gold.pk)}]}
            ),
            "_save": "Save",
        },
    )
    assert response.status_code == 302, response.text[:2000]
    segment = Segment.objects.get(name="Gold members")
    assert segment.kind == SegmentKind.RULES
    assert segment.created_by == marketer
    assert segment.definition == _tier_is(gold)


def test_bad_conditions_come_back_as_a_form_error_naming_them(client, marketer):
    client.force_login(marketer)
    response = client.post(
        reverse(ADD),
        {
            "name": "Broken",
            "kind": "rules",
            "definition": json.dumps(
                {"conditions": [{"field": "points_balance", "op": "gte", "value": "x"}]}
            ),
        },
    )
    assert response.status_code == 200
    assert "Condition 1 (Points balance): enter a whole number." in response.text
    assert not Segment.objects.filter(name="Broken").exists()


def test_change_page_and_change(client, marketer, segment, gold):
    client.force_login(marketer)
    url = reverse("admin:campaigns_segment_change", args=[segment.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "name": "Gold or none",
            "description": "changed",
            "definition": json.dumps(
                {
                    "op": "or",
                    "conditions": [
                        {"field": "tier", "op": "is", "value": [gold.pk]},
                        {"field": "tier", "op": "none"},
                    ],
                }
            ),
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    segment.refresh_from_db()
    assert segment.name == "Gold or none"
    assert segment.definition["op"] == "or"


def test_preview_endpoint_counts_and_samples(client, marketer, gold, gold_members):
    client.force_login(marketer)
    response = client.post(
        reverse(PREVIEW),
        {"definition": json.dumps(_tier_is(gold))},
        content_type="application/json",
    )
    assert response.status_code == 200
    data = response.json()
    assert data["ok"] is True
    assert data["count"] == 3
    assert data["count_text"] == "3 members match."
    assert {row["tier"] for row in data["sample"]} == {"Gold"}
    assert {row["balance"] for row in data["sample"]} == {120}
    assert all(row["phone"].startswith("+380") for row in data["sample"])
    assert data["sample"][0]["url"].startswith("/admin/members/member/")


def test_preview_endpoint_runs_in_few_queries(
    client, marketer, gold, gold_members, django_assert_max_num_queries
):
    client.force_login(marketer)
    with django_assert_max_num_queries(8):  # session, user, perms, choices, 2 reads
        response = client.post(
            reverse(PREVIEW),
            {"definition": _tier_is(gold)},
            content_type="application/json",
        )
    assert response.json()["count"] == 3


def test_preview_endpoint_names_the_bad_condition(client, marketer):
    client.force_login(marketer)
    response = client.post(
        reverse(PREVIEW),
        {
            "definition": {
                "conditions": [
                    {"field": "tier", "op": "none"},
                    {"field": "enrolled", "op": "before", "value": "yesterday"},
                ]
            }
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    data = response.json()
    assert data["ok"] is False
    assert data["path"] == [1] and data["field"] == "enrolled"
    assert data["error"].startswith("Condition 2 (Joined): enter a date")


def test_preview_endpoint_refuses_get_and_garbage(client, marketer):
    client.force_login(marketer)
    assert client.get(reverse(PREVIEW)).status_code == 405
    response = client.post(reverse(PREVIEW), "{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["field"] == "definition"


def test_preview_button_without_javascript_rerenders_with_the_count(
    client, marketer, gold, gold_members
):
    client.force_login(marketer)
    response = client.post(
        reverse(ADD),
        {
            "name": "Draft",
            "kind": "rules",
            "definition": json.dumps(_tier_is(gold)),
            "_preview": "Preview",
        },
    )
    assert response.status_code == 200
    assert "3 members match." in response.text
    assert 'id="segment-preview-sample"' in response.text
    assert "Gold0" in response.text
    assert 'value="Draft"' in response.text  # the form comes back as typed
    assert not Segment.objects.filter(name="Draft").exists()


def test_preview_button_on_a_saved_segment_shows_the_error(client, marketer, segment):
    client.force_login(marketer)
    response = client.post(
        reverse("admin:campaigns_segment_change", args=[segment.pk]),
        {"name": segment.name, "definition": "{oops", "_preview": "Preview"},
    )
    assert response.status_code == 200
    assert 'id="segment-preview-error"' in response.text
    assert "The conditions are not valid JSON." in response.text
    segment.refresh_from_db()
    assert segment.definition != "{oops"


def test_marketer_adds_a_static_segment_from_a_csv(client, marketer, store):
    a = make_member(store)
    b = make_member(store)
    client.force_login(marketer)
    content = f"phone\n{a.phone}\n{b.card_number}\n+380 00 000\n".encode()
    response = client.post(
        reverse(ADD),
        {
            "name": "Fair visitors",
            "kind": "static",
            "definition": "",
            "file": SimpleUploadedFile("fair.csv", content, content_type="text/csv"),
            "_save": "Save",
        },
        follow=True,
    )
    assert response.status_code == 200
    segment = Segment.objects.get(name="Fair visitors")
    assert segment.kind == SegmentKind.STATIC
    assert set(
        SegmentStaticMember.objects.filter(segment=segment).values_list(
            "member_id", flat=True
        )
    ) == {a.pk, b.pk}
    assert "2 of 3 rows matched a member; 2 added" in response.text
    change = client.get(reverse("admin:campaigns_segment_change", args=[segment.pk]))
    assert "1 row matched no member." in change.text
    assert "+380 00 000" in change.text
    assert "2 members match." in change.text  # the list's count and sample
    csv_response = client.get(
        reverse("admin:campaigns_segment_unmatched", args=[segment.pk])
    )
    assert csv_response.status_code == 200
    # A leading + would make a spreadsheet read a formula: the cell is quoted.
    lines = csv_response.content.decode("utf-8-sig").splitlines()
    assert lines[1].startswith("4,'+380 00 000,")


def test_static_segment_needs_a_file(client, marketer):
    client.force_login(marketer)
    response = client.post(
        reverse(ADD), {"name": "Empty list", "kind": "static", "definition": ""}
    )
    assert response.status_code == 200
    assert "Upload the list of members." in response.text
    assert not Segment.objects.exists()


def test_unreadable_file_is_a_form_error(client, marketer):
    client.force_login(marketer)
    response = client.post(
        reverse(ADD),
        {
            "name": "Binary",
            "kind": "static",
            "file": SimpleUploadedFile("x.csv", b"\x00\x01\x02"),
        },
    )
    assert response.status_code == 200
    assert "This is not a CSV file." in response.text


def test_manager_can_use_segments(client, manager, segment):
    client.force_login(manager)
    assert client.get(reverse(CHANGELIST)).status_code == 200
    assert (
        client.get(
            reverse("admin:campaigns_segment_change", args=[segment.pk])
        ).status_code
        == 200
    )


def test_cashier_cannot_see_or_preview_segments(client, cashier, segment, gold):
    client.force_login(cashier)
    assert client.get(reverse(CHANGELIST)).status_code == 403
    assert client.get(reverse(ADD)).status_code == 403
    response = client.post(
        reverse(PREVIEW),
        {"definition": _tier_is(gold)},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert (
        client.get(
            reverse("admin:campaigns_segment_unmatched", args=[segment.pk])
        ).status_code
        == 403
    )


def test_birthday_months_are_named_in_the_staff_members_language(client, marketer):
    client.force_login(marketer)
    response = client.get(reverse(ADD), HTTP_ACCEPT_LANGUAGE="ro")
    html = response.content.decode()
    schema = json.loads(
        html.split('id="segment-schema" type="application/json">')[1].split(
            "</script>"
        )[0]
    )
    months = next(kind for kind in schema if kind["name"] == "birthday_month")
    # Romanian writes month names lower-case (Django's own catalog does not).
    assert {"value": 12, "label": "decembrie"} in months["choices"]
