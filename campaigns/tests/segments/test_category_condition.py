"""The builder's "Bought a category" condition picks from the catalog's
categories (names shown, codes stored) and refuses a code it does not know."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse

from campaigns.models import Segment
from campaigns.segments.conditions import SegmentError, builder_schema
from campaigns.segments.definition import segment_validate
from campaigns.segments.selectors import category_choices
from campaigns.tests.segments.test_conditions import NOW, buy, ids, make_member
from rewards.models import Category
from rewards.tests.factories import EarningRuleFactory, StampProgramFactory

pytestmark = pytest.mark.django_db


def cond(field, op, value=None, **extra) -> dict:
    return {"field": field, "op": op, **({"value": value} if value else {}), **extra}


NAMES = {"bakery": "Випічка", "tea": "Чай", "coffee": "Кава"}


@pytest.fixture
def catalog(store):
    """Lines of bakery and tea; rules naming coffee and (in another case) Tea."""
    member = make_member(store)
    buy(
        member,
        store,
        "10",
        NOW - dt.timedelta(days=3),
        lines=[("BRD-1", "bakery", "1", "0"), ("TEA-9", "tea", "1", "0")],
    )
    EarningRuleFactory(category="coffee")
    StampProgramFactory(category="Tea")
    return member


@pytest.fixture
def named():
    """The catalog's item categories with their Ukrainian names."""
    for code, name in NAMES.items():
        Category.objects.create(code=code, name_uk=name)


def test_choices_are_every_known_category_once(catalog):
    assert category_choices() == [
        ("bakery", "bakery"),
        ("coffee", "coffee"),
        ("tea", "tea"),
    ]


def test_choices_show_names_sorted_by_name_and_keep_codes(catalog, named):
    assert category_choices() == [
        ("bakery", "Випічка"),
        ("coffee", "Кава"),
        ("tea", "Чай"),
    ]
    [kind] = [k for k in builder_schema() if k["name"] == "bought_category"]
    assert {op["value"] for op in kind["ops"]} == {"choices"}  # a select
    assert kind["choices"] == [
        {"value": "bakery", "label": "Випічка"},
        {"value": "coffee", "label": "Кава"},
        {"value": "tea", "label": "Чай"},
    ]


def test_a_known_code_is_stored_as_a_list_of_codes(catalog):
    clean = segment_validate(
        {"conditions": [cond("bought_category", "any", "bakery", days=30)]}
    )
    assert clean["conditions"][0] == {
        "field": "bought_category",
        "op": "any",
        "value": ["bakery"],
        "days": 30,
    }
    assert ids(clean) == {catalog.pk}


def test_an_unknown_code_is_refused_naming_the_condition(catalog):
    with pytest.raises(SegmentError) as caught:
        segment_validate(
            {
                "conditions": [
                    cond("tier", "none"),
                    cond("bought_category", "none", ["tea", "bakeri"]),
                ]
            }
        )
    assert caught.value.path == (1,)
    assert caught.value.field == "bought_category"
    assert str(caught.value) == (
        "Condition 2 (Bought a category): “bakeri” is not one of the choices."
    )


def test_the_admin_refuses_an_unknown_category_on_save(client, marketer, catalog):
    client.force_login(marketer)
    definition = {"conditions": [cond("bought_category", "any", ["pastry"])]}
    response = client.post(
        reverse("admin:campaigns_segment_add"),
        {
            "name": "Pastry lovers",
            "kind": "rules",
            "definition": json.dumps(definition),
        },
    )
    assert response.status_code == 200
    assert "“pastry” is not one of the choices." in response.text
    assert not Segment.objects.filter(name="Pastry lovers").exists()

    definition["conditions"][0]["value"] = ["bakery"]
    response = client.post(
        reverse("admin:campaigns_segment_add"),
        {
            "name": "Pastry lovers",
            "kind": "rules",
            "definition": json.dumps(definition),
        },
    )
    assert response.status_code == 302
    saved = Segment.objects.get(name="Pastry lovers")
    assert saved.definition["conditions"][0]["value"] == ["bakery"]


def test_the_builder_page_lists_the_category_names(client, marketer, catalog, named):
    client.force_login(marketer)
    # The schema travels as JSON (json_script) for segment_builder.js.
    response = client.get(reverse("admin:campaigns_segment_add"))
    [kind] = [
        k for k in response.context["segment_schema"] if k["name"] == "bought_category"
    ]
    assert {"value": "bakery", "label": "Випічка"} in kind["choices"]
    assert 'id="segment-schema"' in response.text
