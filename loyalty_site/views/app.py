"""The program's own look and the installable card: the stylesheets with the
branding's colours, the web app manifest, its icons and the service worker.

Public (no login), none of them says anything about a member. Stylesheets and
icons are linked with `?v=<branding version>`: a request for the current
version may be cached for a year, since a change of branding changes the link.
The service worker (/sw.js, from static/js/sw.js) is served from the root so
its scope is the whole site; it keeps only the card page (portal.card).
"""

from __future__ import annotations

import json
from functools import cache as memoize

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.http import Http404, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from members.branding import CACHE_SECONDS, Brand, branding_get
from members.images import ImageUnreadable, app_icon_png

ICON_SIZES = (180, 192, 512)  # 180: iOS's home screen; 192, 512: the manifest
MANIFEST_ICON_SIZES = (192, 512)
YEAR = 365 * 24 * 3600
STYLESHEETS = {
    "portal": "members/branding_portal.css",
    "admin": "members/branding_admin.css",
}
SERVICE_WORKER_SOURCE = "js/sw.js"


def _cache_for_version(request, response, brand: Brand) -> None:
    if request.GET.get("v") == brand.version:
        patch_cache_control(response, public=True, max_age=YEAR, immutable=True)
    else:
        patch_cache_control(response, public=True, max_age=300)


@require_GET
def branding_css(request, part: str):
    """The branding's colours over Bootstrap's (portal) or the admin's."""
    template = STYLESHEETS.get(part)
    if template is None:
        raise Http404
    brand = branding_get()
    response = HttpResponse(
        render_to_string(template, {"brand": brand}),
        content_type="text/css; charset=utf-8",
    )
    _cache_for_version(request, response, brand)
    return response


def icon_url(size: int, brand: Brand) -> str:
    return f"{reverse('app_icon', args=[size])}?v={brand.version}"


@require_GET
def manifest(request):
    """The web app manifest: the card page installed as an app, in the
    program's name, colours and icons."""
    brand = branding_get()
    icons = [
        {
            "src": icon_url(size, brand),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": purpose,
        }
        for purpose in ("any", "maskable")
        for size in MANIFEST_ICON_SIZES
    ]
    data = {
        "name": brand.name,
        "short_name": brand.short_name,
        "description": _("Your loyalty card: show it at the till, even offline."),
        "lang": get_language(),
        "start_url": reverse("portal:card"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": brand.primary,
        "icons": icons,
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    # The default name is in the reader's language.
    patch_vary_headers(response, ["Accept-Language", "Cookie"])
    patch_cache_control(response, private=True, max_age=3600)
    return response


def _icon_bytes(size: int, brand: Brand) -> bytes:
    key = f"members:app-icon:{brand.version}:{size}"
    data = cache.get(key)
    if data is not None:
        return data
    logo = None
    if brand.logo_name:
        try:
            with default_storage.open(brand.logo_name, "rb") as stored:
                logo = stored.read()
        except OSError:
            logo = None
    try:
        # A logo is drawn on white, as logos are made to be seen.
        data = (
            app_icon_png(size=size, background="#ffffff", logo=logo)
            if logo
            else app_icon_png(
                size=size, background=brand.primary, foreground=brand.primary_fg
            )
        )
    except ImageUnreadable:
        data = app_icon_png(
            size=size, background=brand.primary, foreground=brand.primary_fg
        )
    cache.set(key, data, CACHE_SECONDS)
    return data


@require_GET
def app_icon(request, size: int):
    """A square PNG icon of the app: the logo, or a drawn card in the colours."""
    if size not in ICON_SIZES:
        raise Http404
    brand = branding_get()
    response = HttpResponse(_icon_bytes(size, brand), content_type="image/png")
    _cache_for_version(request, response, brand)
    return response


@memoize
def _service_worker_source() -> str:
    path = finders.find(SERVICE_WORKER_SOURCE)
    if path is None:  # pragma: no cover - the file ships with the project
        raise Http404
    with open(path, encoding="utf-8") as source:
        return source.read()


@require_GET
def service_worker(request):
    """static/js/sw.js, served at the root so that it may control the card
    page, with the few paths it needs written in front of it."""
    brand = branding_get()
    config = {
        "cardPath": reverse("portal:card"),
        "logoutPath": reverse("logout"),
        # Requests the card page makes that may be answered from the cache.
        "assetPrefixes": [
            settings.STATIC_URL,
            settings.MEDIA_URL,
            reverse("branding_css", args=["portal"]).rsplit("/", 1)[0] + "/",
            reverse("app_icon", args=[192]).rsplit("/", 1)[0] + "/",
        ],
        "brandVersion": brand.version,
        # What a web push notification shows when its payload does not say.
        "programName": brand.name,
        "iconUrl": icon_url(192, brand),
    }
    body = f"const CONFIG = {json.dumps(config)};\n{_service_worker_source()}"
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    # Browsers check for a new worker on every visit; never a stale one.
    patch_cache_control(response, no_cache=True, max_age=0)
    return response
