"""Pictures made with Pillow: fixed-size thumbnails of uploaded images (reward
pictures) and the square app icons of the installable card (from the logo, or
drawn when there is none).

Every function takes an open file or bytes and returns the new picture's bytes;
storing them is the caller's (a service) business.
"""

from __future__ import annotations

import io
import math
from typing import IO

from PIL import Image, ImageDraw, ImageOps

# Bigger uploads are refused before Pillow decodes them (decompression bombs
# raise long before this; this keeps an honest 40-megapixel photo out too).
MAX_SOURCE_PIXELS = 30_000_000


class ImageUnreadable(ValueError):
    """The upload is not a picture Pillow can read, or it is too large."""


def _open(source: IO[bytes] | bytes) -> Image.Image:
    stream = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    if hasattr(stream, "seek"):
        stream.seek(0)
    try:
        image = Image.open(stream)
        if image.width * image.height > MAX_SOURCE_PIXELS:
            raise ImageUnreadable("too many pixels")
        image.load()
    except (OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageUnreadable(str(exc)) from exc
    # Phone photos are stored sideways with an EXIF note saying so.
    return ImageOps.exif_transpose(image)


def _flatten(image: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    """RGB, transparent parts on `background` (JPEG has no alpha)."""
    if image.mode in ("RGBA", "LA") or (
        image.mode == "P" and "transparency" in image.info
    ):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, background)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


def thumbnail_jpeg(
    source: IO[bytes] | bytes,
    size: tuple[int, int],
    *,
    background: tuple[int, int, int] = (255, 255, 255),
    quality: int = 82,
) -> bytes:
    """`source` cropped to fill exactly `size` (centred), as a JPEG."""
    image = _flatten(_open(source), background)
    fitted = ImageOps.fit(image, size, method=Image.Resampling.LANCZOS)
    out = io.BytesIO()
    fitted.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
    return out.getvalue()


def _hex(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def app_icon_png(
    *,
    size: int,
    background: str,
    foreground: str = "#ffffff",
    logo: IO[bytes] | bytes | None = None,
) -> bytes:
    """A square PNG icon of `size` pixels on the `background` colour: the logo
    contained in the middle 70 % (inside the safe zone of a "maskable" icon,
    which a phone may crop to a circle), or a drawn loyalty card."""
    canvas = Image.new("RGBA", (size, size), (*_hex(background), 255))
    if logo is not None:
        picture = _open(logo).convert("RGBA")
        inner = round(size * 0.7)
        picture = ImageOps.contain(
            picture, (inner, inner), method=Image.Resampling.LANCZOS
        )
        offset = ((size - picture.width) // 2, (size - picture.height) // 2)
        canvas.alpha_composite(picture, offset)
    else:
        _draw_card(canvas, background=_hex(background), foreground=_hex(foreground))
    out = io.BytesIO()
    canvas.save(out, "PNG", optimize=True)
    return out.getvalue()


def _draw_card(
    canvas: Image.Image,
    *,
    background: tuple[int, int, int],
    foreground: tuple[int, int, int],
) -> None:
    """A card with a stripe and a star, in the middle 64 % of the canvas."""
    size = canvas.width
    draw = ImageDraw.Draw(canvas)
    left, right = round(size * 0.18), round(size * 0.82)
    top, bottom = round(size * 0.30), round(size * 0.70)
    draw.rounded_rectangle(
        (left, top, right, bottom), radius=round(size * 0.06), fill=foreground
    )
    stripe = round(size * 0.07)
    draw.rectangle(
        (left, top + stripe, right, top + 2 * stripe), fill=(*background, 255)
    )
    # A five-pointed star in the card's lower right.
    cx, cy = right - round(size * 0.14), bottom - round(size * 0.11)
    outer, inner = size * 0.075, size * 0.032
    points = []
    for i in range(10):
        radius = outer if i % 2 == 0 else inner
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    draw.polygon(points, fill=(*background, 255))
