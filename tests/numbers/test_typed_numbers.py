"""One rule for every number a person types (members.numbers): plain ASCII digits,
an optional minus, one decimal point. Walked over every till API input field
(from the resolver's views and their serializers), every form field of the
project's forms (the Counter's among them), every admin form and inline, and
the services' text input (the CSV import). Also: the till's purchase date
window, and what a till learns about a voucher used elsewhere.
"""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
import re

import pytest
from django import forms
from django.contrib import admin
from django.core.exceptions import FieldError, ValidationError
from django.test import RequestFactory
from django.utils import timezone
from rest_framework import serializers

from members.api.views import TillApiView
from members.errors import InvalidInput
from members.tests.factories import MemberFactory, UserFactory
from rewards.imports import purchases_csv_read, purchases_import
from rewards.models import Purchase
from rewards.services import (
    points_adjust,
    program_settings_update,
    purchase_record,
    purchase_return_record,
    reward_redeem,
    voucher_consume,
)
from rewards.tests.factories import RewardFactory
from tests.url_walk import url_routes

pytestmark = pytest.mark.django_db

BAD = ["1e3", "١٠٠", "1,5.3", "NaN", "Infinity", "1_000", "+5", "٣.٥", " 1e3 "]
NUMBER_FIELDS = (
    serializers.DecimalField,
    serializers.IntegerField,
    serializers.FloatField,
)
FORM_NUMBER_FIELDS = (forms.DecimalField, forms.IntegerField, forms.FloatField)
APPS = ("members", "rewards", "campaigns", "analytics", "loyalty_site", "demo")


# --- the till API ------------------------------------------------------------------------


def _till_views():
    for route, _name, pattern in url_routes():
        view = getattr(pattern.callback, "view_class", None)
        if view is not None and issubclass(view, TillApiView):
            yield "/" + route, view


def _number_fields(serializer, name: str = ""):
    """(error name, a body with only that field set) for each number field."""
    for field_name, field in serializer.fields.items():
        if field.read_only:
            continue
        here = f"{name}.{field_name}" if name else field_name
        if isinstance(field, serializers.ListSerializer):
            for inner, body in _number_fields(field.child, f"{here}[0]"):
                yield inner, lambda value, b=body, f=field_name: {f: [b(value)]}
        elif isinstance(field, serializers.Serializer):
            for inner, body in _number_fields(field, here):
                yield inner, lambda value, b=body, f=field_name: {f: b(value)}
        elif isinstance(field, NUMBER_FIELDS):
            yield here, lambda value, f=field_name: {f: value}


@pytest.fixture
def world(store, member):
    purchase, _ = purchase_record(
        store=store, member=member, receipt_id="P-1", total="100.00"
    )
    return {
        "purchase_id": str(purchase.pk),
        "card_number": member.card_number,
        "code": "X",
    }


def _till_number_fields(world):
    found = []
    for route, view in _till_views():
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: world[m.group(1)], route)
        serializer_class = getattr(view, "InputSerializer", None)
        if serializer_class is None:
            continue
        for method in ("post", "put", "patch", "get"):
            if hasattr(view, method):
                for name, body in _number_fields(serializer_class()):
                    found.append((method, path, name, body))
    return found


def test_every_number_the_till_api_takes_refuses_anything_but_plain_digits(
    api_client, world
):
    fields = _till_number_fields(world)
    names = {(path, name) for _method, path, name, _body in fields}
    # The walk finds the amounts it must (a guard against a walk that finds nothing).
    assert {
        ("/api/v1/purchases", "total"),
        ("/api/v1/purchases", "lines[0].quantity"),
        ("/api/v1/purchases", "lines[0].unit_price"),
        ("/api/v1/redemptions", "points"),
        (f"/api/v1/purchases/{world['purchase_id']}/returns", "amount"),
    } <= names, names

    for method, path, name, body in fields:
        for bad in BAD:
            if method == "get":
                response = api_client.get(path, body(bad))
            else:
                response = getattr(api_client, method)(path, body(bad), format="json")
            assert response.status_code == 400, (path, name, bad, response.content)
            assert name in response.json()["errors"], (path, name, bad, response.json())
    assert not Purchase.objects.exclude(receipt_id="P-1").exists()


