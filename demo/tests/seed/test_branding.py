"""The demo is branded as the coffee chain: name, colours, logo and favicon,
kept as they are on a second seed or after a change in the admin."""

from __future__ import annotations

import io
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from PIL import Image

from demo import seed_branding
from members.branding import branding_cache_clear, branding_get
from members.models import Branding
from members.services import branding_update

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_groups")]


@pytest.fixture(autouse=True)
def _fresh_branding():
    branding_cache_clear()
    yield
    branding_cache_clear()


def test_the_seeded_demo_is_the_coffee_chains_program(client):
    call_command("seed_demo", members=5, months=1, stdout=StringIO())

    row = Branding.objects.get()
    assert row.program_name == "Zerno Coffee Club"
    assert row.short_name == "Zerno"
    assert (row.primary_color, row.secondary_color) == ("#6f4e37", "#c08a3e")
    logo = Image.open(io.BytesIO(row.logo.read()))
    assert (logo.format, logo.size) == ("PNG", (256, 256))
    favicon = Image.open(io.BytesIO(row.favicon.read()))
    assert (favicon.format, favicon.size) == ("PNG", (64, 64))

    page = client.get(reverse("portal:home")).content.decode()
    assert "Zerno Coffee Club" in page
    assert branding_get().logo_url in page


def test_a_second_seed_keeps_the_branding_staff_changed():
    call_command("seed_demo", members=5, months=1, stdout=StringIO())
    branding_update(program_name="Our Cafe", primary_color="#123456")

    call_command("seed_demo", members=5, months=1, stdout=StringIO())

    row = Branding.objects.get()
    assert (row.program_name, row.primary_color) == ("Our Cafe", "#123456")


def test_branding_seed_leaves_a_branded_program_alone():
    branding_update(program_name="Our Cafe")

    assert seed_branding.seed() is False
    row = Branding.objects.get()
    assert row.program_name == "Our Cafe"
    assert not row.logo


def test_branding_seed_brands_an_unbranded_program():
    assert seed_branding.seed() is True
    assert seed_branding.seed() is False  # once
    assert branding_get().name == "Zerno Coffee Club"
