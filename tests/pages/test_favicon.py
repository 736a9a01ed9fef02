"""Every page has the site's icon: each base template links one that the static
files finder resolves, and /favicon.ico (asked for by browsers on their own)
leads to it instead of a 404."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse

pytestmark = pytest.mark.django_db

ICON_RE = re.compile(r'<link rel="icon" href="([^"]+)"')


def _icon_path(html: str) -> str:
    """The static path of the page's icon; fails when it links none."""
    hrefs = ICON_RE.findall(html)
    assert len(hrefs) == 1, "the page links no icon (or several)"
    prefix = "/" + settings.STATIC_URL.lstrip("/")
    assert hrefs[0].startswith(prefix)
    return hrefs[0][len(prefix) :]


@pytest.mark.parametrize(
    ("base", "url"),
    [
        ("base.html (customer pages)", "login"),
        ("admin/base_site.html (admin)", "admin:login"),
        # drf-spectacular's page links Swagger's own icon, from the sidecar's
        # static files. (The till API renders JSON only: no browsable API.)
        ("drf_spectacular/swagger_ui.html (API docs)", "api-v1:docs"),
    ],
)
def test_each_base_template_links_an_icon_the_finder_resolves(client, base, url):
    response = client.get(reverse(url))
    assert response.status_code == 200, base
    assert response["Content-Type"].startswith("text/html"), base
    path = _icon_path(response.content.decode())
    assert finders.find(path), f"{base}: {path} is not a static file"


def test_a_new_base_template_cannot_forget_the_icon():
    """Any template of ours that opens an HTML head links the icon too (but an
    email's layout, templates/*/email/: a mail client shows no tab icon)."""
    heads = [
        path
        for path in Path(settings.BASE_DIR, "templates").rglob("*.html")
        if "<head" in path.read_text(encoding="utf-8") and "email" not in path.parts
    ]
    assert heads, "no base template found"
    for path in heads:
        assert 'rel="icon"' in path.read_text(encoding="utf-8"), path


def test_favicon_ico_leads_to_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    prefix = "/" + settings.STATIC_URL.lstrip("/")
    assert response["Location"] == f"{prefix}img/favicon.svg"
    assert finders.find("img/favicon.svg")


def test_the_icon_is_a_small_svg():
    source = Path(finders.find("img/favicon.svg")).read_text(encoding="utf-8")
    assert source.startswith("<svg") and 'viewBox="0 0 32 32"' in source
    assert len(source) < 1024
