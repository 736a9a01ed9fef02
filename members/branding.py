"""The program's branding as pages, emails and the app manifest read it.

    Branding row (admin) ──save──▶ cache key cleared (now and on commit)
    branding_get() ── this request's copy ─▶ the shared cache ─▶ the row (once)

One row (members.models.Branding) read through the shared cache, so a page
gains no query for it: the row is read once after each change, by whichever
process asks first. Within a request (and for a few seconds in a worker, which
has no requests) the copy is kept in the thread, so a page that renders many
templates reads the cache once. Saving the row clears the cache entry on every
path (signals, which this project uses for cache invalidation only).

Colours are computed here for the stylesheets (templates/members/branding_*.css):
the text colour that reads on each brand colour, and the darker and lighter
shades Bootstrap derives from its own primary.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.core.cache import cache
from django.core.files.storage import default_storage
from django.core.signals import request_started
from django.templatetags.static import static
from django.utils.translation import gettext

from members.invalidation import forget_now_and_on_commit
from members.models import Branding
from members.models.branding import DEFAULT_PRIMARY, DEFAULT_SECONDARY
from members.singletons import singleton_read

# Part of the version that the stylesheet and icon links carry (browsers keep
# them for a year): raise it when templates/members/branding_*.css or the icon
# drawing (members.images) change, so browsers fetch the new ones.
ASSETS_REVISION = 1
CACHE_KEY = f"members:branding:v1:{ASSETS_REVISION}"
CACHE_SECONDS = 24 * 3600  # cleared on every save; the timeout only bounds drift
LOCAL_SECONDS = 5.0  # a worker's copy (no request to clear it)
DEFAULT_FAVICON = "img/favicon.svg"
ICON_TYPES = {".png": "image/png", ".ico": "image/x-icon", ".svg": "image/svg+xml"}

COLOUR_RE = re.compile(r"#[0-9a-fA-F]{6}")

_local = threading.local()


@dataclass(frozen=True)
class Brand:
    """What the branding row says, with the defaults filled in at use (the
    default name is translated into the reader's language)."""

    program_name: str = ""
    short_name_set: str = ""
    logo_name: str = ""
    favicon_name: str = ""
    primary: str = DEFAULT_PRIMARY
    secondary: str = DEFAULT_SECONDARY
    version: str = "0"

    @property
    def name(self) -> str:
        return self.program_name or gettext("Loyalty club")

    @property
    def short_name(self) -> str:
        return self.short_name_set or self.name

    @property
    def logo_url(self) -> str:
        return default_storage.url(self.logo_name) if self.logo_name else ""

    @property
    def favicon_url(self) -> str:
        if self.favicon_name:
            return default_storage.url(self.favicon_name)
        return static(DEFAULT_FAVICON)

    @property
    def favicon_type(self) -> str:
        suffix = PurePosixPath(self.favicon_name or DEFAULT_FAVICON).suffix.lower()
        return ICON_TYPES.get(suffix, "image/png")

    # Colours for the stylesheets: "r, g, b" triples and hex shades.
    @property
    def primary_rgb(self) -> str:
        return rgb_text(self.primary)

    @property
    def secondary_rgb(self) -> str:
        return rgb_text(self.secondary)

    @property
    def primary_fg(self) -> str:
        return readable_on(self.primary)

    @property
    def secondary_fg(self) -> str:
        return readable_on(self.secondary)

    @property
    def primary_fg_rgb(self) -> str:
        return rgb_text(self.primary_fg)

    @property
    def primary_hover(self) -> str:
        return mix(self.primary, "#000000", 0.15)

    @property
    def primary_active(self) -> str:
        return mix(self.primary, "#000000", 0.20)

    @property
    def primary_active_border(self) -> str:
        return mix(self.primary, "#000000", 0.25)

    @property
    def primary_text_emphasis(self) -> str:
        return mix(self.primary, "#000000", 0.60)

    @property
    def primary_bg_subtle(self) -> str:
        return mix(self.primary, "#ffffff", 0.80)

    @property
    def primary_border_subtle(self) -> str:
        return mix(self.primary, "#ffffff", 0.60)

    @property
    def secondary_hover(self) -> str:
        return mix(self.secondary, "#000000", 0.15)

    @property
    def secondary_active(self) -> str:
        return mix(self.secondary, "#000000", 0.20)


def rgb(colour: str) -> tuple[int, int, int]:
    """(r, g, b) of "#rrggbb"."""
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def rgb_text(colour: str) -> str:
    return ", ".join(str(c) for c in rgb(colour))


def mix(colour: str, other: str, weight: float) -> str:
    """`colour` with `weight` of `other` mixed in (Sass's shade-/tint-color)."""
    mixed = (
        round(a * (1 - weight) + b * weight)
        for a, b in zip(rgb(colour), rgb(other), strict=True)
    )
    return "#" + "".join(f"{c:02x}" for c in mixed)


def _luminance(colour: str) -> float:
    """WCAG 2 relative luminance."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def readable_on(background: str) -> str:
    """White or near-black text, whichever reads better on `background`.
    White wins ties up to 4.5:1, as Bootstrap's own primary button has it."""
    white, dark = "#ffffff", "#212529"
    if contrast(background, white) >= 4.5:
        return white
    return white if contrast(background, white) >= contrast(background, dark) else dark


def _colour(value: str, default: str) -> str:
    return value.lower() if COLOUR_RE.fullmatch(value or "") else default


def _row_values() -> dict:
    row = singleton_read(Branding)
    values = {
        "program_name": row.program_name,
        "short_name_set": row.short_name,
        "logo_name": row.logo.name if row.logo else "",
        "favicon_name": row.favicon.name if row.favicon else "",
        # Stylesheets are written from these: a row saved past validation
        # (a queryset update) falls back to the defaults.
        "primary": _colour(row.primary_color, DEFAULT_PRIMARY),
        "secondary": _colour(row.secondary_color, DEFAULT_SECONDARY),
    }
    stamp = "|".join(
        [*values.values(), str(row.updated_at or ""), str(ASSETS_REVISION)]
    )
    values["version"] = hashlib.sha256(stamp.encode()).hexdigest()[:10]
    return values


def branding_get() -> Brand:
    """The program's branding: this request's copy, else the shared cache's,
    else the row (then cached). Reads at most one row, once per change."""
    held = getattr(_local, "brand", None)
    if held is not None and time.monotonic() - held[1] < LOCAL_SECONDS:
        return held[0]
    values = cache.get(CACHE_KEY)
    if values is None:
        values = _row_values()
        cache.set(CACHE_KEY, values, CACHE_SECONDS)
    brand = Brand(**values)
    _local.brand = (brand, time.monotonic())
    return brand


def branding_cache_clear(**_kwargs) -> None:
    """Forget the cached branding in this thread and in the shared cache."""
    _local.__dict__.pop("brand", None)
    cache.delete(CACHE_KEY)


def branding_changed(**_kwargs) -> None:
    """After a save: clear now, and again on commit, so a reader that cached the
    old row between the save and the commit does not keep it."""
    forget_now_and_on_commit(branding_cache_clear)


def branding_cache_set_defaults() -> None:
    """Cache the default branding without reading the row: what a database
    fresh from its migrations holds. The test suite starts every test so, so
    that query counts measure pages as they run once the cache is warm."""
    _local_clear()
    values = {
        "program_name": "",
        "short_name_set": "",
        "logo_name": "",
        "favicon_name": "",
        "primary": DEFAULT_PRIMARY,
        "secondary": DEFAULT_SECONDARY,
    }
    values["version"] = hashlib.sha256(
        "|".join([*values.values(), str(ASSETS_REVISION)]).encode()
    ).hexdigest()[:10]
    cache.set(CACHE_KEY, values, CACHE_SECONDS)


def _local_clear(**_kwargs) -> None:
    _local.__dict__.pop("brand", None)


request_started.connect(_local_clear, dispatch_uid="members_branding_local")