def test_the_till_api_still_takes_plain_amounts_and_json_numbers(api_client, member):
    for receipt, total in [("R-1", "1000"), ("R-2", "12.5"), ("R-3", 12.5), ("R-4", 7)]:
        response = api_client.post(
            "/api/v1/purchases",
            {"card_number": member.card_number, "receipt_id": receipt, "total": total},
            format="json",
        )
        assert response.status_code == 201, response.content


# --- forms: the Counter's and every other form of the project, and the admin's -----------


def _import_project_modules() -> None:
    for app in APPS:
        package = importlib.import_module(app)
        for module in pkgutil.walk_packages(package.__path__, f"{app}."):
            if not re.search(r"\.(tests|migrations|management)(\.|$)", module.name):
                importlib.import_module(module.name)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _project_forms() -> list[type[forms.BaseForm]]:
    _import_project_modules()
    return sorted(
        {
            form
            for form in _subclasses(forms.BaseForm)
            if form.__module__.split(".")[0] in APPS
            # ModelForms get their number fields from the admin that shows them.
            and not issubclass(form, forms.BaseModelForm)
        },
        key=lambda form: f"{form.__module__}.{form.__qualname__}",
    )


def _assert_refuses(where: str, field: forms.Field) -> None:
    for bad in BAD:
        with pytest.raises(ValidationError):
            field.clean(bad)
            pytest.fail(f"{where} took {bad!r}")


def test_every_number_field_of_the_projects_forms_refuses_anything_but_plain_digits():
    checked = []
    for form in _project_forms():
        for name, field in form.base_fields.items():
            if isinstance(field, FORM_NUMBER_FIELDS):
                _assert_refuses(f"{form.__module__}.{form.__name__}.{name}", field)
                checked.append(f"{form.__name__}.{name}")

    # The Counter's amounts and points are among them.
    assert {
        "CounterPurchaseForm.total",
        "CounterReturnForm.amount",
        "CounterRedeemForm.points",
        "PointsAdjustForm.points",
        "ComplaintWorkForm.goodwill_points",
    } <= set(checked), checked


