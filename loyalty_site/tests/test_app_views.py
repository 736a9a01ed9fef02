"""The installable card's files: the manifest, its icons and the service
worker, in the program's branding, public and cached as they should be."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from members.branding import branding_cache_clear, branding_get
from members.services import branding_update

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_branding():
    branding_cache_clear()
    yield
    branding_cache_clear()


def _image(response) -> Image.Image:
    return Image.open(io.BytesIO(response.content))


def test_manifest_is_the_card_as_an_app_in_the_programs_name(client):
    branding_update(
        program_name="Кавовий клуб", short_name="Кава", primary_color="#8b4513"
    )
    response = client.get(reverse("manifest"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    data = json.loads(response.content)
    assert data["name"] == "Кавовий клуб"
    assert data["short_name"] == "Кава"
    assert data["start_url"] == reverse("portal:card")
    assert data["scope"] == "/"
    assert data["display"] == "standalone"
    assert data["theme_color"] == "#8b4513"
    assert "Кавовий клуб".encode() in response.content  # UTF-8, not \u escapes
    version = branding_get().version
    for icon in data["icons"]:
        assert icon["src"].endswith(f"?v={version}")
        assert icon["purpose"] in ("any", "maskable")
        png = client.get(icon["src"])
        assert png.status_code == 200
        assert png["Content-Type"] == "image/png"
        assert f"{_image(png).width}x{_image(png).height}" == icon["sizes"]
    assert {i["sizes"] for i in data["icons"]} == {"192x192", "512x512"}


def test_the_default_name_is_in_the_readers_language(client, settings):
    response = client.get(reverse("manifest"), HTTP_ACCEPT_LANGUAGE="en")
    assert json.loads(response.content)["name"] == "Loyalty club"
    assert "Accept-Language" in response["Vary"]


def test_icons_without_a_logo_are_drawn_in_the_primary_colour(client):
    branding_update(primary_color="#8b4513")
    icon = _image(client.get(reverse("app_icon", args=[192])))
    assert icon.size == (192, 192)
    assert icon.convert("RGB").getpixel((4, 4)) == (139, 69, 19)


def test_icons_show_the_logo_on_white(client):
    logo = io.BytesIO()
    Image.new("RGB", (300, 100), (0, 128, 0)).save(logo, "PNG")
    branding_update(
        logo=SimpleUploadedFile("logo.png", logo.getvalue(), content_type="image/png")
    )
    icon = _image(client.get(reverse("app_icon", args=[512]))).convert("RGB")
    assert icon.getpixel((4, 4)) == (255, 255, 255)
    assert icon.getpixel((256, 256)) == (0, 128, 0)


def test_icons_of_the_current_version_are_cached_for_a_year(client):
    version = branding_get().version
    current = client.get(reverse("app_icon", args=[192]), {"v": version})
    assert "max-age=31536000" in current["Cache-Control"]
    assert "immutable" in current["Cache-Control"]
    stale = client.get(reverse("app_icon", args=[192]), {"v": "old"})
    assert "max-age=300" in stale["Cache-Control"]
    assert client.get(reverse("app_icon", args=[64])).status_code == 404


def test_the_service_worker_is_served_from_the_root_with_its_paths(client):
    response = client.get(reverse("service_worker"))

    assert reverse("service_worker") == "/sw.js"
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"]
    first_line, source = response.text.split("\n", 1)
    config = json.loads(first_line.removeprefix("const CONFIG = ").rstrip(";"))
    assert config["cardPath"] == reverse("portal:card")
    assert config["logoutPath"] == reverse("logout")
    assert "/static/" in config["assetPrefixes"]
    assert 'addEventListener("fetch"' in source


def test_the_policy_allows_the_manifest_and_worker_from_our_origin(client):
    policy = client.get(reverse("login"))["Content-Security-Policy"]
    assert "manifest-src 'self'" in policy
    assert "worker-src 'self'" in policy
