"""Management commands of the members app."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from members.models import ApiToken, Store
from members.services import api_token_hash

pytestmark = pytest.mark.django_db


def create_api_token(*args: str) -> tuple[list[str], str]:
    out, err = StringIO(), StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=err)
    return out.getvalue().splitlines(), err.getvalue()


def test_create_api_token_prints_a_working_token_on_the_last_line():
    lines, _err = create_api_token("kyiv-center", "--name", "Till 2")

    raw = lines[-1]
    client = APIClient(HTTP_AUTHORIZATION=f"Token {raw}", HTTP_ACCEPT_LANGUAGE="en")
    response = client.get(reverse("api-v1:member-lookup"), {"phone": "+380501234567"})
    assert (
        response.status_code == 404
    )  # authenticated: the phone is simply not enrolled
    assert response.json()["detail"] == "No member has phone +380501234567."
    token = ApiToken.objects.get()
    assert token.name == "Till 2"
    assert token.store.code == "kyiv-center"
    assert token.key_hash == api_token_hash(raw)
    assert raw not in token.key_hash


def test_create_api_token_creates_a_missing_store():
    lines, _err = create_api_token("new-shop")

    store = Store.objects.get(code="new-shop")
    assert store.name == "new-shop"
    assert lines[0] == "Created store new-shop."
    assert ApiToken.objects.get().name == "till"


def test_create_api_token_reuses_an_existing_store(store):
    lines, _err = create_api_token(store.code, "--name", "Till 3")

    assert Store.objects.count() == 1
    assert ApiToken.objects.get().store == store
    assert not any(line.startswith("Created store") for line in lines)


def test_create_api_token_makes_a_new_token_each_time(store):
    first, _ = create_api_token(store.code)
    second, _ = create_api_token(store.code)

    assert first[-1] != second[-1]
    assert ApiToken.objects.filter(store=store).count() == 2


def test_token_is_shown_only_once_and_only_its_prefix_is_kept(store):
    lines, _err = create_api_token(store.code)

    token = ApiToken.objects.get()
    assert token.prefix == lines[-1][:8]
    assert f"starts with {token.prefix}" in lines[-2]


@pytest.mark.parametrize(
    "code", ["not a slug", "Kyiv/Center", "shop!", "", "   ", "x" * 33]
)
def test_create_api_token_refuses_a_bad_store_code(code):
    with pytest.raises(CommandError, match="store code"):
        create_api_token(code)

    assert not Store.objects.exists()
    assert not ApiToken.objects.exists()


def test_create_api_token_bad_code_message_is_clear():
    with pytest.raises(CommandError) as excinfo:
        create_api_token("my shop")

    assert str(excinfo.value) == (
        "“my shop” is not a store code: use letters, digits, hyphens and underscores only."
    )


@pytest.mark.parametrize("name", ["", "  ", "n" * 81])
def test_create_api_token_refuses_a_bad_name(store, name):
    with pytest.raises(CommandError, match="name"):
        create_api_token(store.code, "--name", name)

    assert not ApiToken.objects.exists()


def test_create_api_token_warns_about_an_inactive_store(store):
    store.is_active = False
    store.save()

    lines, err = create_api_token(store.code)

    assert "inactive" in err
    assert len(lines[-1]) > 20
