"""Every page a customer or a visitor sees is in the program's branding: its
name in the title, its stylesheet, its manifest, and no page pays a query for it.
Walked from the resolver, so a page added later is checked too."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from members.branding import branding_cache_clear, branding_get
from members.models import Branding
from members.services import branding_update
from tests.pages.test_url_inventory import CUSTOMER, PUBLIC
from tests.url_walk import url_routes

pytestmark = pytest.mark.django_db


def _pages_without_arguments() -> list[str]:
    return sorted(
        "/" + route
        for route, name, _pattern in url_routes()
        if (name in CUSTOMER or name in PUBLIC)
        and "<" not in route
        and not route.startswith(("admin/", "api/"))
    )


def test_every_portal_page_carries_the_branding_and_reads_no_row(client, customer):
    branding_cache_clear()
    branding_update(program_name="Coffee Club", primary_color="#8b4513")
    brand = branding_get()
    user, _member = customer
    client.force_login(user)
    table = Branding._meta.db_table

    html_pages = 0
    for path in _pages_without_arguments():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        if response.status_code != 200 or "text/html" not in response.get(
            "Content-Type", ""
        ):
            continue
        html = response.text
        if "<head" not in html:
            continue
        html_pages += 1
        assert "· Coffee Club</title>" in html, path
        assert f"/branding/portal.css?v={brand.version}" in html, path
        assert '<link rel="manifest"' in html, path
        assert '<meta name="theme-color" content="#8b4513">' in html, path
        assert not any(table in q["sql"] for q in queries.captured_queries), path
    assert html_pages >= 15, html_pages  # the walk reaches the portal