def test_every_number_field_of_every_admin_form_refuses_anything_but_plain_digits():
    request = RequestFactory().get("/admin/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    checked = []
    for model, model_admin in admin.site._registry.items():
        try:
            form = model_admin.get_form(request)
        except FieldError:  # a read-only admin: nothing can be typed into it
            continue
        forms_of_admin = [(model.__name__, form)] + [
            (
                f"{model.__name__}/{inline.model.__name__}",
                inline.get_formset(request).form,
            )
            for inline in model_admin.get_inline_instances(request)
        ]
        for where, admin_form in forms_of_admin:
            for name, field in admin_form.base_fields.items():
                if isinstance(field, FORM_NUMBER_FIELDS):
                    _assert_refuses(f"admin {where}.{name}", field)
                    checked.append(f"{where}.{name}")

    assert {"Reward.points_cost", "Reward.value", "ProgramSettings.point_value"} <= set(
        checked
    ), checked


def test_form_fields_still_take_plain_numbers():
    from members.numbers import PlainDecimalField, PlainIntegerField

    assert str(PlainDecimalField(decimal_places=2).clean(" 12.50 ")) == "12.50"
    assert PlainIntegerField().clean("-7") == -7
    assert PlainIntegerField(required=False).clean("") is None


# --- services: text that comes from a CSV import -------------------------------------------


@pytest.mark.parametrize("bad", BAD)
def test_services_refuse_typed_text_that_is_not_plain_digits(member, store, bad):
    purchase, _ = purchase_record(
        store=store,
        member=member,
        receipt_id="P-1",
        lines=[{"sku": "A", "quantity": "2", "unit_price": "5"}],
    )
    calls = {
        "total": lambda: purchase_record(
            store=store, member=member, receipt_id="P-2", total=bad
        ),
        "lines[0].quantity": lambda: purchase_record(
            store=store,
            member=member,
            receipt_id="P-3",
            lines=[{"sku": "A", "quantity": bad, "unit_price": "5"}],
        ),
        "lines[0].unit_price": lambda: purchase_record(
            store=store,
            member=member,
            receipt_id="P-4",
            lines=[{"sku": "A", "quantity": "1", "unit_price": bad}],
        ),
        "amount": lambda: purchase_return_record(
            purchase=purchase, store=store, receipt_id="RT-1", amount=bad
        ),
        "points": lambda: points_adjust(
            member=member, points=bad, reason="typed", created_by=None
        ),
    }
    for field, call in calls.items():
        with pytest.raises(InvalidInput) as refused:
            call()
        assert refused.value.field == field, (field, refused.value.message)


def test_the_purchase_import_refuses_an_exponent_or_foreign_digits(member, store):
    rows = purchases_csv_read(
        "store,receipt_id,card_number,total,occurred_at\n"
        f"main,R-1,{member.card_number},1e3,2020-01-01T10:00:00+00:00\n"
        f"main,R-2,{member.card_number},١٠٠,2020-01-02T10:00:00+00:00\n"
        f"main,R-3,{member.card_number},100.00,2020-01-03T10:00:00+00:00\n"
    )

    result = purchases_import(rows)

    assert [(e.line, e.column) for e in result.errors] == [(2, "total"), (3, "total")]
    # The import is not held to the till's date window: it brings the history.
    assert result.imported == 1
    assert Purchase.objects.get().occurred_at.year == 2020


# --- the time of a purchase a till sends ---------------------------------------------------


def _post_at(api_client, member, receipt: str, occurred_at: str):
    return api_client.post(
        "/api/v1/purchases",
        {
            "card_number": member.card_number,
            "receipt_id": receipt,
            "total": "10.00",
            "occurred_at": occurred_at,
        },
        format="json",
    )


def test_a_till_may_not_date_a_purchase_before_its_window(api_client, member):
    now = timezone.now()
    old = [
        "1970-01-01T00:00:00Z",
        (now - dt.timedelta(days=31)).isoformat(),
        (now + dt.timedelta(days=2)).isoformat(),
    ]
    for i, when in enumerate(old):
        response = _post_at(api_client, member, f"R-{i}", when)
        assert response.status_code == 400, (when, response.content)
        assert "occurred_at" in response.json()["errors"]

    ok = _post_at(api_client, member, "R-ok", (now - dt.timedelta(days=29)).isoformat())
    assert ok.status_code == 201, ok.content


def test_the_window_follows_the_program_settings(api_client, member):
    now = timezone.now()
    program_settings_update(backdate_days=400)
    assert (
        _post_at(
            api_client, member, "R-1", (now - dt.timedelta(days=300)).isoformat()
        ).status_code
        == 201
    )

    program_settings_update(started_on=(now - dt.timedelta(days=10)).date())
    refused = _post_at(
        api_client, member, "R-2", (now - dt.timedelta(days=20)).isoformat()
    )
    assert refused.status_code == 400
    assert "occurred_at" in refused.json()["errors"]


# --- a voucher used at another store ------------------------------------------------------


def test_a_till_learns_only_that_and_when_a_voucher_was_used_elsewhere(
    api_client, other_api_client, store
):
    member = MemberFactory(store=store)
    points_adjust(member=member, points=500, reason="Opening", created_by=None)
    voucher, _ = reward_redeem(
        member=member, reward=RewardFactory(points_cost=10), idempotency_key="v"
    )
    voucher_consume(code=voucher.code, store=store, receipt_id="SECRET-77")
    url = f"/api/v1/vouchers/{voucher.code}"

    checked = other_api_client.post(f"{url}/validate").json()
    refused = other_api_client.post(
        f"{url}/consume", {"receipt_id": "O-1"}, format="json"
    )
    own = api_client.post(f"{url}/validate").json()

    assert refused.status_code == 409
    for text in (checked["reason"], refused.json()["detail"], str(refused.json())):
        assert "was already used on" in text
        assert "SECRET-77" not in text and store.name not in text, text
    assert checked["used_receipt_id"] == ""
    assert own["used_receipt_id"] == "SECRET-77"  # its own receipt, its business
