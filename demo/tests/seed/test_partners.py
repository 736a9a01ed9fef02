"""The demo's partner: its description in every language on the Partners page,
and the bakery staff's login, printed with the others, scoped to the bakery."""

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from demo.seed_partners import DESCRIPTION
from members.models import Partner, User

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_groups")]


def test_seed_demo_gives_the_bakery_a_description_and_a_scoped_staff_login():
    out = StringIO()
    call_command("seed_demo", members=20, months=2, stdout=out)

    bakery = Partner.objects.get()
    for language, text in DESCRIPTION.items():
        assert getattr(bakery, f"description_{language}") == text
    user = User.objects.get(username="partner")
    assert authenticate(username="partner", password="partner-demo") == user
    assert user.partner == bakery and user.is_staff
    assert list(user.groups.values_list("name", flat=True)) == ["Partner"]
    assert "partner-demo" in out.getvalue()

    client = Client()
    client.force_login(user)
    settlement = client.get(reverse("admin:members_partner_settlement"))
    assert settlement.status_code == 200
    assert [row[0] for row in settlement.context["rows"]] == [bakery.name]
    assert client.get(reverse("admin:members_member_changelist")).status_code == 403

    customer = User.objects.get(username="demo@example.com")
    client.force_login(customer)
    page = client.get(reverse("catalog:partners"), HTTP_ACCEPT_LANGUAGE="en")
    assert DESCRIPTION["en"] in page.content.decode()
